// Building and parsing the protocol's fixed-layout messages: big-endian
// numbers and length-prefixed strings, appended to or taken from a buffer.
#pragma once

#include "nbd_protocol.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace granule_nbd {

class message_builder {
public:
    message_builder &u16(std::uint16_t v) { return be(v, 2); }
    message_builder &u32(std::uint32_t v) { return be(v, 4); }
    message_builder &u64(std::uint64_t v) { return be(v, 8); }
    message_builder &bytes(std::string_view s)
    {
        bytes_.insert(bytes_.end(), s.begin(), s.end());
        return *this;
    }
    message_builder &zeroes(std::size_t n)
    {
        bytes_.insert(bytes_.end(), n, 0);
        return *this;
    }
    std::vector<unsigned char> &data() { return bytes_; }
    std::size_t size() const { return bytes_.size(); }

private:
    message_builder &be(std::uint64_t v, int n)
    {
        auto at = bytes_.size();
        bytes_.resize(at + n);
        put_be(bytes_.data() + at, v, n);
        return *this;
    }
    std::vector<unsigned char> bytes_;
};

// Reads fields in order; any read past the end makes ok() false for good, so
// a parser checks once at the end instead of after every field.
class message_reader {
public:
    explicit message_reader(const std::vector<unsigned char> &data) : data_(data) {}
    std::uint16_t u16() { return static_cast<std::uint16_t>(be(2)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(be(4)); }
    std::string string(std::size_t len)
    {
        if (!take(len))
            return {};
        return std::string(reinterpret_cast<const char *>(data_.data()) + at_ - len, len);
    }
    std::size_t remaining() const { return ok_ ? data_.size() - at_ : 0; }
    bool ok() const { return ok_; }
    bool at_end() const { return ok_ && at_ == data_.size(); }

private:
    bool take(std::size_t n)
    {
        if (!ok_ || data_.size() - at_ < n)
            return ok_ = false;
        at_ += n;
        return true;
    }
    std::uint64_t be(int n) { return take(n) ? get_be(data_.data() + at_ - n, n) : 0; }
    const std::vector<unsigned char> &data_;
    std::size_t at_ = 0;
    bool ok_ = true;
};

}  // namespace granule_nbd
