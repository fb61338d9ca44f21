/* docs/c-api.md quotes this program verbatim (tools.doc_snippets checks it). */
#include <granule.h>
#include <stdio.h>

int main(void)
{
    granule_device *dev;
    if (granule_open("driver=blkdebug,align=4096,image.driver=memory,image.size=64k", 0, &dev) < 0)
        return 1;
    struct granule_limit_info l[GRANULE_LIMIT_COUNT];
    int n = granule_get_limits(dev, l, GRANULE_LIMIT_COUNT);
    for (int i = 0; i < n && i < GRANULE_LIMIT_COUNT; i++)
        printf("%s=%llu (%s)\n", l[i].name, (unsigned long long)l[i].value, l[i].source);
    char b[100] = {0};
    granule_pwrite(dev, 10, b, sizeof b, 0);
    struct granule_stat s[GRANULE_STAT_COUNT];
    granule_get_stats(dev, s, GRANULE_STAT_COUNT);
    printf("rmw_cycles=%llu\n", (unsigned long long)s[GRANULE_STAT_RMW_CYCLES].value);
    granule_close(dev);
    return l[GRANULE_LIMIT_REQUEST_ALIGNMENT].value == 4096 ? 0 : 1;
}
