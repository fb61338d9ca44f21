/*
 * example-c: a file-backed Granule driver in plain C11 + POSIX, built out of
 * tree against an installed Granule (docs/plugin-authoring.md walks through it).
 *
 *   driver=example-c,filename=disk.img[,read-only=on]
 *
 * The file is byte-granular (no O_DIRECT), so the driver leaves every
 * alignment at 1 and the core sends requests as the caller made them. Every
 * request completes inline, inside submit/flush: the ABI allows it, and it
 * keeps the example short. The price is that a slow pread stalls the
 * device's thread, and every other request with it; a production driver
 * hands the syscalls to threads of its own and completes from there.
 */
#define _POSIX_C_SOURCE 200809L /* pread, pwrite, fdatasync, strdup, XSI strerror_r */
#define _FILE_OFFSET_BITS 64    /* 64-bit off_t on 32-bit systems too */

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

/* Largest single pread/pwrite: Linux moves at most ~2 GiB per call anyway,
 * and it keeps the count below SSIZE_MAX on every system. */
#define EXAMPLE_MAX_STEP ((uint64_t)1 << 30)

/* strerror may share one buffer between threads, and two devices may run
 * this driver on two threads: the XSI strerror_r (what _POSIX_C_SOURCE
 * selects) writes into the caller's buffer. */
struct errtext {
    char text[128];
};
static struct errtext errtext(int e)
{
    struct errtext t;
    if (strerror_r(e, t.text, sizeof t.text) != 0)
        snprintf(t.text, sizeof t.text, "error %d", e);
    return t;
}

struct example_node {
    int fd;
    int read_only;
    char *filename; /* ours: option strings are valid during open only */
};

static const struct granule_option_desc example_options[] = {
    {"filename", GRANULE_OPT_STRING, GRANULE_OPTF_REQUIRED, "path of a regular file"},
    {"read-only", GRANULE_OPT_BOOL, 0, "open the file read-only (off)"},
};

static int example_open(const struct granule_open_args *args, struct granule_open_result *out,
                        char *err, size_t errlen)
{
    /* The host has validated the keys and normalised BOOL values to on/off;
     * filename is present because it is declared REQUIRED. The current host
     * takes read-only=on itself (on any node) and passes it as
     * GRANULE_OPEN_READ_ONLY, so the option rarely arrives: honour both. */
    const char *filename = NULL;
    int read_only = (args->flags & GRANULE_OPEN_READ_ONLY) != 0;
    for (uint32_t i = 0; i < args->n_options; i++) {
        const struct granule_option *o = &args->options[i];
        if (strcmp(o->key, "filename") == 0)
            filename = o->value;
        else if (strcmp(o->key, "read-only") == 0 && strcmp(o->value, "on") == 0)
            read_only = 1;
    }
    if (!filename || !*filename) {
        snprintf(err, errlen, "option 'filename': empty");
        return -EINVAL;
    }

    int fd = open(filename, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot open '%s'%s: %s", filename, read_only ? " read-only" : "",
                 errtext(e).text);
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        snprintf(err, errlen, "cannot stat '%s': %s", filename, errtext(e).text);
        close(fd);
        return -e;
    }
    /* A block device's st_size is 0 and it cannot be truncated. */
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "'%s' is not a regular file", filename);
        close(fd);
        return -EINVAL;
    }

    struct example_node *n = malloc(sizeof *n);
    char *name = strdup(filename);
    if (!n || !name) {
        free(n);
        free(name);
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    n->fd = fd;
    n->read_only = read_only;
    n->filename = name;
    /* A file grows when written past its end; the host then trims any
     * alignment padding with truncate. A read-only node never grows. FUA:
     * example_transfer makes a FUA write durable with fdatasync. */
    out->flags = (read_only ? GRANULE_NODE_READ_ONLY : GRANULE_NODE_GROWABLE) | GRANULE_NODE_FUA;
    out->state = n;
    return 0;
}

/* The host closes only with no request in flight: nothing to wait for. */
static void example_close(void *state)
{
    struct example_node *n = state;
    close(n->fd);
    free(n->filename);
    free(n);
}

static int64_t example_length(void *state)
{
    const struct example_node *n = state;
    struct stat st;
    if (fstat(n->fd, &st) != 0)
        return -errno;
    return (int64_t)st.st_size;
}

/* Byte-granular: the alignments stay what the host passed in (1, no
 * children). Only a preference is added: the filesystem's block size, with
 * where it came from (a static string: it must outlive this call). */
static int example_refresh_limits(void *state, struct granule_limits *limits, char *err,
                                  size_t errlen)
{
    const struct example_node *n = state;
    struct stat st;
    if (fstat(n->fd, &st) != 0) {
        int e = errno;
        snprintf(err, errlen, "cannot stat '%s': %s", n->filename, errtext(e).text);
        return -e;
    }
    if (limits->opt_transfer.value == 0 && st.st_blksize > 0) {
        limits->opt_transfer.value = (uint64_t)st.st_blksize;
        limits->opt_transfer.source = "fstat st_blksize";
    }
    return 0;
}

