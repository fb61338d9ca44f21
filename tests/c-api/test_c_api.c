/* The C API (granule.h) from C: each test is a function run by name
 * (`test_c_api NAME`, one ctest entry each; no name runs them all). Plain
 * C11 + POSIX threads, no test framework: the program also runs built from
 * the installed package alone (tests/c-api/installed.sh, under ASan in CI),
 * and as a Windows program under Wine (tests/windows: no completion fd
 * there, so the queue is waited for by granule_poll_completions alone, and
 * the sparse-file test is POSIX's).
 * Every check names what it expected; a failure exits 1. */
#define _POSIX_C_SOURCE 200809L
#include <granule.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <poll.h>
#include <unistd.h>
#endif

static int failures;

static void sleep_ms(long ms)
{
#ifdef _WIN32
    Sleep((DWORD)ms);
#else
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
#endif
}

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fprintf(stderr, " [error msg: %s]\n", granule_get_error_msg()); \
            failures++;                                                   \
        }                                                                 \
    } while (0)
#define CHECK_RET(expr, want) \
    do { int r_ = (expr); CHECK(r_ == (want), "%s returned %d, expected %d", #expr, r_, (want)); } while (0)
#define CHECK_MSG(needle) \
    CHECK(strstr(granule_get_error_msg(), (needle)) != NULL, "message lacks '%s'", (needle))

/* A device over RAM that takes only 4096-aligned requests: every unaligned
 * request below goes through rounding and read-modify-write. */
#define SIZE (1u << 20)
/* Requests in flight at once in the async tests. Under Wine a chain of
 * serialised writes advances ~100 per second (thread wake-ups through
 * wineserver), so the Windows run keeps the overlap but fewer requests. */
#ifdef _WIN32
#define IN_FLIGHT 300
#else
#define IN_FLIGHT 3000
#endif
static const char *aligned_ram = "driver=blkdebug,align=4096,image.driver=memory,image.size=1M";

static granule_device *open_or_die(const char *spec, uint32_t flags)
{
    granule_device *dev = NULL;
    int r = granule_open(spec, flags, &dev);
    if (r != 0 || !dev) {
        fprintf(stderr, "FAIL: granule_open(%s): %d %s\n", spec, r, granule_get_error_msg());
        exit(1);
    }
    return dev;
}

/* A deterministic generator, so a failure repeats. */
static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(uint64_t below)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state % below;
}

static int compare_device(granule_device *dev, const unsigned char *model, size_t len, const char *what)
{
    unsigned char *got = malloc(len);
    int r = granule_pread(dev, 0, got, len, 0);
    CHECK(r == 0, "%s: reading back", what);
    size_t i = 0;
    while (r == 0 && i < len && got[i] == model[i])
        i++;
    CHECK(r != 0 || i == len, "%s: byte %zu is 0x%02x, the model says 0x%02x", what, i, got[i], model[i]);
    free(got);
    return i == len;
}

static void test_versions(void)
{
    CHECK(granule_c_api_version() == GRANULE_C_API_VERSION, "runtime 0x%x", granule_c_api_version());
    CHECK(granule_c_api_version() >> 16 == GRANULE_C_API_MAJOR, "major");
    CHECK(strcmp(granule_version(), GRANULE_VERSION_STRING) == 0, "granule_version() %s, header %s",
          granule_version(), GRANULE_VERSION_STRING);
}

static void test_open_errors(void)
{
    granule_device *dev = (granule_device *)&dev;  /* must be reset to NULL */
    CHECK_RET(granule_open(NULL, 0, &dev), -EINVAL);
    CHECK(dev == NULL, "devp not cleared");
    CHECK_MSG("granule_open: spec is NULL");
    CHECK_RET(granule_open(aligned_ram, 2, &dev), -EINVAL);
    CHECK_MSG("unknown flags 0x2");
    CHECK_RET(granule_open("/nonexistent/granule-c-api.img", 0, &dev), -ENOENT);
    CHECK_MSG("/nonexistent/granule-c-api.img");
    CHECK_RET(granule_open("driver=no-such-driver", 0, &dev), -ENOENT);
    CHECK_MSG("no-such-driver");
    CHECK_RET(granule_open("driver=memory,size=1M,bogus=1", 0, &dev), -EINVAL);
    CHECK_MSG("bogus");
    /* A password in a URL is never echoed (an unreachable port: refused). */
    int r = granule_open("iscsi://user%hunter2@127.0.0.1:1/iqn.2026-12.test:none/0", 0, &dev);
    CHECK(r < 0, "opening an iSCSI LUN on port 1 returned %d", r);
    CHECK(strstr(granule_get_error_msg(), "hunter2") == NULL, "the password is in the message");

    struct granule_kv dup[] = {{"driver", "memory"}, {"size", "1M"}, {"driver", "null-c"}};
    CHECK_RET(granule_open_kv(dup, 3, 0, &dev), -EINVAL);
    CHECK_MSG("key 'driver' given twice");
    struct granule_kv null_value[] = {{"driver", NULL}};
    CHECK_RET(granule_open_kv(null_value, 1, 0, &dev), -EINVAL);
    CHECK_MSG("option 0 has a NULL key or value");
    struct granule_kv ok[] = {{"driver", "blkdebug"}, {"align", "4096"}, {"image.driver", "memory"},
                              {"image.size", "64k"}};
    CHECK_RET(granule_open_kv(ok, 4, 0, &dev), 0);
    CHECK(dev && granule_get_length(dev) == 65536, "kv device length %llu",
          dev ? (unsigned long long)granule_get_length(dev) : 0ull);
    CHECK_RET(granule_close(dev), 0);
    CHECK_RET(granule_close(NULL), 0);
}

static void test_sync_unaligned(void)
{
    granule_device *dev = open_or_die(aligned_ram, 0);
    unsigned char *model = calloc(SIZE, 1), *buf = malloc(SIZE);
    for (int i = 0; i < 300; i++) {
        uint64_t len = 1 + rnd(20000), off = rnd(SIZE - len);
        memset(buf, (int)(i & 0xff), len);
        if (i % 3 == 0) {  /* scattered: three odd-sized buffers */
            uint64_t a = len / 3, b = len / 3;
            struct granule_iov iov[3] = {{buf, a}, {buf + a, b}, {buf + a + b, len - a - b}};
            CHECK_RET(granule_pwritev(dev, off, iov, 3, 0), 0);
        } else {
            CHECK_RET(granule_pwrite(dev, off, buf, len, i % 2 ? GRANULE_IO_FUA : 0), 0);
        }
        memcpy(model + off, buf, len);
    }
    compare_device(dev, model, SIZE, "after 300 unaligned writes");
    /* Unaligned scattered reads see the same bytes. */
    for (int i = 0; i < 50; i++) {
        uint64_t len = 2 + rnd(9000), off = rnd(SIZE - len);
        struct granule_iov iov[2] = {{buf, len / 2}, {buf + len / 2 + 1, len - len / 2}};
        CHECK_RET(granule_preadv(dev, off, iov, 2, 0), 0);
        CHECK(memcmp(buf, model + off, len / 2) == 0 && memcmp(buf + len / 2 + 1, model + off + len / 2, len - len / 2) == 0,
              "preadv at %llu", (unsigned long long)off);
    }
    struct granule_stat s[GRANULE_STAT_COUNT];
    CHECK_RET(granule_get_stats(dev, s, GRANULE_STAT_COUNT), GRANULE_STAT_COUNT);
    CHECK(s[GRANULE_STAT_WRITE_REQUESTS].value == 300, "write_requests %llu",
          (unsigned long long)s[GRANULE_STAT_WRITE_REQUESTS].value);
    CHECK(s[GRANULE_STAT_RMW_CYCLES].value > 0, "no read-modify-write counted");
    granule_reset_stats(dev);
    CHECK_RET(granule_get_stats(dev, s, GRANULE_STAT_COUNT), GRANULE_STAT_COUNT);
    CHECK(s[GRANULE_STAT_WRITE_REQUESTS].value == 0, "reset_stats left %llu",
          (unsigned long long)s[GRANULE_STAT_WRITE_REQUESTS].value);
    free(model);
    free(buf);
    granule_close(dev);
}

static void test_limits(void)
{
    granule_device *dev = open_or_die(aligned_ram, 0);
    struct granule_limit_info l[GRANULE_LIMIT_COUNT + 2];
    memset(l, 0, sizeof l);
    CHECK_RET(granule_get_limits(dev, l, GRANULE_LIMIT_COUNT + 2), GRANULE_LIMIT_COUNT);
    CHECK(l[GRANULE_LIMIT_COUNT].name == NULL, "filled past the limits it has");
    static const char *names[GRANULE_LIMIT_COUNT] = {
        "request_alignment", "min_mem_alignment", "opt_mem_alignment", "max_transfer", "opt_transfer",
        "pwrite_zeroes_alignment", "pdiscard_alignment", "max_pdiscard", "max_iov"};
    for (int i = 0; i < GRANULE_LIMIT_COUNT; i++)
        CHECK(l[i].name && strcmp(l[i].name, names[i]) == 0 && l[i].source, "limit %d is %s", i, l[i].name);
    CHECK(l[GRANULE_LIMIT_REQUEST_ALIGNMENT].value == 4096, "request_alignment %llu",
          (unsigned long long)l[GRANULE_LIMIT_REQUEST_ALIGNMENT].value);
    CHECK(strcmp(l[GRANULE_LIMIT_REQUEST_ALIGNMENT].source, "blkdebug: option align") == 0, "source '%s'",
          l[GRANULE_LIMIT_REQUEST_ALIGNMENT].source);
    /* A shorter array is filled only as far as it goes. */
    struct granule_limit_info two[3];
    memset(two, 0, sizeof two);
    CHECK_RET(granule_get_limits(dev, two, 2), GRANULE_LIMIT_COUNT);
    CHECK(two[1].name && two[2].name == NULL, "count 2 filled %s", two[2].name ? "3" : "fewer");
    /* The strings outlive the call: a second call hands out the same ones. */
    struct granule_limit_info again[GRANULE_LIMIT_COUNT];
    granule_get_limits(dev, again, GRANULE_LIMIT_COUNT);
    CHECK(again[0].source == l[0].source, "sources are not kept once");
    granule_close(dev);
}

static void test_stat_names(void)
{
    static const char *names[GRANULE_STAT_COUNT] = {
        "read_requests", "write_requests", "flush_requests", "discard_requests", "zero_requests",
        "bytes_read", "bytes_written", "bytes_bounced", "rmw_cycles", "serialisation_waits",
        "driver_requests", "failed_requests", "throttle_waits", "bytes_copied_on_read",
        "writes_carried", "bytes_read_ahead"};
    granule_device *dev = open_or_die(aligned_ram, 0);
    struct granule_stat s[GRANULE_STAT_COUNT];
    CHECK_RET(granule_get_stats(dev, s, GRANULE_STAT_COUNT), GRANULE_STAT_COUNT);
    for (int i = 0; i < GRANULE_STAT_COUNT; i++)
        CHECK(strcmp(s[i].name, names[i]) == 0, "stat %d is %s, expected %s", i, s[i].name, names[i]);
    granule_close(dev);
}

static void test_bad_requests(void)
{
    granule_device *dev = open_or_die(aligned_ram, 0);
    char buf[100] = {0};
    CHECK_RET(granule_pread(dev, 0, buf, 100, GRANULE_IO_FUA), -EINVAL);
    CHECK_MSG("granule_pread: unknown or inapplicable flags 0x1");
    CHECK_RET(granule_pwrite(dev, 0, buf, 100, GRANULE_IO_MAY_UNMAP), -EINVAL);
    CHECK_RET(granule_write_zeroes(dev, 0, 100, 8), -EINVAL);
    CHECK_MSG("0x8");
    CHECK_RET(granule_pwrite(dev, 0, NULL, 100, 0), -EINVAL);
    CHECK_RET(granule_preadv(dev, 0, NULL, -1, 0), -EINVAL);
    CHECK_RET(granule_pread(NULL, 0, buf, 1, 0), -EINVAL);
    /* Past the end of a fixed-size device: EIO naming the request. */
    CHECK_RET(granule_pwrite(dev, SIZE - 50, buf, 100, 0), -EIO);
    CHECK_MSG("granule_pwrite: 100 bytes at offset 1048526");
    CHECK_RET(granule_pread(dev, SIZE + 1, buf, 1, 0), -EIO);
    CHECK_MSG("granule_pread: 1 bytes at offset 1048577");
    /* The core refuses a zero-length request, naming it. */
    CHECK_RET(granule_pwrite(dev, 7, buf, 0, 0), -EINVAL);
    CHECK_MSG("length 0");
    granule_close(dev);

    dev = open_or_die(aligned_ram, GRANULE_DEVICE_READ_ONLY);
    CHECK(granule_is_read_only(dev) == 1, "not read-only");
    int r = granule_pwrite(dev, 0, buf, 10, 0);
    CHECK(r == -EPERM || r == -EROFS, "pwrite to a read-only device returned %d", r);
    CHECK_MSG("granule_pwrite: 10 bytes at offset 0");
    r = granule_write_zeroes(dev, 0, 10, 0);
    CHECK(r == -EPERM || r == -EROFS, "write_zeroes on a read-only device returned %d", r);
    CHECK_RET(granule_pread(dev, 0, buf, 10, 0), 0);
    granule_close(dev);
}

#ifndef _WIN32
static char tmpdir[64];
static char *temp_path(const char *name)
{
    static char path[128];
    if (!tmpdir[0]) {
        strcpy(tmpdir, "/tmp/granule-c-api.XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

static void test_zeroes_discard_status_truncate(void)
{
    const char *path = temp_path("sparse.img");
    FILE *f = fopen(path, "w");
    fclose(f);
    if (truncate(path, 4 << 20) != 0) {
        perror("truncate");
        exit(1);
    }
    char spec[256];
    snprintf(spec, sizeof spec, "driver=raw-posix,filename=%s", path);
    granule_device *dev = open_or_die(spec, 0);
    unsigned char buf[8192];
    memset(buf, 0x5a, sizeof buf);
    CHECK_RET(granule_pwrite(dev, 1 << 20, buf, sizeof buf, 0), 0);
    struct granule_extent e;
    CHECK_RET(granule_block_status(dev, 0, 4 << 20, &e), 0);
    CHECK((e.flags & GRANULE_EXTENT_ZERO) && !(e.flags & GRANULE_EXTENT_DATA) && e.length == 1 << 20,
          "the hole before 1M: flags %u length %llu", e.flags, (unsigned long long)e.length);
    CHECK_RET(granule_block_status(dev, 1 << 20, 4 << 20, &e), 0);
    CHECK((e.flags & GRANULE_EXTENT_DATA) && !(e.flags & GRANULE_EXTENT_ZERO) && e.length >= sizeof buf,
          "the data at 1M: flags %u length %llu", e.flags, (unsigned long long)e.length);
    CHECK(e.flags & GRANULE_EXTENT_ALLOCATED, "no overlay, yet not allocated");
    CHECK_RET(granule_block_status(dev, 0, 0, NULL), -EINVAL);

    CHECK_RET(granule_write_zeroes(dev, (1 << 20) + 100, 5000, GRANULE_IO_MAY_UNMAP), 0);
    unsigned char got[8192];
    CHECK_RET(granule_pread(dev, 1 << 20, got, sizeof got, 0), 0);
    CHECK(got[99] == 0x5a && got[100] == 0 && got[5099] == 0 && got[5100] == 0x5a, "write_zeroes range");
    CHECK_RET(granule_discard(dev, 0, 4096), 0);
    CHECK_RET(granule_flush(dev), 0);

    /* The same answers asynchronously, polled. */
    struct granule_extent hole = {0, 0, 0}, data = {0, 0, 0};
    CHECK_RET(granule_submit_block_status(dev, 0, 4 << 20, &hole, NULL, &hole), 0);
    CHECK_RET(granule_submit_block_status(dev, 1 << 20, 4 << 20, &data, NULL, &data), 0);
    CHECK_RET(granule_submit_block_status(dev, 0, 1, NULL, NULL, NULL), -EINVAL);
    struct granule_completion c[2];
    int polled = 0;
    while (polled < 2) {
        int n = granule_poll_completions(dev, c + polled, 2 - (size_t)polled, 10000);
        CHECK(n > 0, "async block status: %d", n);
        if (n <= 0)
            break;
        polled += n;
    }
    CHECK(polled == 2 && c[0].ret == 0 && c[1].ret == 0, "async block status failed");
    CHECK(hole.flags == (GRANULE_EXTENT_ZERO | GRANULE_EXTENT_ALLOCATED) && hole.length == 1 << 20,
          "async hole: flags %u length %llu", hole.flags, (unsigned long long)hole.length);
    CHECK((data.flags & GRANULE_EXTENT_DATA) && data.length >= 4096, "async data: flags %u", data.flags);

    CHECK(granule_is_growable(dev) == 0, "growable without growable=on");
    CHECK_RET(granule_truncate(dev, 8 << 20), 0);
    CHECK(granule_get_length(dev) == 8 << 20, "length after truncate %llu",
          (unsigned long long)granule_get_length(dev));
    granule_close(dev);

    snprintf(spec, sizeof spec, "driver=raw-posix,filename=%s,growable=on", path);
    dev = open_or_die(spec, 0);
    CHECK(granule_is_growable(dev) == 1, "growable=on, yet not growable");
    CHECK_RET(granule_pwrite(dev, (8 << 20) + 10, buf, 100, 0), 0);
    CHECK(granule_get_length(dev) == (8 << 20) + 110, "grown to %llu", (unsigned long long)granule_get_length(dev));
    granule_close(dev);
}

/* A container's signature in the first bytes: read, never written. */
static void test_format(void)
{
    const char *path = temp_path("looks-like.qcow2");
    FILE *f = fopen(path, "w");
    static const unsigned char qcow2[512] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 3};
    fwrite(qcow2, 1, sizeof qcow2, f);
    fclose(f);
    if (truncate(path, 1 << 20) != 0)
        exit(1);
    char spec[256];
    snprintf(spec, sizeof spec, "driver=raw-posix,filename=%s", path);
    granule_device *dev = open_or_die(spec, 0);
    const char *description = NULL;
    const char *format = granule_get_format(dev, &description);
    CHECK(format && strcmp(format, "qcow2") == 0, "format %s", format ? format : "(null)");
    CHECK(description && strstr(description, "recognised"), "description %s", description ? description : "(null)");
    char b[10] = "xxxxxxxxx";
    CHECK_RET(granule_pwrite(dev, 4096, b, 10, 0), -EPERM);
    CHECK_MSG("qcow2");
    CHECK_RET(granule_pread(dev, 0, b, 4, 0), 0);
    granule_close(dev);
    snprintf(spec, sizeof spec, "driver=raw-posix,filename=%s,format=raw", path);
    dev = open_or_die(spec, 0);
    format = granule_get_format(dev, NULL);
    CHECK(format && strcmp(format, "raw") == 0, "format=raw gave %s", format ? format : "(null)");
    CHECK_RET(granule_pwrite(dev, 4096, b, 10, 0), 0);
    granule_close(dev);
    CHECK(granule_get_format(NULL, &description) == NULL && description == NULL, "NULL dev");
}

#endif

static void test_reopen(void)
{
    granule_device *dev = open_or_die(aligned_ram, 0);
    struct granule_kv bad[] = {{"no-such-key", "1"}};
    CHECK(granule_reopen(dev, bad, 1) < 0, "reopen with an unknown key succeeded");
    CHECK_MSG("no-such-key");
    struct granule_kv throttle[] = {{"throttle.iops-total", "100000"}};
    CHECK_RET(granule_reopen(dev, throttle, 1), 0);
    char buf[10] = "abcdefghi";
    CHECK_RET(granule_pwrite(dev, 5, buf, 10, 0), 0);
    granule_close(dev);
}

/* ---- async ---- */

struct write_job {
    uint64_t offset;
    size_t len;
    unsigned char *buf;
};

static atomic_int completed;
static atomic_int completion_errors;

static void count_completion(const struct granule_completion *c)
{
    if (c->ret != 0 || c->error_msg != NULL)
        atomic_fetch_add(&completion_errors, 1);
    (void)c->user_data;
    atomic_fetch_add(&completed, 1);
}

static struct write_job *make_jobs(int n, unsigned char *model)
{
    struct write_job *jobs = calloc((size_t)n, sizeof *jobs);
    for (int i = 0; i < n; i++) {
        /* Clustered in 64 KiB so writes overlap and share blocks often. */
        size_t len = 1 + rnd(6000);
        uint64_t off = rnd(65536 - len);
        jobs[i] = (struct write_job){off, len, malloc(len)};
        memset(jobs[i].buf, 1 + i % 255, len);
        memcpy(model + off, jobs[i].buf, len);
    }
    return jobs;
}

static void free_jobs(struct write_job *jobs, int n)
{
    for (int i = 0; i < n; i++)
        free(jobs[i].buf);
    free(jobs);
}

/* Thousands of overlapping unaligned writes in flight: they land in
 * submission order, whatever order they complete in. */
static void test_async_callbacks(void)
{
    enum { N = IN_FLIGHT };
    granule_device *dev = open_or_die(aligned_ram, 0);
    unsigned char *model = calloc(SIZE, 1);
    struct write_job *jobs = make_jobs(N, model);
    atomic_store(&completed, 0);
    for (int i = 0; i < N; i++)
        CHECK_RET(granule_submit_pwrite(dev, jobs[i].offset, jobs[i].buf, jobs[i].len, 0, count_completion, &jobs[i]), 0);
    /* Completion order is free: wait for the count. */
    for (int spin = 0; atomic_load(&completed) < N && spin < 60000; spin++)
        sleep_ms(1);
    CHECK(atomic_load(&completed) == N, "%d of %d completed", atomic_load(&completed), N);
    CHECK(atomic_load(&completion_errors) == 0, "%d failed", atomic_load(&completion_errors));
    compare_device(dev, model, SIZE, "after the overlapping async writes");
    free_jobs(jobs, N);
    free(model);
    granule_close(dev);
}

/* Whether the completion fd is readable (1), not (0), or after waiting up
 * to timeout_ms. Windows has no completion fd: the answer is whether
 * granule_poll_completions would find something, which the caller then
 * asks it anyway (-1: no fd to ask). */
static int fd_readable_within(int fd, int timeout_ms)
{
#ifdef _WIN32
    (void)fd;
    (void)timeout_ms;
    return -1;
#else
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
#endif
}
static int fd_readable(int fd) { return fd_readable_within(fd, 0) == 1; }

/* Requests without a callback: the completion fd says when to poll. */
static void test_async_poll(void)
{
    enum { N = IN_FLIGHT * 2 / 3 };
    granule_device *dev = open_or_die(aligned_ram, 0);
    int fd = granule_get_completion_fd(dev);
#ifdef _WIN32
    CHECK(fd == -ENOTSUP, "a completion fd on Windows: %d", fd);
#else
    CHECK(fd >= 0, "completion fd %d", fd);
    CHECK(granule_get_completion_fd(dev) == fd, "a second call returned another fd");
#endif
    CHECK(!fd_readable(fd), "readable with nothing queued");
    unsigned char *model = calloc(SIZE, 1);
    struct write_job *jobs = make_jobs(N, model);
    char *seen = calloc(N + 1, 1);
    for (int i = 0; i < N; i++)
        CHECK_RET(granule_submit_pwrite(dev, jobs[i].offset, jobs[i].buf, jobs[i].len, 0, NULL, &jobs[i]), 0);
    /* One that fails, with its message. */
    CHECK_RET(granule_submit_pwrite(dev, SIZE - 10, jobs[0].buf, 20, 0, NULL, &seen[N]), 0);
    int got = 0, failed = 0;
    struct granule_completion c[64];
    while (got < N + 1) {
        int readable = fd_readable_within(fd, 10000);
        if (readable == 0) {
            CHECK(0, "the completion fd stayed quiet with %d of %d taken", got, N + 1);
            break;
        }
        int n = granule_poll_completions(dev, c, 64, readable < 0 ? 10000 : 0);
        CHECK(n > 0, "readable fd, yet poll_completions returned %d", n);
        for (int i = 0; i < n; i++) {
            if (c[i].user_data == &seen[N]) {
                failed++;
                CHECK(c[i].ret == -EIO && c[i].error_msg &&
                          strstr(c[i].error_msg, "granule_submit_pwrite: 20 bytes at offset 1048566"),
                      "the failed write: %d %s", c[i].ret, c[i].error_msg ? c[i].error_msg : "(null)");
            } else {
                int idx = (int)((struct write_job *)c[i].user_data - jobs);
                CHECK(idx >= 0 && idx < N && !seen[idx] && c[i].ret == 0 && !c[i].error_msg,
                      "completion %d (ret %d)", idx, c[i].ret);
                if (idx >= 0 && idx < N)
                    seen[idx] = 1;
            }
        }
        got += n > 0 ? n : 0;
    }
    CHECK(failed == 1, "%d failed completions", failed);
    CHECK(!fd_readable(fd), "still readable with the queue empty");
    CHECK_RET(granule_poll_completions(dev, c, 64, 0), 0);
    compare_device(dev, model, SIZE, "after the polled writes");
    /* A timeout with nothing in flight. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_RET(granule_poll_completions(dev, c, 64, 50), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(ms >= 45, "timed out after %.1f ms, not 50", ms);
    /* A blocking poll wakes for a completion. */
    char b[3];
    CHECK_RET(granule_submit_pread(dev, 1, b, 3, 0, NULL, b), 0);
    CHECK_RET(granule_poll_completions(dev, c, 64, -1), 1);
    CHECK(c[0].user_data == b && c[0].ret == 0, "blocking poll");
    free(seen);
    free_jobs(jobs, N);
    free(model);
    granule_close(dev);
}

/* What a callback may and may not do on the device's thread. */
static granule_device *cb_dev;
static atomic_int cb_stage;
static int cb_results[4];
static char cb_buf[16];

static void chained_completion(const struct granule_completion *c)
{
    (void)c;
    atomic_fetch_add(&cb_stage, 1);
}

static void probing_completion(const struct granule_completion *c)
{
    struct granule_completion out[1];
    (void)c;
    cb_results[0] = granule_pread(cb_dev, 0, cb_buf, 4, 0);
    cb_results[1] = granule_close(cb_dev);
    cb_results[2] = granule_poll_completions(cb_dev, out, 1, -1);
    cb_results[3] = granule_submit_pread(cb_dev, 0, cb_buf, 4, 0, chained_completion, NULL);
    atomic_fetch_add(&cb_stage, 1);
}

static void test_callback_rules(void)
{
    cb_dev = open_or_die(aligned_ram, 0);
    atomic_store(&cb_stage, 0);
    CHECK_RET(granule_submit_flush(cb_dev, probing_completion, NULL), 0);
    for (int spin = 0; atomic_load(&cb_stage) < 2 && spin < 10000; spin++)
        sleep_ms(1);
    CHECK(atomic_load(&cb_stage) == 2, "stage %d", atomic_load(&cb_stage));
    CHECK(cb_results[0] == -EDEADLK, "sync pread in a callback returned %d", cb_results[0]);
    CHECK(cb_results[1] == -EDEADLK, "close in a callback returned %d", cb_results[1]);
    CHECK(cb_results[2] == -EDEADLK, "blocking poll in a callback returned %d", cb_results[2]);
    CHECK(cb_results[3] == 0, "submit in a callback returned %d", cb_results[3]);
    CHECK_RET(granule_close(cb_dev), 0);
}

/* close waits for what is in flight: every callback ran when it returns. */
static void test_close_in_flight(void)
{
    enum { N = IN_FLIGHT / 3 };
    granule_device *dev = open_or_die(aligned_ram, 0);
    static unsigned char buf[5000];
    atomic_store(&completed, 0);
    atomic_store(&completion_errors, 0);
    for (int i = 0; i < N; i++) {
        CHECK_RET(granule_submit_pwrite(dev, rnd(SIZE - 5000), buf, 1 + rnd(4999), 0, count_completion, NULL), 0);
        CHECK_RET(granule_submit_pread(dev, rnd(SIZE - 5000), buf, 1 + rnd(4999), 0, NULL, NULL), 0);
    }
    CHECK_RET(granule_submit_discard(dev, 4096, 8192, count_completion, NULL), 0);
    CHECK_RET(granule_submit_write_zeroes(dev, 100, 9000, 0, count_completion, NULL), 0);
    CHECK_RET(granule_submit_write_zeroes(dev, 100, 9000, 64, count_completion, NULL), -EINVAL);
    CHECK_RET(granule_close(dev), 0);
    CHECK(atomic_load(&completed) == N + 2, "%d callbacks ran before close returned", atomic_load(&completed));
}

/* Each thread has its own message. */
static void *fail_on_thread(void *arg)
{
    char b[1];
    granule_pread((granule_device *)arg, SIZE + 7, b, 1, 0);
    return strstr(granule_get_error_msg(), "offset 1048583") ? (void *)1 : NULL;
}

static void test_thread_messages(void)
{
    granule_device *dev = open_or_die(aligned_ram, 0);
    char b[1];
    granule_pread(dev, SIZE + 3, b, 1, 0);
    pthread_t t;
    void *other_ok = NULL;
    pthread_create(&t, NULL, fail_on_thread, dev);
    pthread_join(t, &other_ok);
    CHECK(other_ok, "the other thread did not see its own message");
    CHECK_MSG("offset 1048579");
    granule_close(dev);
}

struct test {
    const char *name;
    void (*run)(void);
};
static const struct test tests[] = {
    {"versions", test_versions},
    {"open_errors", test_open_errors},
    {"sync_unaligned", test_sync_unaligned},
    {"limits", test_limits},
    {"stat_names", test_stat_names},
    {"bad_requests", test_bad_requests},
#ifndef _WIN32
    {"zeroes_discard_status_truncate", test_zeroes_discard_status_truncate},
    {"format", test_format},
#endif
    {"reopen", test_reopen},
    {"async_callbacks", test_async_callbacks},
    {"async_poll", test_async_poll},
    {"callback_rules", test_callback_rules},
    {"close_in_flight", test_close_in_flight},
    {"thread_messages", test_thread_messages},
};

int main(int argc, char **argv)
{
    int ran = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
            continue;
        int before = failures;
        tests[i].run();
        printf("%s %s\n", failures == before ? "PASS" : "FAIL", tests[i].name);
        ran++;
    }
#ifndef _WIN32
    if (tmpdir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
#endif
    if (!ran) {
        fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "");
        return 2;
    }
    return failures ? 1 : 0;
}
