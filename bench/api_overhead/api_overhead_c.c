/* Requests per second through the C API (granule.h), for
 * bench/api_overhead.sh:
 *   api_overhead_c SPEC sync|callback|poll COUNT [DEPTH]
 * The same requests as api_overhead_cpp: 4096-byte reads of aligned memory
 * at aligned offsets. callback resubmits from the completion callback (the
 * device's thread); poll waits in granule_poll_completions on this thread
 * and resubmits from here, as an event loop of the caller's would. */
#define _POSIX_C_SOURCE 200809L
#include <granule.h>

#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { BLOCK = 4096 };

static granule_device *dev;
static uint64_t count, length;
static char *buffers;
static uint64_t issued;  /* the device's thread only (callback mode) */
static atomic_uint_fast64_t done;
static sem_t finished;

static void die(const char *what, int ret)
{
    fprintf(stderr, "%s: %d %s\n", what, ret, granule_get_error_msg());
    exit(1);
}

static void on_read(const struct granule_completion *c);

static void submit(uintptr_t slot, granule_completion_cb cb)
{
    uint64_t offset = issued++ * BLOCK % length;
    int ret = granule_submit_pread(dev, offset, buffers + slot * BLOCK, BLOCK, 0, cb, (void *)slot);
    if (ret < 0)
        die("submit", ret);
}

static void on_read(const struct granule_completion *c)
{
    if (c->ret < 0) {
        fprintf(stderr, "read: %s\n", c->error_msg);
        exit(1);
    }
    if (atomic_fetch_add(&done, 1) + 1 == count)
        sem_post(&finished);
    else if (issued < count)
        submit((uintptr_t)c->user_data, on_read);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s SPEC sync|callback|poll COUNT [DEPTH]\n", argv[0]);
        return 2;
    }
    const char *mode = argv[2];
    count = strtoull(argv[3], NULL, 10);
    size_t depth = argc > 4 ? strtoul(argv[4], NULL, 10) : 1;
    int ret = granule_open(argv[1], 0, &dev);
    if (ret < 0)
        die("open", ret);
    length = granule_get_length(dev);
    buffers = aligned_alloc(BLOCK, BLOCK * depth);
    sem_init(&finished, 0, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (strcmp(mode, "sync") == 0) {
        for (uint64_t i = 0; i < count; i++)
            if ((ret = granule_pread(dev, i * BLOCK % length, buffers, BLOCK, 0)) < 0)
                die("pread", ret);
    } else if (strcmp(mode, "callback") == 0) {
        /* A completion may run at once, on the device's thread: issued is
         * set before the first submit and only the callbacks change it. */
        issued = depth < count ? depth : count;
        for (uintptr_t slot = 0; slot < depth && slot < count; slot++) {
            ret = granule_submit_pread(dev, slot * BLOCK % length, buffers + slot * BLOCK, BLOCK, 0,
                                       on_read, (void *)slot);
            if (ret < 0)
                die("submit", ret);
        }
        sem_wait(&finished);
    } else {
        struct granule_completion c[64];
        for (uintptr_t slot = 0; slot < depth && slot < count; slot++)
            submit(slot, NULL);
        uint64_t finished = 0;
        while (finished < count) {
            int n = granule_poll_completions(dev, c, 64, -1);
            if (n < 0)
                die("poll", n);
            for (int i = 0; i < n; i++) {
                if (c[i].ret < 0)
                    die("read", c[i].ret);
                if (issued < count)
                    submit((uintptr_t)c[i].user_data, NULL);
            }
            finished += (uint64_t)n;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%.0f\n", (double)count / s);
    granule_close(dev);
    free(buffers);
    return 0;
}
