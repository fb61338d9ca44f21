// Aligned memory for any power-of-two alignment, including 1, 2 and 4
// (below sizeof(void*), which posix_memalign refuses).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace granule::platform {

// Returns nullptr on allocation failure or when alignment is not a power of
// two. size 0 returns a unique non-null pointer. Free with aligned_free.
void *aligned_alloc(std::size_t alignment, std::size_t size) noexcept;
void aligned_free(void *p) noexcept;

std::size_t page_size() noexcept;

struct aligned_deleter {
    void operator()(void *p) const noexcept { aligned_free(p); }
};

// Owns size bytes at the given alignment; throws std::bad_alloc on failure.
class aligned_buffer {
public:
    aligned_buffer() = default;
    aligned_buffer(std::size_t alignment, std::size_t size);
    std::byte *data() const noexcept { return static_cast<std::byte *>(p_.get()); }
    std::size_t size() const noexcept { return size_; }

private:
    std::unique_ptr<void, aligned_deleter> p_;
    std::size_t size_ = 0;
};

inline bool is_power_of_two(std::uint64_t v) noexcept { return v && !(v & (v - 1)); }

}  // namespace granule::platform
