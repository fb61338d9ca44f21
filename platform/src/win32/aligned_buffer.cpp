#include <granule/platform/aligned_buffer.hpp>

#include <malloc.h>
#include <windows.h>

namespace granule::platform {

void *aligned_alloc(std::size_t alignment, std::size_t size) noexcept
{
    if (!is_power_of_two(alignment))
        return nullptr;
    // _aligned_malloc takes any power of two (it stores its bookkeeping in
    // front of the block, so 1, 2 and 4 are fine); size 0 would still be a
    // valid pointer, but 1 keeps "unique and non-null" independent of the CRT.
    return _aligned_malloc(size ? size : 1, alignment);
}

// Blocks from _aligned_malloc must go back through _aligned_free, never free().
void aligned_free(void *p) noexcept { _aligned_free(p); }

std::size_t page_size() noexcept
{
    static const std::size_t size = [] {
        SYSTEM_INFO si;
        GetSystemInfo(&si);
        return static_cast<std::size_t>(si.dwPageSize);
    }();
    return size;
}

}  // namespace granule::platform
