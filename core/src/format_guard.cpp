// Format safety (docs/architecture.md, "Format safety"): without format=raw
// the device reads its first bytes once at open; a container's signature
// there refuses every write, discard, zeroing and truncate (EPERM) while
// reads go on; without one, a change that would put a signature there is
// refused, so nothing written through a probed raw device makes the next
// open take it for a container.
#include "format_guard.hpp"
#include "device_impl.hpp"

#include <granule/platform/aligned_buffer.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace granule {

namespace asio = boost::asio;

result<bool> take_format_option(options &opts)
{
    auto it = opts.find("format");
    if (it == opts.end())
        return false;
    if (it->second != "raw")
        return make_error(EINVAL, "option 'format': '" + it->second +
                                      "' is not supported: Granule has no format drivers and "
                                      "reads every image as raw bytes (format=raw is the only "
                                      "value: it says the image is meant as raw)");
    opts.erase(it);
    return true;
}

namespace {

const std::string *filename_of(const node &n)
{
    if (auto f = n.own_options().find("filename"); f != n.own_options().end())
        return &f->second;
    for (const auto &c : n.children())
        if (const auto *f = filename_of(*c))
            return f;
    return nullptr;
}

}  // namespace

std::string image_subject(const node &root)
{
    if (const auto *f = filename_of(root))
        return "'" + redact_secrets(*f) + "'";
    return std::string("the ") + root.driver().name + " device";
}

asio::awaitable<result<void>> device_impl::probe_format(bool given_raw, std::string subject)
{
    format_.subject = std::move(subject);
    if (given_raw) {
        format_.how = format_decision::basis::given;
        co_return result<void>{};
    }
    std::array<std::byte, format_probe_bytes> head{};
    auto got = co_await read_head(head);
    if (!got)
        co_return make_error(got.error().code,
                             format_.subject + ": cannot read the first bytes to look for an "
                                               "image format signature (open it with format=raw "
                                               "to skip the check): " +
                                 got.error().message);
    format_.probed = *got;
    if (auto found = recognise_format(std::span(head).first(*got))) {
        format_.how = format_decision::basis::signature;
        format_.format = found->format;
        format_.evidence = found->evidence;
    } else {
        format_.how = format_decision::basis::no_signature;
    }
    counters.reset();  // the open's read, not a caller's request
    co_return result<void>{};
}

// Not tracked: the caller runs before any request (the open) or has
// serialised against everything in the first bytes (truncate).
asio::awaitable<result<std::size_t>> device_impl::read_head(
    std::span<std::byte, format_probe_bytes> out)
{
    const auto len = length();
    const auto want = std::min<std::uint64_t>(format_probe_bytes, len);
    if (want == 0)
        co_return std::size_t{0};
    // Both powers of two: the larger is a multiple of the alignment.
    const auto block = std::max<std::uint64_t>(io_align(), format_probe_bytes);
    platform::aligned_buffer buf(limits_.opt_mem_alignment, block);
    granule_iovec one{buf.data(), std::min(block, align_up(len, io_align()))};
    auto got = co_await submit(GRANULE_OP_READ, 0, {&one, 1});
    if (!got)
        co_return got.error();
    const auto n = std::min<std::uint64_t>(*got, want);
    std::memcpy(out.data(), buf.data(), n);
    co_return static_cast<std::size_t>(n);
}

result<void> device_impl::refuse_container(const std::string &what) const
{
    if (!format_.refuses_writes())
        return {};
    return make_error(EPERM, what + ": " + format_.looks_like() +
                                 ": Granule reads it as raw bytes; writes are refused unless "
                                 "the image is opened with format=raw");
}

result<void> device_impl::check_head(const std::string &what,
                                     std::span<const std::byte> head) const
{
    auto found = recognise_format(head);
    if (!found)
        return {};
    return make_error(EPERM, what + ": refused: " + format_.subject + " would then look like a " +
                                 found->format + " image (" + found->evidence +
                                 ") and no longer open as raw; open the image with format=raw "
                                 "to write such bytes");
}

}  // namespace granule
