// Helpers for tests that drive a granule::device: caller buffers of a given
// iovec shape and misalignment, a byte-exact model, and whole-device checks.
#pragma once

#include <granule/device.hpp>

#include "test_support.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace granule_test {

using granule::io_buffer;

// Where a caller's scatter/gather list comes from.
enum class shape { single, single_misaligned, three_uneven, three_misaligned };

inline const char *shape_name(shape s)
{
    switch (s) {
    case shape::single: return "single";
    case shape::single_misaligned: return "single_misaligned";
    case shape::three_uneven: return "three_uneven";
    case shape::three_misaligned: return "three_misaligned";
    }
    return "?";
}

inline const std::vector<shape> &all_shapes()
{
    static const std::vector<shape> s{shape::single, shape::single_misaligned,
                                      shape::three_uneven, shape::three_misaligned};
    return s;
}

// Caller memory laid out as one shape. Element bases are 64 KiB-aligned plus
// a per-shape skew, so "aligned" means aligned for every mem-align tested.
class shaped_buffer {
public:
    static constexpr std::size_t max_align = 65536;

    shaped_buffer(shape s, std::size_t len, std::size_t skew_base = 0)
    {
        std::vector<std::size_t> lens, skews;
        // Uneven cuts; on 512-byte multiples when the total allows, so the
        // three-element shape can still go zero-copy.
        auto cut = [&](std::size_t v) { return len >= 1024 ? v / 512 * 512 : v; };
        switch (s) {
        case shape::single: lens = {len}; skews = {0}; break;
        case shape::single_misaligned: lens = {len}; skews = {1}; break;
        case shape::three_uneven:
        case shape::three_misaligned: {
            std::size_t a = cut(len / 5);
            std::size_t b = cut((len - a) * 2 / 3);
            lens = {a, b, len - a - b};
            skews = s == shape::three_uneven ? std::vector<std::size_t>{0, 0, 0}
                                             : std::vector<std::size_t>{1, 3, 7};
            break;
        }
        }
        for (std::size_t i = 0; i < lens.size(); ++i) {
            storage_.emplace_back(lens[i] + 2 * max_align, std::uint8_t(0xEE));
            auto p = reinterpret_cast<std::uintptr_t>(storage_.back().data());
            auto base = (p + max_align - 1) / max_align * max_align + skews[i] + skew_base;
            iov_.push_back({reinterpret_cast<void *>(base), lens[i]});
        }
    }

    const std::vector<io_buffer> &iov() const { return iov_; }

    void scatter(const std::uint8_t *src)
    {
        for (auto &b : iov_) {
            std::copy_n(src, b.len, static_cast<std::uint8_t *>(b.base));
            src += b.len;
        }
    }
    std::vector<std::uint8_t> gather() const
    {
        std::vector<std::uint8_t> out;
        for (auto &b : iov_) {
            auto *p = static_cast<const std::uint8_t *>(b.base);
            out.insert(out.end(), p, p + b.len);
        }
        return out;
    }

private:
    std::vector<std::vector<std::uint8_t>> storage_;
    std::vector<io_buffer> iov_;
};

inline std::vector<std::uint8_t> pattern(std::uint64_t seed, std::size_t len)
{
    std::vector<std::uint8_t> v(len);
    for (std::size_t i = 0; i < len; ++i)
        v[i] = pattern_byte(seed, i);
    return v;
}

// "" when equal, else where and how they first differ (base = device offset
// of expected[0]).
inline std::string first_difference(const std::vector<std::uint8_t> &expected,
                                    const std::vector<std::uint8_t> &got, std::uint64_t base = 0)
{
    if (expected.size() != got.size())
        return "size " + std::to_string(got.size()) + ", expected " +
               std::to_string(expected.size());
    auto m = std::mismatch(expected.begin(), expected.end(), got.begin());
    if (m.first == expected.end())
        return {};
    auto i = static_cast<std::uint64_t>(m.first - expected.begin());
    return "byte at offset " + std::to_string(base + i) + ": expected " +
           std::to_string(*m.first) + ", got " + std::to_string(*m.second);
}

// A device plus the bytes it must hold.
struct modelled_device {
    std::unique_ptr<granule::device> dev;
    std::vector<std::uint8_t> model;
    std::string error;  // why open or a setup write failed

    explicit modelled_device(const std::string &spec, granule::open_flags flags = {})
    {
        auto r = granule::device::open(spec, flags);
        if (!r) {
            error = spec + ": " + r.error().message;
            return;
        }
        dev = std::move(*r);
        model.assign(dev->length(), 0);
    }

    // Writes through the device and the model; "" or what went wrong.
    std::string write(std::uint64_t offset, const std::vector<std::uint8_t> &data, shape s)
    {
        shaped_buffer buf(s, data.size());
        buf.scatter(data.data());
        auto r = dev->pwritev(offset, buf.iov());
        if (!r)
            return "pwritev failed: " + r.error().message;
        if (*r != data.size())
            return "pwritev returned " + std::to_string(*r);
        if (model.size() < offset + data.size())
            model.resize(offset + data.size(), 0);
        std::copy(data.begin(), data.end(), model.begin() + static_cast<std::ptrdiff_t>(offset));
        return {};
    }

    // Fills the whole device with one aligned write of pattern seed.
    std::string fill(std::uint64_t seed)
    {
        if (model.empty())
            return {};
        return write(0, pattern(seed, model.size()), shape::single);
    }

    // Reads [offset, offset + len) in shape s; "" or the first difference
    // from the model (zeroes past its end).
    std::string check_range(std::uint64_t offset, std::size_t len, shape s) const
    {
        shaped_buffer buf(s, len);
        auto r = dev->preadv(offset, buf.iov());
        if (!r)
            return "preadv failed: " + r.error().message;
        if (*r != len)
            return "preadv returned " + std::to_string(*r);
        std::vector<std::uint8_t> want(len, 0);
        for (std::size_t i = 0; i < len && offset + i < model.size(); ++i)
            want[i] = model[offset + i];
        return first_difference(want, buf.gather(), offset);
    }

    // The length and every byte of the device against the model.
    std::string check_all() const
    {
        if (dev->length() != model.size())
            return "length " + std::to_string(dev->length()) + ", expected " +
                   std::to_string(model.size());
        if (model.empty())
            return {};
        return check_range(0, model.size(), shape::single);
    }
};

}  // namespace granule_test
