/*
 * Prints the layout of every struct of the driver ABI as the header it was
 * compiled against defines it: "struct.member offset size" and "struct sizeof
 * N", then the version macros. Built twice (tests/abi/CMakeLists.txt): against
 * the frozen 1.0 header and against the current one; tst_abi_compat checks
 * that every 1.0 line is still true, so no member of a released minor version
 * can move, shrink or vanish, whatever a later edit does to the header.
 */
#include <granule/driver_abi.h>

#include <stdio.h>

#define MEMBER(s, m)                                                                    \
    printf("%s.%s %zu %zu\n", #s, #m, offsetof(struct s, m), sizeof(((struct s *)0)->m))
#define SIZE(s) printf("%s sizeof %zu\n", #s, sizeof(struct s))

int main(void)
{
    MEMBER(granule_iovec, base);
    MEMBER(granule_iovec, len);
    SIZE(granule_iovec);

    MEMBER(granule_limit, value);
    MEMBER(granule_limit, source);
    SIZE(granule_limit);

    MEMBER(granule_limits, struct_size);
    MEMBER(granule_limits, request_alignment);
    MEMBER(granule_limits, min_mem_alignment);
    MEMBER(granule_limits, opt_mem_alignment);
    MEMBER(granule_limits, max_transfer);
    MEMBER(granule_limits, opt_transfer);
    MEMBER(granule_limits, pwrite_zeroes_alignment);
    MEMBER(granule_limits, pdiscard_alignment);
    MEMBER(granule_limits, max_pdiscard);
#if GRANULE_DRIVER_ABI_MINOR >= 1
    MEMBER(granule_limits, max_iov);
#endif
    SIZE(granule_limits);

    MEMBER(granule_request, op);
    MEMBER(granule_request, flags);
    MEMBER(granule_request, offset);
    MEMBER(granule_request, length);
    MEMBER(granule_request, iov);
    MEMBER(granule_request, iovcnt);
    SIZE(granule_request);

    MEMBER(granule_block_status, bytes);
    MEMBER(granule_block_status, status);
    SIZE(granule_block_status);

    MEMBER(granule_option_desc, name);
    MEMBER(granule_option_desc, type);
    MEMBER(granule_option_desc, flags);
    MEMBER(granule_option_desc, help);
    SIZE(granule_option_desc);

    MEMBER(granule_option, key);
    MEMBER(granule_option, value);
    SIZE(granule_option);

    MEMBER(granule_host, struct_size);
    MEMBER(granule_host, abi_version);
    MEMBER(granule_host, child_submit);
    MEMBER(granule_host, child_length);
    MEMBER(granule_host, child_limits);
    MEMBER(granule_host, child_flush);
    MEMBER(granule_host, child_discard);
    MEMBER(granule_host, child_write_zeroes);
    MEMBER(granule_host, child_block_status);
    MEMBER(granule_host, child_truncate);
    MEMBER(granule_host, child_flags);
    SIZE(granule_host);

    MEMBER(granule_open_args, struct_size);
    MEMBER(granule_open_args, flags);
    MEMBER(granule_open_args, options);
    MEMBER(granule_open_args, n_options);
    MEMBER(granule_open_args, n_children);
    MEMBER(granule_open_args, children);
    MEMBER(granule_open_args, host);
    SIZE(granule_open_args);

    MEMBER(granule_open_result, struct_size);
    MEMBER(granule_open_result, flags);
    MEMBER(granule_open_result, state);
    SIZE(granule_open_result);

    MEMBER(granule_driver, struct_size);
    MEMBER(granule_driver, abi_version);
    MEMBER(granule_driver, name);
    MEMBER(granule_driver, description);
    MEMBER(granule_driver, options);
    MEMBER(granule_driver, n_options);
    MEMBER(granule_driver, claims_plain_filenames);
    MEMBER(granule_driver, children);
    MEMBER(granule_driver, prefixes);
    MEMBER(granule_driver, open);
    MEMBER(granule_driver, close);
    MEMBER(granule_driver, length);
    MEMBER(granule_driver, submit);
    MEMBER(granule_driver, refresh_limits);
    MEMBER(granule_driver, flush);
    MEMBER(granule_driver, discard);
    MEMBER(granule_driver, write_zeroes);
    MEMBER(granule_driver, block_status);
    MEMBER(granule_driver, reopen);
    MEMBER(granule_driver, truncate);
    MEMBER(granule_driver, info);
    MEMBER(granule_driver, debug_event);
    MEMBER(granule_driver, debug_breakpoint);
    MEMBER(granule_driver, debug_remove_breakpoint);
    MEMBER(granule_driver, debug_resume);
    MEMBER(granule_driver, debug_is_suspended);
    MEMBER(granule_driver, poll_fd);
    MEMBER(granule_driver, poll);
    MEMBER(granule_driver, unplug);
    SIZE(granule_driver);

    /* Values that cross the boundary. */
    printf("GRANULE_REQ_FUA %u\n", GRANULE_REQ_FUA);
    printf("GRANULE_REQ_MAY_UNMAP %u\n", GRANULE_REQ_MAY_UNMAP);
    printf("GRANULE_REQ_NO_FALLBACK %u\n", GRANULE_REQ_NO_FALLBACK);
    printf("GRANULE_NODE_GROWABLE %u\n", GRANULE_NODE_GROWABLE);
    printf("GRANULE_NODE_READ_ONLY %u\n", GRANULE_NODE_READ_ONLY);
    printf("GRANULE_NODE_FUA %u\n", GRANULE_NODE_FUA);
    printf("GRANULE_NODE_ZERO_MAY_UNMAP %u\n", GRANULE_NODE_ZERO_MAY_UNMAP);
    printf("GRANULE_NODE_ZERO_NO_FALLBACK %u\n", GRANULE_NODE_ZERO_NO_FALLBACK);
#if GRANULE_DRIVER_ABI_MINOR >= 1
    printf("GRANULE_NODE_PADDED_END %u\n", GRANULE_NODE_PADDED_END);
#endif
    printf("GRANULE_OPEN_READ_ONLY %u\n", GRANULE_OPEN_READ_ONLY);
    printf("GRANULE_OPEN_HOST_POLLS %u\n", GRANULE_OPEN_HOST_POLLS);
    printf("GRANULE_OPEN_HOST_UNPLUGS %u\n", GRANULE_OPEN_HOST_UNPLUGS);
    printf("GRANULE_BLOCK_DATA %u\n", GRANULE_BLOCK_DATA);
    printf("GRANULE_BLOCK_ZERO %u\n", GRANULE_BLOCK_ZERO);
    printf("GRANULE_OP_READ %d\nGRANULE_OP_WRITE %d\n", GRANULE_OP_READ, GRANULE_OP_WRITE);
    printf("GRANULE_OPT_STRING %d\nGRANULE_OPT_SIZE %d\nGRANULE_OPT_BOOL %d\nGRANULE_OPT_INT %d\n",
           GRANULE_OPT_STRING, GRANULE_OPT_SIZE, GRANULE_OPT_BOOL, GRANULE_OPT_INT);
    printf("GRANULE_OPTF_REQUIRED %u\nGRANULE_OPTF_PREFIX %u\nGRANULE_OPTF_SECRET %u\n",
           GRANULE_OPTF_REQUIRED, GRANULE_OPTF_PREFIX, GRANULE_OPTF_SECRET);
    printf("GRANULE_DRIVER_ABI_MAJOR %d\n", GRANULE_DRIVER_ABI_MAJOR);
    printf("GRANULE_DRIVER_ENTRY_SYMBOL %s\n", GRANULE_DRIVER_ENTRY_SYMBOL);
    return 0;
}
