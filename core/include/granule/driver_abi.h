/*
 * Granule driver plugin ABI, version 1.1 (frozen: see Versioning).
 *
 * A driver is a shared library exporting ONE symbol, granule_driver_entry, which
 * returns a pointer to a static struct granule_driver. Only C types cross this
 * boundary: no exceptions, no C++ objects, no allocation ownership transfer.
 *
 * Versioning: abi_version is major << 16 | minor (GRANULE_ABI_VERSION).
 * - A major version changes only on an incompatible change; the loader refuses a
 *   driver of another major version, naming the file and both versions.
 * - A minor version only adds: members taken from a struct's reserved space or
 *   appended after it, hooks appended to the driver table, new flag bits. A
 *   driver built for 1.x loads in every 1.y host, older or newer:
 *   . the host copies min(struct_size, sizeof) bytes of the driver's table and
 *     zero-fills the rest, so an older driver has NULL for newer hooks;
 *   . reserved members are zero when the host sends a struct and must be left
 *     zero by a driver filling one; a member added in 1.y is used only when the
 *     other side's minor (granule_driver.abi_version, granule_host.abi_version)
 *     is >= y. Each member added after 1.0 names its minor below.
 * 1.0: this layout without max_iov. 1.1: granule_limits.max_iov,
 * GRANULE_NODE_PADDED_END.
 *
 * Units: offsets and lengths are bytes. Results: >= 0 success, < 0 is -errno.
 * Threads: the host calls submit/flush/discard/write_zeroes/block_status, poll and
 * unplug from the device's thread only; completions may be called from ANY
 * thread, also inline from inside the submitting call, exactly once per accepted
 * request. Every other hook is called by one thread at a time per node.
 * Lifetime: a request, its iovec array and a block_status answer stay valid
 * until the completion is called; the host never closes a node with requests
 * in flight.
 * Alignment: the host only submits requests that satisfy the limits the driver
 * reported (offset and length multiples of request_alignment, every iovec base
 * and length a multiple of min_mem_alignment, length <= max_transfer, iovcnt <=
 * max_iov).
 * End of a node: when its length is not a multiple of request_alignment, a
 * read may cover the whole last block (it completes short); a write to a
 * fixed-size node ends exactly at the node's end, so its length may then be
 * unaligned, and so may its LAST iovec's length (never a base address: the
 * lengths add up to the request's); a growable node, or one that declared
 * GRANULE_NODE_PADDED_END, may be written up to the aligned end (the host
 * truncates the padding away afterwards).
 * Flags: the host passes a GRANULE_REQ_* flag to a node only when the node
 * declared the matching GRANULE_NODE_* flag at open; every other bit is zero.
 */
#ifndef GRANULE_DRIVER_ABI_H
#define GRANULE_DRIVER_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GRANULE_ABI_VERSION(major, minor) ((uint32_t)(((uint32_t)(major) << 16) | (uint32_t)(minor)))
#define GRANULE_ABI_MAJOR_OF(version) ((uint32_t)(version) >> 16)
#define GRANULE_ABI_MINOR_OF(version) ((uint32_t)(version) & 0xffffu)
#define GRANULE_DRIVER_ABI_MAJOR 1
#define GRANULE_DRIVER_ABI_MINOR 1
#define GRANULE_DRIVER_ABI_VERSION \
    GRANULE_ABI_VERSION(GRANULE_DRIVER_ABI_MAJOR, GRANULE_DRIVER_ABI_MINOR)
#define GRANULE_DRIVER_ENTRY_SYMBOL "granule_driver_entry"

#if defined(_WIN32)
#define GRANULE_DRIVER_EXPORT __declspec(dllexport)
#else
#define GRANULE_DRIVER_EXPORT __attribute__((visibility("default")))
#endif

/* One element of a scatter/gather list. Shaped like POSIX's struct iovec and,
 * like it, never extended: it is the one struct without reserved space. */
struct granule_iovec {
    void *base;
    uint64_t len;
};

/* One limit: its value and where the value came from ("statx STATX_DIOALIGN",
 * "READ CAPACITY(16)", "option align"), for granule-img info. A driver that
 * sets or raises a value sets the source with it (granule_limit_raise/_cap).
 * The host sends NULL for a value nobody set (the default). */
struct granule_limit {
    uint64_t value;
    const char *source; /* NUL-terminated, or NULL */
};

