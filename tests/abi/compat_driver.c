/*
 * A RAM driver that models a driver of ANOTHER minor version of the ABI, for
 * tests/abi/tst_abi_compat.cpp. One source, two builds:
 *
 *   COMPAT_NEWER  "compat-newer": claims ABI 1.7 and a table longer than the
 *                 host's, whose extra hooks abort if ever called; writes a
 *                 "1.7 limit" into the reserved space of granule_limits (the
 *                 host must ignore it); enforces 512-byte requests, so the
 *                 host's padding runs through it.
 *   COMPAT_SHORT  "compat-short": claims ABI 1.0 with struct_size ending at
 *                 the mandatory hooks (what a driver built before the later
 *                 hooks existed looks like); every hook past that struct_size
 *                 aborts if ever called, so the host must zero-fill, not read
 *                 past the size it was told.
 *
 * Both store bytes, so the test checks real data through them.
 */
#include <granule/driver_abi.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

GRANULE_DRIVER_EXPORT const struct granule_driver *granule_driver_entry(void);

#define COMPAT_SIZE (1u << 20)
#define COMPAT_SECTOR 512u

struct compat_node {
    unsigned char *data;
    uint32_t host_abi; /* what granule_host said */
};

/* A hook the host must never call: the test dies loudly if it does. */
static void trap(const char *what)
{
    fprintf(stderr, "compat driver: the host called %s, which it must not see\n", what);
    abort();
}

static int compat_open(const struct granule_open_args *args, struct granule_open_result *out,
                       char *err, size_t errlen)
{
    struct compat_node *n = calloc(1, sizeof *n);
    if (n)
        n->data = calloc(1, COMPAT_SIZE);
    if (!n || !n->data) {
        if (n)
            free(n);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    n->host_abi = args->host ? args->host->abi_version : 0;
    out->flags = 0;
    out->state = n;
    return 0;
}

static void compat_close(void *state)
{
    struct compat_node *n = state;
    free(n->data);
    free(n);
}

static int64_t compat_length(void *state)
{
    (void)state;
    return COMPAT_SIZE;
}

static int compat_submit(void *state, const struct granule_request *req, granule_completion_fn cb,
                         void *opaque)
{
    struct compat_node *n = state;
    if (req->offset > COMPAT_SIZE || req->length > COMPAT_SIZE - req->offset) {
        cb(opaque, -EINVAL, "compat: request past the end");
        return 0;
    }
#ifdef COMPAT_NEWER
    if (req->offset % COMPAT_SECTOR || req->length % COMPAT_SECTOR) {
        cb(opaque, -EINVAL, "compat-newer: request not a multiple of 512 bytes");
        return 0;
    }
#endif
    uint64_t pos = req->offset;
    for (uint32_t i = 0; i < req->iovcnt; i++) {
        if (req->op == GRANULE_OP_READ)
            memcpy(req->iov[i].base, n->data + pos, (size_t)req->iov[i].len);
        else
            memcpy(n->data + pos, req->iov[i].base, (size_t)req->iov[i].len);
        pos += req->iov[i].len;
    }
    cb(opaque, (int64_t)req->length, NULL);
    return 0;
}

#ifdef COMPAT_NEWER
static int compat_refresh_limits(void *state, struct granule_limits *l, char *err, size_t errlen)
{
    (void)state;
    (void)err;
    (void)errlen;
    granule_limit_raise(&l->request_alignment, COMPAT_SECTOR, "sector");
    /* A limit of a future minor version, in what 1.1 calls reserved space:
     * an older host must not look at it. */
    l->reserved[6].value = 12345;
    l->reserved[6].source = "a 1.7 limit";
    return 0;
}

static void compat_flush(void *state, uint32_t flags, granule_completion_fn cb, void *opaque)
{
    (void)state;
    cb(opaque, flags ? -EINVAL : 0, flags ? "compat-newer: flush with flags" : NULL);
}

static void compat_info(void *state, char *buf, size_t buflen)
{
    const struct compat_node *n = state;
    snprintf(buf, buflen, "host abi: %u.%u", (unsigned)GRANULE_ABI_MAJOR_OF(n->host_abi),
             (unsigned)GRANULE_ABI_MINOR_OF(n->host_abi));
}

static void future_hook(void) { trap("a 1.7 hook"); }

/* The table of a 1.7 driver: 1.1's, then hooks the host does not know. */
static const struct {
    struct granule_driver d;
    void (*future[4])(void);
} compat_driver = {
    .d =
        {
            .struct_size = sizeof compat_driver,
            .abi_version = GRANULE_ABI_VERSION(1, 7),
            .name = "compat-newer",
            .description = "a driver of a newer minor version (tests/abi)",
            .open = compat_open,
            .close = compat_close,
            .length = compat_length,
            .submit = compat_submit,
            .refresh_limits = compat_refresh_limits,
            .flush = compat_flush,
            .info = compat_info,
        },
    .future = {future_hook, future_hook, future_hook, future_hook},
};
#define COMPAT_TABLE (&compat_driver.d)
#endif

#ifdef COMPAT_SHORT
static int trap_refresh_limits(void *s, struct granule_limits *l, char *e, size_t n)
{
    (void)s, (void)l, (void)e, (void)n;
    trap("refresh_limits");
    return 0;
}
static void trap_flush(void *s, uint32_t f, granule_completion_fn cb, void *o)
{
    (void)s, (void)f, (void)cb, (void)o;
    trap("flush");
}
static void trap_zeroes(void *s, uint64_t a, uint64_t b, uint32_t f, granule_completion_fn cb,
                        void *o)
{
    (void)s, (void)a, (void)b, (void)f, (void)cb, (void)o;
    trap("write_zeroes");
}
static void trap_info(void *s, char *b, size_t n)
{
    (void)s, (void)b, (void)n;
    trap("info");
}

/* Hooks past struct_size are set to traps: the host must copy only
 * struct_size bytes and treat the rest as NULL. */
static const struct granule_driver compat_driver = {
    .struct_size = offsetof(struct granule_driver, refresh_limits),
    .abi_version = GRANULE_ABI_VERSION(1, 0),
    .name = "compat-short",
    .description = "a driver whose table ends at the mandatory hooks (tests/abi)",
    .open = compat_open,
    .close = compat_close,
    .length = compat_length,
    .submit = compat_submit,
    .refresh_limits = trap_refresh_limits,
    .flush = trap_flush,
    .write_zeroes = trap_zeroes,
    .info = trap_info,
};
#define COMPAT_TABLE (&compat_driver)
#endif

const struct granule_driver *granule_driver_entry(void) { return COMPAT_TABLE; }
