/* docs/c-api.md quotes this program verbatim (tools.doc_snippets checks it). */
#include <granule.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    /* A 1 MiB RAM disk that takes only 4096-aligned requests, as a 4k-sector
       disk with O_DIRECT would. */
    granule_device *dev;
    int ret = granule_open("driver=blkdebug,align=4096,image.driver=memory,image.size=1M", 0, &dev);
    if (ret < 0) {
        fprintf(stderr, "open: %s\n", granule_get_error_msg());
        return 1;
    }
    /* Any offset, any length: Granule reads the two blocks this straddles,
       merges, and writes them back. */
    const char msg[] = "byte-granular";
    ret = granule_pwrite(dev, 4090, msg, sizeof msg, 0);
    char back[sizeof msg];
    if (ret == 0)
        ret = granule_pread(dev, 4090, back, sizeof back, 0);
    if (ret < 0) {
        fprintf(stderr, "%s\n", granule_get_error_msg());
        granule_close(dev);
        return 1;
    }
    printf("%s\n", back);

    /* Past the end of a fixed-size device: -EIO, and a message saying so. */
    ret = granule_pwrite(dev, (1 << 20) - 5, msg, sizeof msg, 0);
    printf("%d: %s\n", ret, granule_get_error_msg());
    granule_close(dev);
    return strcmp(back, msg) != 0;
}
