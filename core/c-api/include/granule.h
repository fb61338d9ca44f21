/*
 * granule.h: Granule's C API, for programs in C and for every language that
 * binds C (Python's granule package is built on it). C99, one header, no C++
 * or Boost type; callers link libgranule-c (pkg-config granule-c).
 *
 * Any offset, any length, any buffer: a device turns byte-granularity I/O
 * into the aligned requests its backend needs (rounding, read-modify-write of
 * head and tail, serialisation of overlapping requests, zero-copy when the
 * buffer's alignment allows), as the C++ API (granule/device.hpp) does.
 *
 * Versioning. The C API has its own version, GRANULE_C_API_VERSION =
 * major << 16 | minor, and its own library, libgranule-c.so.<major>, whose
 * symbols carry the version node GRANULE_C_<major>.0: a program built
 * against C API 1.x runs with every later 1.y, whatever the version of
 * libgranule behind it (whose C++ ABI changes with every 0.x release).
 * A minor version only adds functions, flag bits and enum values; no struct
 * here is ever extended (each is frozen as it is; new facts come through new
 * functions). granule_c_api_version() says the version of the library a
 * program runs with; granule_version() the Granule release behind it.
 *
 * Errors. Every function that can fail returns 0 (or a count) on success and
 * a negative errno value on failure (-EINVAL, -EIO, -ENOSPC, ...), and sets
 * the calling thread's error message, which names the operation, the offset
 * and the length (granule_get_error_msg). No C++ exception ever crosses this
 * boundary (an allocation failure is -ENOMEM).
 *
 * Threads. A device may be used from any number of threads at once, except
 * where a function says otherwise. Every device runs its requests on one
 * internal thread of its own: the device's thread. Completion callbacks run
 * there, so a callback must not block, and the synchronous functions
 * (granule_pread ... granule_reopen) fail with -EDEADLK when called from a
 * callback (submit instead). Buffers must stay valid, and must not be
 * written to by the caller, until their request completed.
 */
#ifndef GRANULE_H
#define GRANULE_H

#include <stddef.h>
#include <stdint.h>

#include <granule/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#if defined(GRANULE_C_BUILDING_LIBRARY)
#define GRANULE_C_API __declspec(dllexport)
#else
#define GRANULE_C_API __declspec(dllimport)
#endif
#else
#define GRANULE_C_API __attribute__((visibility("default")))
#endif

/* ---- Versions ---------------------------------------------------------- */

#define GRANULE_C_API_MAJOR 1
#define GRANULE_C_API_MINOR 0
#define GRANULE_C_API_VERSION ((uint32_t)((GRANULE_C_API_MAJOR << 16) | GRANULE_C_API_MINOR))

/* The C API version of the library the program runs with (major << 16 |
 * minor); a program needing a function added in 1.y checks minor >= y. */
GRANULE_C_API uint32_t granule_c_api_version(void);
/* The Granule release behind it, "0.1.0" (GRANULE_VERSION_STRING is the one
 * the program was compiled with). Static storage. */
GRANULE_C_API const char *granule_version(void);

/* ---- Errors ------------------------------------------------------------ */

/* The message of the last call that failed on this thread ("" if none): the
 * operation, offset and length, and why ("granule_pwrite: 4096 bytes at
 * offset 1048576: write past the end of a fixed-size device (length
 * 1048576)"). Secrets in specs are never in it. Valid until the next call
 * into this API on the same thread. Any thread. */
GRANULE_C_API const char *granule_get_error_msg(void);

/* ---- Opening and closing ------------------------------------------------ */

typedef struct granule_device granule_device;

/* One option of a device, as a dotted key and its value ("driver", "blkdebug";
 * "image.filename", "d.img"). */
struct granule_kv {
    const char *key;
    const char *value;
};

/* granule_open flags. Every other bit is refused with -EINVAL. */
#define GRANULE_DEVICE_READ_ONLY 1u

/* Opens a device from a spec: dotted options when the spec holds "driver=" or
 * "filename=" at top level ("driver=blkdebug,align=4096,image.driver=raw-posix,
 * image.filename=d.img"; a ',' inside a value is written twice), otherwise a
 * filename shorthand ("d.img", "/dev/sdb", "iscsi://127.0.0.1/iqn.../0",
 * "nbd+unix:///?socket=/run/s"). The spec's keys are those of granule-io and
 * docs/drivers/. On success *devp is the device and 0 is returned; on failure
 * *devp is NULL. Any thread. */