/*
 * What a node needs and prefers. Every alignment is a power of two; 0 means
 * "no requirement" (treated as 1) for alignments and "unlimited" for
 * max_transfer / max_pdiscard / max_iov, "no preference" for opt_transfer.
 * refresh_limits receives the struct filled with what the children need, with
 * their sources (NULL for a default); the strings a driver puts in must
 * stay valid until refresh_limits returns (the host copies them). A value the
 * driver changed without changing its source is shown as set by the driver.
 */
struct granule_limits {
    uint32_t struct_size; /* set by whoever allocates the struct */
    uint32_t reserved0;
    struct granule_limit request_alignment;       /* offset and length granularity */
    struct granule_limit min_mem_alignment;       /* buffer address and iovec length */
    struct granule_limit opt_mem_alignment;       /* what bounce buffers should use */
    struct granule_limit max_transfer;            /* largest single read/write */
    struct granule_limit opt_transfer;            /* preferred request size */
    struct granule_limit pwrite_zeroes_alignment; /* granularity of efficient zeroing */
    struct granule_limit pdiscard_alignment;      /* granularity of discard */
    struct granule_limit max_pdiscard;            /* largest single discard */
    struct granule_limit max_iov;                 /* 1.1: most iovec elements per request */
    struct granule_limit reserved[7];
};

/* Raises l to value (when larger, or equal to a default) and records source:
 * for alignments. */
static inline void granule_limit_raise(struct granule_limit *l, uint64_t value, const char *source)
{
    if (value > l->value || (value == l->value && !l->source)) {
        l->value = value;
        l->source = source;
    }
}

/* Lowers l to value (when non-zero and smaller, 0 being unlimited, or equal to
 * a default) and records source: for maxima. */
static inline void granule_limit_cap(struct granule_limit *l, uint64_t value, const char *source)
{
    if (value && (l->value == 0 || value < l->value || (value == l->value && !l->source))) {
        l->value = value;
        l->source = source;
    }
}

/* Completion: result >= 0 (bytes for read/write, 0 otherwise) or -errno.
 * message is an optional human-readable detail, valid during the call only. */
typedef void (*granule_completion_fn)(void *opaque, int64_t result, const char *message);

enum granule_op {
    GRANULE_OP_READ = 0,
    GRANULE_OP_WRITE = 1
};

/* Request flags: granule_request.flags and the flags argument of the other
 * data hooks. Each is passed only to a node that declared its GRANULE_NODE_*. */
#define GRANULE_REQ_FUA 1u         /* write, write_zeroes: durable when it completes
                                      (GRANULE_NODE_FUA) */
#define GRANULE_REQ_MAY_UNMAP 2u   /* write_zeroes: may deallocate; reads must still
                                      return zeroes (GRANULE_NODE_ZERO_MAY_UNMAP) */
#define GRANULE_REQ_NO_FALLBACK 4u /* write_zeroes: complete -ENOTSUP at once rather
                                      than write zeroes slowly
                                      (GRANULE_NODE_ZERO_NO_FALLBACK) */

/* A read short of length means end of file: the host zero-fills the rest. */
struct granule_request {
    uint32_t op;              /* enum granule_op */
    uint32_t flags;           /* GRANULE_REQ_* */
    uint64_t offset;
    uint64_t length;          /* sum of iov[].len */
    const struct granule_iovec *iov;
    uint32_t iovcnt;
    uint32_t reserved0;
    uint64_t reserved[4];
};

/* block_status answer */
#define GRANULE_BLOCK_DATA 1u   /* allocated, reads return written data */
#define GRANULE_BLOCK_ZERO 2u   /* reads return zeroes */
struct granule_block_status {
    uint64_t bytes;   /* how far from offset the answer holds (>= 1) */
    uint32_t status;  /* GRANULE_BLOCK_* */
    uint32_t reserved0;
    uint64_t reserved[2];
};

/* Option declared by a driver; the host rejects unknown keys, missing required
 * ones and values that do not parse as the type, naming the key. */
enum granule_option_type {
    GRANULE_OPT_STRING = 0,
    GRANULE_OPT_SIZE = 1,   /* unsigned: decimal, optionally with one of b k M G T P E (powers of
                               1024; with k..E a fraction too, truncated: 1.5k) or 0x hex;
                               drivers get it as decimal bytes */
    GRANULE_OPT_BOOL = 2,   /* on/off, true/false, yes/no, 1/0 */
    GRANULE_OPT_INT = 3     /* signed decimal: optional -, digits (granule/value_parse.hpp) */
};
#define GRANULE_OPTF_REQUIRED 1u
#define GRANULE_OPTF_PREFIX 2u  /* name is a prefix: "inject-error." matches "inject-error.0.event" */
#define GRANULE_OPTF_SECRET 4u  /* the host never prints the value (shown as "***") */
struct granule_option_desc {
    const char *name;
    uint32_t type;   /* enum granule_option_type */
    uint32_t flags;  /* GRANULE_OPTF_* */
    const char *help;
    const void *reserved[2];
};

