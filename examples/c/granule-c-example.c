/* granule-c-example: Granule's C API in one program. Opens a device (by
 * default a 1 MiB RAM disk behind blkdebug align=4096, so it takes only
 * 4096-aligned requests), prints its limits and where each came from,
 * writes and reads an unaligned range, then reads 64 unaligned ranges
 * asynchronously, waiting on the completion fd with poll(2) as an event
 * loop of your own would.
 *
 *   granule-c-example [SPEC]
 *   cc -o granule-c-example granule-c-example.c $(pkg-config --cflags --libs granule-c)
 */
#define _POSIX_C_SOURCE 200809L
#include <granule.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#define READS 64

static int die(const char *what, int ret)
{
    /* The message names the operation, offset and length. */
    fprintf(stderr, "granule-c-example: %s failed (%s): %s\n", what, strerror(-ret),
            granule_get_error_msg());
    return 1;
}

int main(int argc, char **argv)
{
    const char *spec = argc > 1 ? argv[1] : "driver=blkdebug,align=4096,image.driver=memory,image.size=1M";
    granule_device *dev;
    int ret = granule_open(spec, 0, &dev);
    if (ret < 0)
        return die("open", ret);
    printf("Granule %s, C API %u.%u; %llu bytes\n", granule_version(), granule_c_api_version() >> 16,
           granule_c_api_version() & 0xffff, (unsigned long long)granule_get_length(dev));

    struct granule_limit_info limits[GRANULE_LIMIT_COUNT];
    int n = granule_get_limits(dev, limits, GRANULE_LIMIT_COUNT);
    for (int i = 0; i < n && i < GRANULE_LIMIT_COUNT; i++)
        printf("  %-24s %10llu  (%s)\n", limits[i].name, (unsigned long long)limits[i].value, limits[i].source);

    /* Any offset, any length: this write straddles two 4096-byte blocks. */
    const char hello[] = "Hello, unaligned world";
    if ((ret = granule_pwrite(dev, 4090, hello, sizeof hello, 0)) < 0)
        return die("pwrite", ret);
    char back[sizeof hello];
    if ((ret = granule_pread(dev, 4090, back, sizeof back, 0)) < 0)
        return die("pread", ret);
    printf("read back at 4090: \"%s\"\n", back);

    /* Asynchronous reads without callbacks: their completions queue up, and
     * the completion fd is readable while any is queued. */
    static char bufs[READS][1000];
    for (int i = 0; i < READS; i++) {
        ret = granule_submit_pread(dev, 4090 + (uint64_t)i * 777, bufs[i], sizeof bufs[i], 0, NULL, bufs[i]);
        if (ret < 0)
            return die("submit_pread", ret);
    }
    struct pollfd pfd = {granule_get_completion_fd(dev), POLLIN, 0};
    int done = 0, failed = 0;
    while (done < READS) {
        if (poll(&pfd, 1, 10000) != 1)
            return die("poll on the completion fd", -ETIMEDOUT);
        struct granule_completion c[16];
        int got = granule_poll_completions(dev, c, 16, 0);
        for (int i = 0; i < got; i++) {
            if (c[i].ret < 0) {
                fprintf(stderr, "a read failed: %s\n", c[i].error_msg);
                failed++;
            }
        }
        done += got;
    }
    printf("%d asynchronous reads completed, %d failed; the first: \"%.22s\"\n", done, failed, bufs[0]);

    struct granule_stat stats[GRANULE_STAT_COUNT];
    granule_get_stats(dev, stats, GRANULE_STAT_COUNT);
    printf("read-modify-write cycles %llu, bytes through bounce buffers %llu\n",
           (unsigned long long)stats[GRANULE_STAT_RMW_CYCLES].value,
           (unsigned long long)stats[GRANULE_STAT_BYTES_BOUNCED].value);
    granule_close(dev);
    return failed != 0 || strcmp(back, hello) != 0;
}