GRANULE_C_API int granule_open(const char *spec, uint32_t flags, granule_device **devp);
/* The same from count key/value pairs (no escaping needed; a key given twice
 * is -EINVAL). */
GRANULE_C_API int granule_open_kv(const struct granule_kv *options, size_t count, uint32_t flags,
                                  granule_device **devp);

/* Waits for every request in flight (their callbacks run), drops completions
 * nobody polled, closes the device and frees it. NULL is a no-op. Not from a
 * completion callback (-EDEADLK; the device stays open), and not while
 * another thread still calls into the device. */
GRANULE_C_API int granule_close(granule_device *dev);

/* ---- Queries (any thread, the device's included) ----------------------- */

/* The device's length in bytes. */
GRANULE_C_API uint64_t granule_get_length(granule_device *dev);
/* 1 when the device is read-only (opened so, or the backend is), else 0. */
GRANULE_C_API int granule_is_read_only(granule_device *dev);
/* 1 when writes past the end grow the device (growable=on), else 0. */
GRANULE_C_API int granule_is_growable(granule_device *dev);
/* What the device's first bytes were taken for at open: "raw" (format=raw
 * given, or no container signature there), or the container a signature
 * names ("qcow2", "vmdk", "vhdx", "vdi", "vpc", "qed"): Granule has no format
 * drivers, so such a device is only read (writes, write_zeroes, discard and
 * truncate fail with -EPERM naming the format) unless opened with format=raw.
 * *description, when not NULL, is granule-img info's line ("qcow2
 * (recognised: magic 'QFI\xfb' at offset 0, version 3; ...)"). The strings
 * live until granule_close; NULL only for a NULL dev (or without memory). */
GRANULE_C_API const char *granule_get_format(granule_device *dev, const char **description);

/* What the backend needs and prefers, and where each value came from. */
enum granule_limit_id {
    GRANULE_LIMIT_REQUEST_ALIGNMENT,       /* offsets and lengths the backend takes */
    GRANULE_LIMIT_MIN_MEM_ALIGNMENT,       /* buffer addresses it takes without a bounce */
    GRANULE_LIMIT_OPT_MEM_ALIGNMENT,       /* buffer addresses it prefers */
    GRANULE_LIMIT_MAX_TRANSFER,            /* bytes per backend request; 0: unlimited */
    GRANULE_LIMIT_OPT_TRANSFER,            /* preferred request size; 0: no preference */
    GRANULE_LIMIT_PWRITE_ZEROES_ALIGNMENT, /* efficient zeroing granularity */
    GRANULE_LIMIT_PDISCARD_ALIGNMENT,      /* discard granularity */
    GRANULE_LIMIT_MAX_PDISCARD,            /* bytes per discard; 0: unlimited */
    GRANULE_LIMIT_MAX_IOV,                 /* buffers per backend request; 0: unlimited */
    GRANULE_LIMIT_COUNT                    /* grows in minor versions */
};
struct granule_limit_info {
    const char *name;   /* "request_alignment", as granule-img info prints it */
    uint64_t value;     /* bytes (max_iov: buffers); alignments are powers of two */
    const char *source; /* "raw-posix: statx STATX_DIOALIGN", "blkdebug: option align", "default" */
};
/* Fills out[0 .. min(count, n)) in granule_limit_id order, n being the number
 * of limits this library has, and returns n (>= the GRANULE_LIMIT_COUNT the
 * program was compiled with), or a negative errno. The strings live until
 * granule_close. The limits change only through granule_reopen. */
GRANULE_C_API int granule_get_limits(granule_device *dev, struct granule_limit_info *out,
                                     size_t count);

/* Counters since open (or the last reset), to observe zero-copy, padding and
 * serialisation. */
