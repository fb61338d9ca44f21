// Caller-side buffers for I/O commands: one separate allocation per iovec
// element, so element boundaries are real memory boundaries (a core that
// wrongly assumed contiguity would read past one), each placed `misalign`
// bytes after a base aligned to `base_alignment`.
#pragma once

#include <granule/device.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace granule_io {

class buffer_list {
public:
    // nullopt when memory runs out; base_alignment must be a power of two.
    static std::optional<buffer_list> allocate(std::span<const std::uint64_t> lengths,
                                               std::size_t base_alignment,
                                               std::size_t misalign);

    std::vector<granule::io_buffer> iov() const;
    std::uint64_t size() const { return size_; }
    void fill(std::uint8_t byte);
    // content repeated from the start over every element (content not empty).
    void fill_repeating(std::span<const std::uint8_t> content);
    // Whether every byte of [offset, offset + count) of the whole list is byte.
    bool range_equal(std::uint64_t offset, std::uint64_t count, std::uint8_t byte) const;
    // A contiguous copy, for hexdumps.
    std::vector<std::uint8_t> gather() const;

private:
    struct aligned_free {
        std::size_t alignment;
        void operator()(std::byte *p) const noexcept
        {
            ::operator delete(p, std::align_val_t{alignment});
        }
    };
    struct element {
        std::unique_ptr<std::byte, aligned_free> memory;
        std::byte *data;
        std::size_t len;
    };
    std::vector<element> elements_;
    std::uint64_t size_ = 0;
};

}  // namespace granule_io
