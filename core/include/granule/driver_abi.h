/*
 * Granule driver plugin ABI.
 *
 * A driver is a shared library exporting ONE symbol, granule_driver_entry, which
 * returns a pointer to a static struct granule_driver. Only C types cross this
 * boundary: no exceptions, no C++ objects, no allocation ownership transfer.
 *
 * Versioning: every struct starts with struct_size; new members are only ever
 * appended. The host copies min(struct_size, sizeof) bytes and zero-fills the
 * rest, so an older driver simply lacks the newer hooks (NULL = unsupported).
 * abi_version changes only on an incompatible change; the loader refuses a
 * mismatch, naming the file, the version found and the version expected.
 *
 * Units: offsets and lengths are bytes. Results: >= 0 success, < 0 is -errno.
 * Threads: the host calls submit/flush/discard/write_zeroes/block_status from the
 * device's thread only; completions may be called from ANY thread, also inline
 * from inside the submitting call, exactly once per accepted request.
 * Lifetime: a request, its iovec array and a block_status answer stay valid
 * until the completion is called; the host never closes a node with requests
 * in flight.
 * Alignment: the host only submits requests that satisfy the limits the driver
 * reported (offset and length multiples of request_alignment, every iovec base
 * and length a multiple of min_mem_alignment, length <= max_transfer).
 * End of a node: when its length is not a multiple of request_alignment, a
 * read may cover the whole last block (it completes short); a write to a
 * fixed-size node ends exactly at the node's end, so its length may then be
 * unaligned, and so may its LAST iovec's length (never a base address: the
 * lengths add up to the request's); a growable node may be written up to the aligned end (the host
 * truncates the padding away afterwards).
 */
#ifndef GRANULE_DRIVER_ABI_H
#define GRANULE_DRIVER_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GRANULE_DRIVER_ABI_VERSION 1
#define GRANULE_DRIVER_ENTRY_SYMBOL "granule_driver_entry"

#if defined(_WIN32)
#define GRANULE_DRIVER_EXPORT __declspec(dllexport)
#else
#define GRANULE_DRIVER_EXPORT __attribute__((visibility("default")))
#endif

/* One element of a scatter/gather list. */
struct granule_iovec {
    void *base;
    uint64_t len;
};

/*
 * What a node needs and prefers. Every alignment is a power of two; 0 means
 * "no requirement" (treated as 1) for alignments and "unlimited" for
 * max_transfer / max_pdiscard, "no preference" for opt_transfer.
 */
struct granule_limits {
    uint64_t request_alignment;       /* offset and length granularity */
    uint64_t min_mem_alignment;       /* buffer address and iovec length */
    uint64_t opt_mem_alignment;       /* what bounce buffers should use */
    uint64_t max_transfer;            /* largest single read/write */
    uint64_t opt_transfer;            /* preferred request size */
    uint64_t pwrite_zeroes_alignment; /* granularity of efficient zeroing */
    uint64_t pdiscard_alignment;      /* granularity of discard */
    uint64_t max_pdiscard;            /* largest single discard */
};

/* Completion: result >= 0 (bytes for read/write, 0 otherwise) or -errno.
 * message is an optional human-readable detail, valid during the call only. */
typedef void (*granule_completion_fn)(void *opaque, int64_t result, const char *message);

enum granule_op {
    GRANULE_OP_READ = 0,
    GRANULE_OP_WRITE = 1
};

/* A read short of length means end of file: the host zero-fills the rest. */
struct granule_request {
    uint32_t op;              /* enum granule_op */
    uint32_t flags;           /* GRANULE_REQ_* */
    uint64_t offset;
    uint64_t length;          /* sum of iov[].len */
    const struct granule_iovec *iov;
    uint32_t iovcnt;
};
#define GRANULE_REQ_FUA 1u    /* write: durable on completion */

/* block_status answer */
#define GRANULE_BLOCK_DATA 1u   /* allocated, reads return written data */
#define GRANULE_BLOCK_ZERO 2u   /* reads return zeroes */
struct granule_block_status {
    uint64_t bytes;   /* how far from offset the answer holds (>= 1) */
    uint32_t status;  /* GRANULE_BLOCK_* */
};

/* Option declared by a driver; the host rejects unknown keys, missing required
 * ones and values that do not parse as the type, naming the key. */