enum granule_stat_id {
    GRANULE_STAT_READ_REQUESTS,       /* caller requests, not backend requests */
    GRANULE_STAT_WRITE_REQUESTS,
    GRANULE_STAT_FLUSH_REQUESTS,
    GRANULE_STAT_DISCARD_REQUESTS,
    GRANULE_STAT_ZERO_REQUESTS,
    GRANULE_STAT_BYTES_READ,          /* bytes the callers asked for */
    GRANULE_STAT_BYTES_WRITTEN,
    GRANULE_STAT_BYTES_BOUNCED,       /* through Granule's buffers (padding, bounce) */
    GRANULE_STAT_RMW_CYCLES,          /* head/tail blocks read back for unaligned writes */
    GRANULE_STAT_SERIALISATION_WAITS, /* a request waited for an overlapping one */
    GRANULE_STAT_DRIVER_REQUESTS,     /* reads/writes submitted to the backend */
    GRANULE_STAT_FAILED_REQUESTS,
    GRANULE_STAT_THROTTLE_WAITS,
    GRANULE_STAT_BYTES_COPIED_ON_READ,
    GRANULE_STAT_WRITES_CARRIED,      /* caller writes done by another write's request */
    GRANULE_STAT_BYTES_READ_AHEAD,
    GRANULE_STAT_COUNT                /* grows in minor versions */
};
struct granule_stat {
    const char *name;  /* "bytes_bounced", as granule-io's stats prints it; static */
    uint64_t value;
};
/* As granule_get_limits: fills min(count, n), returns n or a negative errno. */
GRANULE_C_API int granule_get_stats(granule_device *dev, struct granule_stat *out, size_t count);
GRANULE_C_API void granule_reset_stats(granule_device *dev);

/* ---- Synchronous I/O ----------------------------------------------------
 * Any thread but the device's (from a completion callback: -EDEADLK); each
 * call blocks until its request completed. Success is 0: a read or write
 * transfers every byte or fails; a zero-length request is refused
 * (-EINVAL). Past the end of a fixed-size device a read or write fails with
 * -EIO, as qemu's raw does; a growable one (growable=on) grows on writes and
 * reads zeroes there. */

/* One buffer of a scatter/gather list. */
struct granule_iov {
    void *base;
    size_t len;
};

/* Request flags (every other bit: -EINVAL naming it):
 * - FUA: writes and write_zeroes: durable when the request completes.
 * - MAY_UNMAP: write_zeroes may deallocate the range.
 * - NO_FALLBACK: write_zeroes fails with -ENOTSUP rather than write zero
 *   buffers where it cannot zero efficiently. */
#define GRANULE_IO_FUA 1u
#define GRANULE_IO_MAY_UNMAP 2u
#define GRANULE_IO_NO_FALLBACK 4u

/* Reads take no flag yet: flags must be 0. */
GRANULE_C_API int granule_pread(granule_device *dev, uint64_t offset, void *buf, size_t len,
                                uint32_t flags);
GRANULE_C_API int granule_pwrite(granule_device *dev, uint64_t offset, const void *buf, size_t len,
                                 uint32_t flags);
GRANULE_C_API int granule_preadv(granule_device *dev, uint64_t offset, const struct granule_iov *iov,
                                 int iovcnt, uint32_t flags);
GRANULE_C_API int granule_pwritev(granule_device *dev, uint64_t offset,
                                  const struct granule_iov *iov, int iovcnt, uint32_t flags);
GRANULE_C_API int granule_flush(granule_device *dev);
/* Advisory: the parts not covering whole pdiscard_alignment blocks are left alone. */
GRANULE_C_API int granule_discard(granule_device *dev, uint64_t offset, uint64_t len);
/* Reads of the range return zeroes afterwards. Flags: FUA, MAY_UNMAP, NO_FALLBACK. */
GRANULE_C_API int granule_write_zeroes(granule_device *dev, uint64_t offset, uint64_t len,
                                       uint32_t flags);

/* What the bytes from an offset are, without reading them. */
#define GRANULE_EXTENT_ZERO 1u      /* reads return zeroes (a hole, or past the end) */
#define GRANULE_EXTENT_DATA 2u      /* allocated in the backend */
#define GRANULE_EXTENT_ALLOCATED 4u /* the device's own top node holds them (not a backing's) */
struct granule_extent {
    uint64_t length;  /* how far from the offset the answer holds, 1 .. len */
    uint32_t flags;   /* GRANULE_EXTENT_*; a backend that cannot tell says DATA */
    uint32_t reserved;
};
/* The first extent of [offset, offset + len); a caller walks a range by
 * asking again at offset + extent.length. Not ordered with writes in flight:
 * ask once they completed. */