struct granule_option {
    const char *key;    /* without the child prefix */
    const char *value;  /* normalised: sizes in decimal bytes, bools "on"/"off" */
    const void *reserved[2];
};

/* A child node opened by the host, handed to the parent at open. */
struct granule_child;

/* Services the host offers drivers (filters use them to reach children).
 * Call them on the device's thread: from a hook, or from a continuation the
 * host started there (debug_resume); never from a driver's own thread.
 * A flag the child did not declare: FUA fails the request with -EINVAL (a
 * filter declares GRANULE_NODE_FUA only when its child does), NO_FALLBACK
 * completes -ENOTSUP, MAY_UNMAP is dropped; flush, discard and block_status
 * take no flags yet (non-zero: -EINVAL). */
struct granule_host {
    uint32_t struct_size;
    uint32_t abi_version;   /* the host's GRANULE_DRIVER_ABI_VERSION */
    /* Same contract as granule_driver.submit, for the child node. */
    int (*child_submit)(struct granule_child *child, const struct granule_request *req,
                        granule_completion_fn cb, void *opaque);
    int64_t (*child_length)(struct granule_child *child);
    /* out->struct_size must be set by the caller; sources stay valid until
     * the next call into the host. */
    void (*child_limits)(struct granule_child *child, struct granule_limits *out);
    void (*child_flush)(struct granule_child *child, uint32_t flags, granule_completion_fn cb,
                        void *opaque);
    void (*child_discard)(struct granule_child *child, uint64_t offset, uint64_t length,
                          uint32_t flags, granule_completion_fn cb, void *opaque);
    void (*child_write_zeroes)(struct granule_child *child, uint64_t offset, uint64_t length,
                               uint32_t flags, granule_completion_fn cb, void *opaque);
    void (*child_block_status)(struct granule_child *child, uint64_t offset, uint64_t length,
                               uint32_t flags, struct granule_block_status *out,
                               granule_completion_fn cb, void *opaque);
    int (*child_truncate)(struct granule_child *child, uint64_t length, char *err, size_t errlen);
    uint32_t (*child_flags)(struct granule_child *child); /* its GRANULE_NODE_* */
    void (*reserved[8])(void);
};

#define GRANULE_OPEN_READ_ONLY 1u
/* The host will watch poll_fd() and call poll() (see granule_driver.poll). */
#define GRANULE_OPEN_HOST_POLLS 2u
/* The host will call unplug() after a burst of submits (see granule_driver.unplug). */
#define GRANULE_OPEN_HOST_UNPLUGS 4u

struct granule_open_args {
    uint32_t struct_size;
    uint32_t flags;                       /* GRANULE_OPEN_* */
    const struct granule_option *options; /* validated against the driver's descs */
    uint32_t n_options;
    uint32_t n_children;
    struct granule_child *const *children; /* in the order of granule_driver.children */
    const struct granule_host *host;
    const void *reserved[8];
};

/* Node flags, reported by open; they hold for the node's life. */
#define GRANULE_NODE_GROWABLE 1u   /* writes past the end extend the node */
#define GRANULE_NODE_READ_ONLY 2u
#define GRANULE_NODE_FUA 4u        /* submit and write_zeroes honour GRANULE_REQ_FUA */
#define GRANULE_NODE_ZERO_MAY_UNMAP 8u     /* write_zeroes honours GRANULE_REQ_MAY_UNMAP */
#define GRANULE_NODE_ZERO_NO_FALLBACK 16u  /* write_zeroes honours GRANULE_REQ_NO_FALLBACK */
/* 1.1: a write may cover the aligned end past the node's length; the host then
 * truncates the node back (the truncate hook is needed). For a file whose length
 * is not a multiple of its O_DIRECT alignment, where a write ending exactly at
 * the node's end would be refused. A growable node does this anyway. */
#define GRANULE_NODE_PADDED_END 32u