enum granule_option_type {
    GRANULE_OPT_STRING = 0,
    GRANULE_OPT_SIZE = 1,   /* unsigned: decimal, optionally with one of b k M G T P E (powers of
                               1024) or 0x hex; drivers get it as decimal bytes */
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
};

struct granule_option {
    const char *key;    /* without the child prefix */
    const char *value;  /* normalised: sizes in decimal bytes, bools "on"/"off" */
};

/* A child node opened by the host, handed to the parent at open. */
struct granule_child;

/* Services the host offers drivers (filters use them to reach children).
 * Call them on the device's thread: from a hook, or from a continuation the
 * host started there (debug_resume); never from a driver's own thread. */
struct granule_host {
    uint32_t struct_size;
    uint32_t abi_version;
    /* Same contract as granule_driver.submit, for the child node. */
    int (*child_submit)(struct granule_child *child, const struct granule_request *req,
                        granule_completion_fn cb, void *opaque);
    int64_t (*child_length)(struct granule_child *child);
    void (*child_limits)(struct granule_child *child, struct granule_limits *out);
    void (*child_flush)(struct granule_child *child, granule_completion_fn cb, void *opaque);
    void (*child_discard)(struct granule_child *child, uint64_t offset, uint64_t length,
                          granule_completion_fn cb, void *opaque);
    void (*child_write_zeroes)(struct granule_child *child, uint64_t offset, uint64_t length,
                               granule_completion_fn cb, void *opaque);
    void (*child_block_status)(struct granule_child *child, uint64_t offset, uint64_t length,
                               struct granule_block_status *out, granule_completion_fn cb,
                               void *opaque);
    int (*child_truncate)(struct granule_child *child, uint64_t length, char *err, size_t errlen);
    uint32_t (*child_flags)(struct granule_child *child);
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
    struct granule_child *const *children; /* in the order of granule_driver.children */
    uint32_t n_children;
    const struct granule_host *host;
};

#define GRANULE_NODE_GROWABLE 1u   /* writes past the end extend the node */
#define GRANULE_NODE_READ_ONLY 2u

struct granule_open_result {
    uint32_t struct_size;
    uint32_t flags;  /* GRANULE_NODE_* */
    void *state;     /* driver's per-node state, passed back to every hook */
};

struct granule_driver {
    uint32_t struct_size;
    uint32_t abi_version;
    const char *name;           /* "raw-posix": what driver= selects */
    const char *description;
    const struct granule_option_desc *options;
    uint32_t n_options;
    const char *const *children;  /* NULL-terminated child names, or NULL */
    /* Filename shorthand: URL prefixes ("iscsi://") this driver claims, NULL-terminated. */
    const char *const *prefixes;
    /* Non-zero: this driver takes plain filenames when no prefix matches. */
    uint32_t claims_plain_filenames;

    /* Returns 0 or -errno with a message in err (NUL-terminated, <= errlen). */
    int (*open)(const struct granule_open_args *args, struct granule_open_result *out,
                char *err, size_t errlen);
    void (*close)(void *state);
    int64_t (*length)(void *state);
    /* limits holds what the children need on entry; the driver raises or sets
     * its own requirements. Called at open, on reopen and when a child changes. */
    int (*refresh_limits)(void *state, struct granule_limits *limits, char *err, size_t errlen);
    /* Returns 0 when accepted (cb will be called), or -errno (cb will not). */
    int (*submit)(void *state, const struct granule_request *req, granule_completion_fn cb,
                  void *opaque);
    void (*flush)(void *state, granule_completion_fn cb, void *opaque);
    void (*discard)(void *state, uint64_t offset, uint64_t length, granule_completion_fn cb,
                    void *opaque);
    void (*write_zeroes)(void *state, uint64_t offset, uint64_t length, granule_completion_fn cb,
                         void *opaque);
    void (*block_status)(void *state, uint64_t offset, uint64_t length,
                         struct granule_block_status *out, granule_completion_fn cb, void *opaque);
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
     * before closing a device, so a forgotten breakpoint never hangs a close. */
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
};

/* The one exported symbol. */
typedef const struct granule_driver *(*granule_driver_entry_fn)(void);

#ifdef __cplusplus
}
#endif
#endif /* GRANULE_DRIVER_ABI_H */
