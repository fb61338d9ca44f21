/* docs/c-api.md quotes this program verbatim (tools.doc_snippets checks it). */
#include <granule.h>
#include <poll.h>
#include <stdio.h>

enum { N = 1000 };

int main(void)
{
    granule_device *dev;
    if (granule_open("driver=blkdebug,align=4096,image.driver=memory,image.size=1M", 0, &dev) < 0)
        return 1;
    static char data[N][700];
    for (int i = 0; i < N; i++)  /* unaligned, overlapping: applied in this order */
        if (granule_submit_pwrite(dev, (uint64_t)i * 613, data[i], sizeof data[i], 0, NULL, data[i]) < 0)
            return 1;
    struct pollfd pfd = {granule_get_completion_fd(dev), POLLIN, 0};
    int done = 0, failed = 0;
    while (done < N && poll(&pfd, 1, 10000) == 1) {
        struct granule_completion c[64];
        int n = granule_poll_completions(dev, c, 64, 0);
        for (int i = 0; i < n; i++)
            if (c[i].ret < 0) {
                fprintf(stderr, "%s\n", c[i].error_msg);
                failed++;
            }
        done += n > 0 ? n : 0;
    }
    printf("%d writes completed, %d failed\n", done, failed);
    granule_close(dev);
    return done == N && failed == 0 ? 0 : 1;
}
