#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64
#include <granule/driver_abi.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

GRANULE_DRIVER_EXPORT const struct granule_driver *granule_driver_entry(void);

static const struct granule_option_desc options[] = {
    {"filename", GRANULE_OPT_STRING, GRANULE_OPTF_REQUIRED, "path of a regular file"},
};

static int x_open(const struct granule_open_args *args, struct granule_open_result *out,
                  char *err, size_t errlen)
{
    const char *filename = args->options[0].value; /* the only key; the host checked it */
    int fd = open(filename, (args->flags & GRANULE_OPEN_READ_ONLY ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    int *state = malloc(sizeof *state);
    if (fd < 0 || !state) {
        int e = fd < 0 ? errno : ENOMEM;
        snprintf(err, errlen, "cannot open '%s': %s", filename, strerror(e));
        if (fd >= 0)
            close(fd);
        free(state);
        return -e;
    }
    *state = fd;
    out->flags = 0;     /* fixed size: a growable node also needs truncate (example_c.c) */
    out->state = state; /* handed back to every hook */
    return 0;
}

static void x_close(void *state) { close(*(int *)state); free(state); }

static int64_t x_length(void *state)
{
    struct stat st;
    return fstat(*(int *)state, &st) == 0 ? (int64_t)st.st_size : -errno;
}

static int x_submit(void *state, const struct granule_request *req, granule_completion_fn cb,
                    void *opaque)
{
    uint64_t done = 0;
    for (uint32_t i = 0; i < req->iovcnt; i++) {
        uint64_t n = 0;
        while (n < req->iov[i].len) {
            char *p = (char *)req->iov[i].base + n;
            off_t at = (off_t)(req->offset + done);
            ssize_t r = req->op == GRANULE_OP_READ ? pread(*(int *)state, p, req->iov[i].len - n, at)
                                                   : pwrite(*(int *)state, p, req->iov[i].len - n, at);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 || (r == 0 && req->op != GRANULE_OP_READ)) {
                int e = r < 0 ? errno : EIO;
                char msg[160];     /* valid during the call only: the stack will do */
                snprintf(msg, sizeof msg, "minimal: %s at offset %" PRIu64 ": %s",
                         req->op == GRANULE_OP_READ ? "read" : "write", req->offset + done, strerror(e));
                cb(opaque, -e, msg);
                return 0;
            }
            if (r == 0) {                  /* end of file: complete short */
                cb(opaque, (int64_t)done, NULL);
                return 0;
            }
            n += (uint64_t)r;
            done += (uint64_t)r;
        }
    }
    cb(opaque, (int64_t)done, NULL);       /* exactly once; inline is allowed */
    return 0;
}

static const struct granule_driver driver = {
    .struct_size = sizeof(struct granule_driver),
    .abi_version = GRANULE_DRIVER_ABI_VERSION,
    .name = "minimal",
    .description = "regular file through pread/pwrite (the guide's skeleton)",
    .options = options,
    .n_options = 1,
    .open = x_open, .close = x_close, .length = x_length, .submit = x_submit,
};

const struct granule_driver *granule_driver_entry(void) { return &driver; }
