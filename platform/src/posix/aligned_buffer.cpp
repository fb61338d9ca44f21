#include <granule/platform/aligned_buffer.hpp>

#include <cstdlib>
#include <new>
#include <unistd.h>

namespace granule::platform {

void *aligned_alloc(std::size_t alignment, std::size_t size) noexcept
{
    if (!is_power_of_two(alignment))
        return nullptr;
    // posix_memalign wants a multiple of sizeof(void*); a stronger alignment
    // satisfies every weaker power of two.
    if (alignment < sizeof(void *))
        alignment = sizeof(void *);
    void *p = nullptr;
    if (posix_memalign(&p, alignment, size ? size : 1) != 0)
        return nullptr;
    return p;
}

void aligned_free(void *p) noexcept { std::free(p); }

std::size_t page_size() noexcept
{
    static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    return size;
}

}  // namespace granule::platform
