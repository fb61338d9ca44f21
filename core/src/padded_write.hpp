// A write's padded request (QEMU keeps the like in BdrvRequestPadding): the
// bytes of a run of caller writes that follow each other -- the write itself
// and the writes it gathered -- widened to the alignment. The blocks of its
// head and tail are read back (read-modify-write) into buffers of its own,
// and the writes queued into that padding are copied there (coalescing).
// Pure memory work, no I/O: the pipeline's steps (write_path.cpp) drive it.
#pragma once

#include "iov_util.hpp"
#include "padding.hpp"

#include <granule/platform/buffer_pool.hpp>
#include <cstdint>
#include <span>
#include <vector>

namespace granule {

using platform::buffer_pool;
using platform::pooled_buffer;

class padded_write {
public:
    padded_write(std::uint64_t offset, std::span<const io_buffer> iov, std::uint64_t align);

    // Appends the bytes of a gathered write, which starts where the run ends.
    // Only before layout().
    void append(std::span<const io_buffer> iov);

    // Decides zero-copy (every buffer and the padding aligned for memory)
    // and allocates the head/tail blocks, or one bounce buffer for all.
    void layout(buffer_pool &pool, std::uint64_t min_mem_align, std::uint64_t opt_mem_align);

    std::uint64_t offset() const { return offset_; }  // the run's first byte
    std::uint64_t bytes() const { return bytes_; }    // the run's bytes
    std::uint64_t align() const { return align_; }
    const pad_plan &plan() const { return plan_; }
    bool zero_copy() const { return zero_copy_; }
    // The aligned blocks of the head and the tail to read back, or nullptr.
    // They are one block when the run lies inside one block.
    std::byte *head_block() const { return head_; }
    std::byte *tail_block() const { return plan_.same_block ? head_ : tail_; }

    // The driver's iovec of the padded request, the run's bytes in place
    // (copied into the bounce buffer when not zero-copy). After the RMW reads.
    driver_iov assemble();
    // Bytes that went through buffers of ours, for bytes_bounced.
    std::uint64_t bounced() const { return bounced_; }

    // Copies a carried write, whose bytes lie in the padding, into it.
    void carry(std::uint64_t offset, std::span<const io_buffer> iov);

    // Copies [from, from + n) of the padded request (assembled) to dst.
    void copy_out(std::uint64_t from, std::uint64_t n, std::byte *dst) const;

private:
    std::uint64_t offset_;
    std::uint64_t bytes_;
    std::uint64_t align_;
    // The run's buffers, in order: the caller's own iovec, copied into
    // gathered_ only when a gathered write is appended (most writes gather
    // nothing: no allocation for them).
    std::span<const io_buffer> data() const { return gathered_.empty() ? first_ : gathered_; }
    std::span<const io_buffer> first_;
    std::vector<io_buffer> gathered_;
    pad_plan plan_;
    bool zero_copy_ = false;
    pooled_buffer buf_;
    std::byte *head_ = nullptr;
    std::byte *tail_ = nullptr;
    driver_iov iov_;
    std::uint64_t bounced_ = 0;
};

}  // namespace granule
