#include <granule/platform/aligned_buffer.hpp>

#include <new>

namespace granule::platform {

aligned_buffer::aligned_buffer(std::size_t alignment, std::size_t size)
    : p_(aligned_alloc(alignment, size)), size_(size)
{
    if (!p_)
        throw std::bad_alloc();
}

}  // namespace granule::platform
