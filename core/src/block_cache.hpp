// The last-written contents of a few partial blocks, so that read-modify-
// write of a block this device just wrote (sequential small writes, writes
// queued behind each other on one block) needs no read from the backend.
// Sound because every write to the device goes through it: a block is
// forgotten when any write, discard, zeroing or truncate touches it.
// A sequential stream of small unaligned writes also reads ahead into it
// (device_impl::read_block): then each write's tail block is known too.
// Device-thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <unordered_map>

namespace granule {

class block_cache {
public:
    static constexpr std::size_t max_blocks = 64;

    bool contains(std::uint64_t aligned_offset, std::size_t block) const
    {
        return block == block_ && blocks_.count(aligned_offset);
    }

    // Bumped by every invalidate and clear: a read that started before a
    // change may hold older bytes, so what it read ahead is stored only
    // when this did not move meanwhile.
    std::uint64_t generation() const { return generation_; }

    // Copies the block at aligned_offset into buf; false if not known.
    bool fetch(std::uint64_t aligned_offset, std::byte *buf, std::size_t block) const
    {
        auto it = blocks_.find(aligned_offset);
        if (it == blocks_.end() || block != block_)
            return false;
        std::memcpy(buf, it->second.get(), block);
        return true;
    }

    // Remembers what a completed write put into the block at aligned_offset.
    template <class Gather>
    void store(std::uint64_t aligned_offset, std::size_t block, Gather gather)
    {
        if (block != block_) {
            blocks_.clear();
            block_ = block;
        }
        if (blocks_.size() >= max_blocks && !blocks_.count(aligned_offset))
            evict_oldest();
        auto &slot = blocks_[aligned_offset];
        if (!slot) {
            slot = std::make_unique<std::byte[]>(block);
            order_.push_back(aligned_offset);
        }
        gather(slot.get());
    }

    // Forgets every block overlapping [offset, offset + bytes).
    void invalidate(std::uint64_t offset, std::uint64_t bytes)
    {
        ++generation_;
        if (blocks_.empty())
            return;
        for (auto it = blocks_.begin(); it != blocks_.end();) {
            if (it->first < offset + bytes && offset < it->first + block_)
                it = blocks_.erase(it);
            else
                ++it;
        }
        // order_ keeps the offsets of erased blocks until they come up;
        // bounded here.
        if (order_.size() > 4 * max_blocks) {
            std::erase_if(order_, [&](std::uint64_t at) { return !blocks_.count(at); });
        }
    }

    void clear()
    {
        ++generation_;
        blocks_.clear();
        order_.clear();
    }

private:
    // The block stored first goes first: a sequential stream leaves each
    // write's head block behind it, and the blocks read ahead must outlive
    // those (with an arbitrary victim, half the read-ahead was lost).
    void evict_oldest()
    {
        while (!order_.empty()) {
            const auto at = order_.front();
            order_.pop_front();
            if (blocks_.erase(at))
                return;
        }
        blocks_.erase(blocks_.begin());
    }

    std::size_t block_ = 0;
    std::uint64_t generation_ = 0;
    std::unordered_map<std::uint64_t, std::unique_ptr<std::byte[]>> blocks_;
    std::deque<std::uint64_t> order_;  // offsets in the order stored
};

}  // namespace granule
