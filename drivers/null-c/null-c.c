/*
 * null-c: reads return zeroes, writes are discarded, everything completes
 * inline. Written in plain C on purpose: it proves the driver ABI needs no C++
 * (no exceptions, no runtime), so drivers from any compiler or language load.
 */
#include <granule/driver_abi.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

GRANULE_DRIVER_EXPORT const struct granule_driver *granule_driver_entry(void);

struct null_node {
    uint64_t size;
};

static const struct granule_option_desc null_options[] = {
    {"size", GRANULE_OPT_SIZE, 0, "length in bytes (default 1G)"},
};

static int null_open(const struct granule_open_args *args, struct granule_open_result *out,
                     char *err, size_t errlen)
{
    uint64_t size = UINT64_C(1) << 30;
    for (uint32_t i = 0; i < args->n_options; i++) {
        const struct granule_option *o = &args->options[i];
        if (strcmp(o->key, "size") == 0) {
            /* The host normalised SIZE values to decimal bytes. */
            char *end = NULL;
            errno = 0;
            unsigned long long v = strtoull(o->value, &end, 10);
            if (errno || end == o->value || *end != '\0' || v > INT64_MAX) {
                snprintf(err, errlen, "null-c: option 'size': '%s' is not a size", o->value);
                return -EINVAL;
            }
            size = v;
        }
    }
    struct null_node *n = malloc(sizeof *n);
    if (!n) {
        snprintf(err, errlen, "null-c: out of memory");
        return -ENOMEM;
    }
    n->size = size;
    /* Nothing is stored: every write is as durable as it gets, and zeroing
     * is free. */
    out->flags = GRANULE_NODE_FUA | GRANULE_NODE_ZERO_MAY_UNMAP | GRANULE_NODE_ZERO_NO_FALLBACK;
    out->state = n;
    return 0;
}

static void null_close(void *state) { free(state); }

static int64_t null_length(void *state) { return (int64_t)((struct null_node *)state)->size; }

static int null_submit(void *state, const struct granule_request *req, granule_completion_fn cb,
                       void *opaque)
{
    const struct null_node *n = state;
    if (req->op == GRANULE_OP_WRITE) {
        cb(opaque, (int64_t)req->length, NULL);
        return 0;
    }
    if (req->op != GRANULE_OP_READ)
        return -EINVAL;
    /* Short at end of file, like a real backend. */
    uint64_t avail = req->offset < n->size ? n->size - req->offset : 0;
    uint64_t done = 0;
    for (uint32_t i = 0; i < req->iovcnt && done < avail; i++) {
        uint64_t len = req->iov[i].len;
        if (len > avail - done)
            len = avail - done;
        memset(req->iov[i].base, 0, (size_t)len);
        done += len;
    }
    cb(opaque, (int64_t)done, NULL);
    return 0;
}

static void null_flush(void *state, uint32_t flags, granule_completion_fn cb, void *opaque)
{
    (void)state;
    (void)flags;
    cb(opaque, 0, NULL);
}

/* discard and write_zeroes: nothing is stored, so nothing to do. */
static void null_range_ok(void *state, uint64_t offset, uint64_t length, uint32_t flags,
                          granule_completion_fn cb, void *opaque)
{
    (void)state;
    (void)offset;
    (void)length;
    (void)flags;
    cb(opaque, 0, NULL);
}

static void null_block_status(void *state, uint64_t offset, uint64_t length, uint32_t flags,
                              struct granule_block_status *out, granule_completion_fn cb,
                              void *opaque)
{
    (void)state;
    (void)offset;
    (void)flags;
    out->bytes = length ? length : 1;
    out->status = GRANULE_BLOCK_ZERO;
    cb(opaque, 0, NULL);
}

static void null_info(void *state, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "null-c: size %" PRIu64, ((struct null_node *)state)->size);
}

static const struct granule_driver null_driver = {
    .struct_size = sizeof(struct granule_driver),
    .abi_version = GRANULE_DRIVER_ABI_VERSION,
    .name = "null-c",
    .description = "reads zeroes, discards writes (plain C example driver)",
    .options = null_options,
    .n_options = sizeof null_options / sizeof null_options[0],
    .open = null_open,
    .close = null_close,
    .length = null_length,
    .submit = null_submit,
    .flush = null_flush,
    .discard = null_range_ok,
    .write_zeroes = null_range_ok,
    .block_status = null_block_status,
    .info = null_info,
};

const struct granule_driver *granule_driver_entry(void) { return &null_driver; }
