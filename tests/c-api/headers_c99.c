/* granule.h is C99 and shares no name with the driver ABI: this file is
 * compiled with -std=c99 -pedantic-errors and both headers. */
#include <granule.h>
#include <granule/driver_abi.h>

int granule_test_headers_c99(void);
int granule_test_headers_c99(void)
{
    struct granule_iov iov = {0, 0};
    struct granule_iovec driver_iov = {0, 0};
    return (int)(iov.len + driver_iov.len) + GRANULE_LIMIT_COUNT + GRANULE_STAT_COUNT;
}