GRANULE_C_API int granule_block_status(granule_device *dev, uint64_t offset, uint64_t len,
                                       struct granule_extent *extent);
/* Sets the length (a growable or resizable backend only; else -ENOTSUP). */
GRANULE_C_API int granule_truncate(granule_device *dev, uint64_t length);
/* Changes options of the open device (cache.direct, throttle.*, ...), waiting
 * for requests in flight first; on failure nothing changed. */
GRANULE_C_API int granule_reopen(granule_device *dev, const struct granule_kv *changes,
                                 size_t count);

/* ---- Asynchronous I/O ---------------------------------------------------
 * Submit functions return at once: 0 when the request was accepted (it will
 * complete exactly once), or a negative errno when it was not (bad flags,
 * -ENOMEM; no completion then). Any thread, callbacks included. Requests
 * complete in any order; overlapping writes take effect in submission order.
 *
 * A completion goes to the request's callback when one is given, called on
 * the device's thread (it must not block; it may submit). Without a callback
 * it is queued on the device, for granule_poll_completions: an event loop
 * that is not Granule's watches granule_get_completion_fd. */
struct granule_completion {
    void *user_data;       /* as submitted */
    int ret;               /* 0 or a negative errno */
    uint32_t reserved;
    const char *error_msg; /* why, when ret < 0, else NULL; see granule_poll_completions */
};
/* Called once per request; c and c->error_msg are valid during the call. */
typedef void (*granule_completion_cb)(const struct granule_completion *c);

GRANULE_C_API int granule_submit_pread(granule_device *dev, uint64_t offset, void *buf, size_t len,
                                       uint32_t flags, granule_completion_cb cb, void *user_data);
GRANULE_C_API int granule_submit_pwrite(granule_device *dev, uint64_t offset, const void *buf,
                                        size_t len, uint32_t flags, granule_completion_cb cb,
                                        void *user_data);
/* The iov array itself may be reused as soon as the call returns. */
GRANULE_C_API int granule_submit_preadv(granule_device *dev, uint64_t offset,
                                        const struct granule_iov *iov, int iovcnt, uint32_t flags,
                                        granule_completion_cb cb, void *user_data);
GRANULE_C_API int granule_submit_pwritev(granule_device *dev, uint64_t offset,
                                         const struct granule_iov *iov, int iovcnt,
                                         uint32_t flags, granule_completion_cb cb,
                                         void *user_data);
GRANULE_C_API int granule_submit_flush(granule_device *dev, granule_completion_cb cb,
                                       void *user_data);
GRANULE_C_API int granule_submit_discard(granule_device *dev, uint64_t offset, uint64_t len,
                                         granule_completion_cb cb, void *user_data);
GRANULE_C_API int granule_submit_write_zeroes(granule_device *dev, uint64_t offset, uint64_t len,
                                              uint32_t flags, granule_completion_cb cb,
                                              void *user_data);
/* granule_block_status's answer goes to *extent, which must stay valid until
 * the request completed (and is only written when it succeeds). */
GRANULE_C_API int granule_submit_block_status(granule_device *dev, uint64_t offset, uint64_t len,
                                              struct granule_extent *extent,
                                              granule_completion_cb cb, void *user_data);

/* A file descriptor that is readable while completions are queued for
 * granule_poll_completions (level-triggered: it stays readable until they
 * were all taken). Owned by the device: do not read or close it. POSIX only
 * (-ENOTSUP on Windows, where granule_poll_completions waits by itself). Any
 * thread. */
GRANULE_C_API int granule_get_completion_fd(granule_device *dev);
/* Takes up to max queued completions into out, in completion order, waiting
 * up to timeout_ms for the first (0: not at all; -1: as long as it takes) and
 * returns how many it took (0 on timeout), or a negative errno. error_msg
 * pointers stay valid until this thread's next granule_poll_completions.
 * Any thread but the device's; threads polling one device share its queue. */
GRANULE_C_API int granule_poll_completions(granule_device *dev, struct granule_completion *out,
                                           size_t max, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* GRANULE_H */
