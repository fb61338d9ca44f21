/*
 * A minimal but complete driver (zero-length, reads nothing), configured by
 * macros so each bad-driver case differs from a good driver in one way only:
 *   TINY_NAME            driver name (required)
 *   TINY_ABI_VERSION     abi_version to claim (default: the real one)
 *   TINY_MISSING_SYMBOL  reference a function nothing defines (RTLD_NOW fails)
 *   TINY_STRUCT_SIZE     struct_size to claim (default: sizeof the table)
 */
#include <granule/driver_abi.h>

#include <stddef.h>

#ifndef TINY_ABI_VERSION
#define TINY_ABI_VERSION GRANULE_DRIVER_ABI_VERSION
#endif
#ifndef TINY_STRUCT_SIZE
#define TINY_STRUCT_SIZE sizeof(struct granule_driver)
#endif

GRANULE_DRIVER_EXPORT const struct granule_driver *granule_driver_entry(void);

#ifdef TINY_MISSING_SYMBOL
/* Defined nowhere: with immediate binding dlopen itself must fail. */
extern int granule_test_symbol_that_does_not_exist(void);
#endif

static int tiny_open(const struct granule_open_args *args, struct granule_open_result *out,
                     char *err, size_t errlen)
{
    (void)args;
    (void)err;
    (void)errlen;
#ifdef TINY_MISSING_SYMBOL
    if (granule_test_symbol_that_does_not_exist() < 0)
        return -1;
#endif
    out->flags = 0;
    out->state = NULL;
    return 0;
}

static void tiny_close(void *state) { (void)state; }

static int64_t tiny_length(void *state)
{
    (void)state;
    return 0;
}

static int tiny_submit(void *state, const struct granule_request *req, granule_completion_fn cb,
                       void *opaque)
{
    (void)state;
    (void)req;
    cb(opaque, 0, NULL); /* past the end of a zero-length node: EOF */
    return 0;
}

static const struct granule_driver tiny_driver = {
    .struct_size = TINY_STRUCT_SIZE,
    .abi_version = TINY_ABI_VERSION,
    .name = TINY_NAME,
    .description = "broken on purpose: loader test",
    .open = tiny_open,
    .close = tiny_close,
    .length = tiny_length,
    .submit = tiny_submit,
};

const struct granule_driver *granule_driver_entry(void) { return &tiny_driver; }
