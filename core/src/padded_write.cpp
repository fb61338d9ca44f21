#include "padded_write.hpp"

#include <cstring>

namespace granule {

padded_write::padded_write(std::uint64_t offset, std::span<const io_buffer> iov,
                           std::uint64_t align)
    : offset_(offset), bytes_(iov_total(iov)), align_(align), first_(iov),
      plan_(make_pad_plan(offset, bytes_, align))
{
}

void padded_write::append(std::span<const io_buffer> iov)
{
    if (gathered_.empty())
        gathered_.assign(first_.begin(), first_.end());
    gathered_.insert(gathered_.end(), iov.begin(), iov.end());
    bytes_ += iov_total(iov);
    plan_ = make_pad_plan(offset_, bytes_, align_);
}

void padded_write::layout(buffer_pool &pool, std::uint64_t min_mem_align,
                          std::uint64_t opt_mem_align)
{
    zero_copy_ = memory_aligned(data(), plan_.head, plan_.tail, min_mem_align);
    if (zero_copy_) {
        if (const auto blocks = plan_.rmw_blocks())
            buf_ = pool.get(opt_mem_align, blocks * align_);
        head_ = plan_.head ? buf_.data() : nullptr;
        tail_ = plan_.tail ? buf_.data() + (plan_.head && !plan_.same_block ? align_ : 0)
                           : nullptr;
        bounced_ = plan_.head + plan_.tail;
    } else {
        buf_ = pool.get(opt_mem_align, plan_.bytes);
        head_ = plan_.head ? buf_.data() : nullptr;
        tail_ = plan_.tail ? buf_.data() + plan_.bytes - align_ : nullptr;
        bounced_ = plan_.bytes;
    }
}

driver_iov padded_write::assemble()
{
    iov_.clear();
    if (zero_copy_) {
        granule::append(iov_, head_, plan_.head);
        granule::append(iov_, data());
        if (plan_.tail)
            granule::append(iov_, tail_block() + align_ - plan_.tail, plan_.tail);
    } else {
        copy_from_iov(buf_.data() + plan_.head, data());
        granule::append(iov_, buf_.data(), plan_.bytes);
    }
    return iov_;
}

void padded_write::carry(std::uint64_t offset, std::span<const io_buffer> iov)
{
    std::byte *dst = !zero_copy_ ? buf_.data() + (offset - plan_.offset)
                     : offset < offset_ ? head_block() + (offset - plan_.offset)
                                        : tail_block() + (offset - (plan_.end() - align_));
    copy_from_iov(dst, iov);
    if (zero_copy_)
        bounced_ += iov_total(iov);
}

void padded_write::copy_out(std::uint64_t from, std::uint64_t n, std::byte *dst) const
{
    for (const auto &e : iov_slice(iov_, from, n)) {
        std::memcpy(dst, e.base, e.len);
        dst += e.len;
    }
}

}  // namespace granule