/* Moves the whole request, looping over partial transfers and EINTR.
 * Returns the bytes moved (short only for a read at end of file) or -errno. */
static int64_t example_transfer(const struct example_node *n, const struct granule_request *req)
{
    const int is_read = req->op == GRANULE_OP_READ;
    uint64_t done = 0;
    for (uint32_t i = 0; i < req->iovcnt; i++) {
        char *base = req->iov[i].base;
        uint64_t left = req->iov[i].len;
        while (left > 0) {
            size_t step = (size_t)(left < EXAMPLE_MAX_STEP ? left : EXAMPLE_MAX_STEP);
            off_t at = (off_t)(req->offset + done);
            ssize_t r = is_read ? pread(n->fd, base, step, at) : pwrite(n->fd, base, step, at);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            if (r == 0) {
                if (is_read)
                    return (int64_t)done; /* end of file: the host zero-fills the rest */
                return -EIO;              /* pwrite of 0 bytes: nothing we can retry */
            }
            base += r;
            left -= (uint64_t)r;
            done += (uint64_t)r;
        }
    }
    if (!is_read && (req->flags & GRANULE_REQ_FUA) && fdatasync(n->fd) != 0)
        return -errno;
    return (int64_t)done;
}

static int example_submit(void *state, const struct granule_request *req,
                          granule_completion_fn cb, void *opaque)
{
    const struct example_node *n = state;
    char msg[512];
    const char *what = req->op == GRANULE_OP_READ ? "read" : "write";

    /* Refusals go through the completion too (returning 0 = accepted): the
     * completion carries a message, a bare -errno from submit does not. */
    if (req->op != GRANULE_OP_READ && req->op != GRANULE_OP_WRITE) {
        snprintf(msg, sizeof msg, "example-c: unknown op %" PRIu32, req->op);
        cb(opaque, -EINVAL, msg);
        return 0;
    }
    if (req->op == GRANULE_OP_WRITE && n->read_only) {
        snprintf(msg, sizeof msg, "example-c: '%s' is open read-only", n->filename);
        cb(opaque, -EROFS, msg);
        return 0;
    }
    if (req->offset > (uint64_t)INT64_MAX || req->length > (uint64_t)INT64_MAX - req->offset) {
        snprintf(msg, sizeof msg,
                 "example-c: %s at offset %" PRIu64 ", length %" PRIu64 " is past the largest file offset",
                 what, req->offset, req->length);
        cb(opaque, -EINVAL, msg);
        return 0;
    }

    int64_t r = example_transfer(n, req);
    if (r < 0) {
        snprintf(msg, sizeof msg, "example-c: %s of %" PRIu64 " bytes at offset %" PRIu64 " %s '%s': %s",
                 what, req->length, req->offset, req->op == GRANULE_OP_READ ? "from" : "to",
                 n->filename, errtext((int)-r).text);
        cb(opaque, r, msg);
    } else {
        cb(opaque, r, NULL); /* inline completion, exactly once */
    }
    return 0;
}

/* flags: none are defined for flush yet (always 0). */
static void example_flush(void *state, uint32_t flags, granule_completion_fn cb, void *opaque)
{
    const struct example_node *n = state;
    (void)flags;
    if (fsync(n->fd) != 0) {
        int e = errno;
        char msg[512];
        snprintf(msg, sizeof msg, "example-c: fsync of '%s': %s", n->filename, errtext(e).text);
        cb(opaque, -e, msg);
        return;
    }
    cb(opaque, 0, NULL);
}

static int example_truncate(void *state, uint64_t length, char *err, size_t errlen)
{
    const struct example_node *n = state;
    if (n->read_only) {
        snprintf(err, errlen, "example-c: '%s' is open read-only", n->filename);
        return -EROFS;
    }
    if (length > (uint64_t)INT64_MAX) {
        snprintf(err, errlen, "example-c: length %" PRIu64 " is past the largest file offset", length);
        return -EINVAL;
    }
    if (ftruncate(n->fd, (off_t)length) != 0) {
        int e = errno;
        snprintf(err, errlen, "example-c: truncate '%s' to %" PRIu64 ": %s", n->filename, length,
                 errtext(e).text);
        return -e;
    }
    return 0;
}

static void example_info(void *state, char *buf, size_t buflen)
{
    const struct example_node *n = state;
    snprintf(buf, buflen, "filename: %s\nread-only: %s", n->filename, n->read_only ? "on" : "off");
}

/* discard, write_zeroes and block_status stay NULL (unsupported): the host
 * then writes zero buffers, skips discards and treats everything as data. */
static const struct granule_driver example_driver = {
    .struct_size = sizeof(struct granule_driver),
    .abi_version = GRANULE_DRIVER_ABI_VERSION,
    .name = "example-c",
    .description = "regular file through pread/pwrite (out-of-tree C example)",
    .options = example_options,
    .n_options = sizeof example_options / sizeof example_options[0],
    .open = example_open,
    .close = example_close,
    .length = example_length,
    .refresh_limits = example_refresh_limits,
    .submit = example_submit,
    .flush = example_flush,
    .truncate = example_truncate,
    .info = example_info,
};

const struct granule_driver *granule_driver_entry(void) { return &example_driver; }