struct granule_open_result {
    uint32_t struct_size;
    uint32_t flags;  /* GRANULE_NODE_* */
    void *state;     /* driver's per-node state, passed back to every hook */
    const void *reserved[4];
};

struct granule_driver {
    uint32_t struct_size;
    uint32_t abi_version;       /* GRANULE_DRIVER_ABI_VERSION */
    const char *name;           /* "raw-posix": what driver= selects */
    const char *description;
    const struct granule_option_desc *options;
    uint32_t n_options;
    /* Non-zero: this driver takes plain filenames when no prefix matches. */
    uint32_t claims_plain_filenames;
    const char *const *children;  /* NULL-terminated child names, or NULL */
    /* Filename shorthand: URL prefixes ("iscsi://") this driver claims, NULL-terminated. */
    const char *const *prefixes;

    /* Returns 0 or -errno with a message in err (NUL-terminated, <= errlen). */
    int (*open)(const struct granule_open_args *args, struct granule_open_result *out,
                char *err, size_t errlen);
    void (*close)(void *state);
    int64_t (*length)(void *state);
    /* Returns 0 when accepted (cb will be called), or -errno (cb will not). */
    int (*submit)(void *state, const struct granule_request *req, granule_completion_fn cb,
                  void *opaque);
    /* Everything above is mandatory; every hook below may be NULL (unsupported). */

    /* limits holds what the children need on entry; the driver raises or sets
     * its own requirements. Called at open, on reopen and when a child changes. */
    int (*refresh_limits)(void *state, struct granule_limits *limits, char *err, size_t errlen);
    void (*flush)(void *state, uint32_t flags, granule_completion_fn cb, void *opaque);
    void (*discard)(void *state, uint64_t offset, uint64_t length, uint32_t flags,
                    granule_completion_fn cb, void *opaque);
    void (*write_zeroes)(void *state, uint64_t offset, uint64_t length, uint32_t flags,
                         granule_completion_fn cb, void *opaque);
    void (*block_status)(void *state, uint64_t offset, uint64_t length, uint32_t flags,
                         struct granule_block_status *out, granule_completion_fn cb,
                         void *opaque);
    /* Applies changed options (e.g. cache.direct) without closing; the host
     * refreshes limits afterwards. No requests are in flight during the call. */
    int (*reopen)(void *state, const struct granule_option *options, uint32_t n_options,
                  char *err, size_t errlen);
    int (*truncate)(void *state, uint64_t length, char *err, size_t errlen);
    /* Extra "key: value" lines for info output, NUL-terminated, into buf. */
    void (*info)(void *state, char *buf, size_t buflen);

    /* Test hooks (blkdebug). The host raises named pipeline events (e.g.
     * "pwritev_rmw_head") on nodes that implement debug_event; the driver calls
     * cb when the request may go on (later, to suspend it) or with -errno to fail it.
     * The tag "*" means every tag: the host calls debug_remove_breakpoint(state, "*")
     * before closing a device, so a forgotten breakpoint never hangs a close.
     * The host calls every debug hook on the device's thread. */
    void (*debug_event)(void *state, const char *event, uint64_t offset, uint64_t length,
                        granule_completion_fn cb, void *opaque);
    int (*debug_breakpoint)(void *state, const char *event, const char *tag, char *err,
                            size_t errlen);
    int (*debug_remove_breakpoint)(void *state, const char *tag);
    int (*debug_resume)(void *state, const char *tag);
    int (*debug_is_suspended)(void *state, const char *tag);

    /* Host-driven completions (optional). When the host opened the node with
     * GRANULE_OPEN_HOST_POLLS, it calls poll_fd() once after open: a Linux
     * eventfd the driver signals when completions are pending, or -1 (the
     * driver then completes from its own threads). While requests are in
     * flight the host waits for the fd on the device thread, reads it (which
     * resets the counter), then calls poll(), which runs every pending
     * completion inline. This saves a completion thread's wake-up and its
     * hand-off per request. */
    int (*poll_fd)(void *state);
    void (*poll)(void *state);

    /* Batching (optional). When the host opened the node with
     * GRANULE_OPEN_HOST_UNPLUGS, it calls unplug() on the device thread after
     * one or more submits, before that thread can go idle; the driver may
     * hold submitted requests until then (one io_uring_enter for a batch). */
    void (*unplug)(void *state);

    void (*reserved[8])(void);
};

/* The one exported symbol. */
typedef const struct granule_driver *(*granule_driver_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif /* GRANULE_DRIVER_ABI_H */
