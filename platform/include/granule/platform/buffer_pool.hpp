// The device's bounce buffers, kept for reuse. A fresh buffer of 128 KiB or
// more comes from mmap and every page of it faults on first touch: with
// write gathering, that was half the CPU time of a stream of unaligned 4 KiB
// writes (perf: exc_page_fault under the copy into the buffer, and munmap).
// granule-nbd's request buffers came from mmap the same way (nbdcopy read
// at 40 % of qemu-nbd's speed). Sizes are rounded up to a power of two; a
// few buffers per size are kept, within a byte budget. One thread only (the
// device's, the server's).
#pragma once

#include "aligned_buffer.hpp"

#include <array>
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace granule::platform {

class buffer_pool;

// Owns a buffer of the pool (or its own, when the pool does not keep such
// sizes) and gives it back when it goes.
class pooled_buffer {
public:
    pooled_buffer() = default;
    pooled_buffer(buffer_pool *pool, aligned_buffer buf, std::size_t size)
        : pool_(pool), buf_(std::move(buf)), size_(size)
    {
    }
    pooled_buffer(pooled_buffer &&o) noexcept
        : pool_(std::exchange(o.pool_, nullptr)), buf_(std::move(o.buf_)), size_(o.size_)
    {
    }
    pooled_buffer &operator=(pooled_buffer &&o) noexcept
    {
        if (this != &o) {
            give_back();
            pool_ = std::exchange(o.pool_, nullptr);
            buf_ = std::move(o.buf_);
            size_ = o.size_;
        }
        return *this;
    }
    ~pooled_buffer() { give_back(); }

    std::byte *data() const noexcept { return buf_.data(); }
    std::size_t size() const noexcept { return size_; }

private:
    void give_back();

    buffer_pool *pool_ = nullptr;
    aligned_buffer buf_;
    std::size_t size_ = 0;
};

class buffer_pool {
public:
    // Every pooled buffer is aligned to this; stronger alignments bypass it.
    static constexpr std::size_t alignment = 4096;
    static constexpr std::size_t min_size = 4096;
    static constexpr std::size_t largest_size = std::size_t(32) << 20;

    // Buffers up to max_size are pooled, at most kept_per_size of each size
    // and kept_bytes in all; larger ones are the caller's alone.
    explicit buffer_pool(std::size_t max_size = std::size_t(4) << 20, std::size_t kept_per_size = 8,
                         std::size_t kept_bytes = SIZE_MAX)
        : max_size_(std::min(max_size, largest_size)), kept_per_size_(kept_per_size), kept_bytes_(kept_bytes)
    {
    }
    buffer_pool(const buffer_pool &) = delete;
    buffer_pool &operator=(const buffer_pool &) = delete;

    pooled_buffer get(std::size_t align, std::size_t size)
    {
        if (align > alignment || size > max_size_)
            return {nullptr, aligned_buffer(align, size), size};
        const auto cls = size_class(size);
        auto &free = free_[cls];
        if (!free.empty()) {
            auto buf = std::move(free.back());
            free.pop_back();
            kept_ -= buf.size();
            return {this, std::move(buf), size};
        }
        return {this, aligned_buffer(alignment, min_size << cls), size};
    }

private:
    friend class pooled_buffer;
    static constexpr std::size_t classes = std::countr_zero(largest_size / min_size) + 1;

    static std::size_t size_class(std::size_t size)
    {
        return size <= min_size ? 0 : std::bit_width((size - 1) / min_size);
    }
    void put(aligned_buffer buf)
    {
        auto &free = free_[size_class(buf.size())];
        if (free.size() < kept_per_size_ && kept_ + buf.size() <= kept_bytes_) {
            kept_ += buf.size();
            free.push_back(std::move(buf));
        }
    }

    std::size_t max_size_;
    std::size_t kept_per_size_;
    std::size_t kept_bytes_;
    std::size_t kept_ = 0;
    std::array<std::vector<aligned_buffer>, classes> free_;
};

inline void pooled_buffer::give_back()
{
    if (pool_ && buf_.data())
        pool_->put(std::move(buf_));
    pool_ = nullptr;
}

}  // namespace granule::platform
