#include "buffers.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace granule_io {

std::optional<buffer_list> buffer_list::allocate(std::span<const std::uint64_t> lengths,
                                                 std::size_t base_alignment, std::size_t misalign)
{
    buffer_list out;
    out.elements_.reserve(lengths.size());
    for (std::uint64_t len : lengths) {
        if (len > SIZE_MAX - misalign) {
            return std::nullopt;
        }
        auto *p = static_cast<std::byte *>(::operator new(
            static_cast<std::size_t>(len) + misalign, std::align_val_t{base_alignment}, std::nothrow));
        if (!p) {
            return std::nullopt;
        }
        element e{std::unique_ptr<std::byte, aligned_free>(p, aligned_free{base_alignment}),
                  p + misalign, static_cast<std::size_t>(len)};
        out.elements_.push_back(std::move(e));
        out.size_ += len;
    }
    return out;
}

std::vector<granule::io_buffer> buffer_list::iov() const
{
    std::vector<granule::io_buffer> v;
    v.reserve(elements_.size());
    for (const auto &e : elements_) {
        v.push_back({e.data, e.len});
    }
    return v;
}

void buffer_list::fill(std::uint8_t byte)
{
    for (auto &e : elements_) {
        std::memset(e.data, byte, e.len);
    }
}

void buffer_list::fill_repeating(std::span<const std::uint8_t> content)
{
    std::size_t k = 0;
    for (auto &e : elements_) {
        auto *p = reinterpret_cast<std::uint8_t *>(e.data);
        for (std::size_t i = 0; i < e.len; ++i) {
            p[i] = content[k];
            k = k + 1 == content.size() ? 0 : k + 1;
        }
    }
}

bool buffer_list::range_equal(std::uint64_t offset, std::uint64_t count, std::uint8_t byte) const
{
    std::uint64_t base = 0;
    for (const auto &e : elements_) {
        const std::uint64_t from = std::max(offset, base), to = std::min(offset + count, base + e.len);
        for (std::uint64_t i = from; i < to; ++i)
            if (e.data[i - base] != std::byte{byte})
                return false;
        base += e.len;
    }
    return true;
}

std::vector<std::uint8_t> buffer_list::gather() const
{
    std::vector<std::uint8_t> v;
    v.reserve(size_);
    for (const auto &e : elements_) {
        auto *p = reinterpret_cast<const std::uint8_t *>(e.data);
        v.insert(v.end(), p, p + e.len);
    }
    return v;
}

}  // namespace granule_io
