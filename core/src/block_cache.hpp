// The last-written contents of a few partial blocks, so that read-modify-
// write of a block this device just wrote (sequential small writes, writes
// queued behind each other on one block) needs no read from the backend.
// Sound because every write to the device goes through it: a block is
// forgotten when any write, discard, zeroing or truncate touches it.
// Device-thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_map>

namespace granule {

class block_cache {
public:
    static constexpr std::size_t max_blocks = 64;

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
            blocks_.erase(blocks_.begin());  // any victim: the cache is a hint
        auto &slot = blocks_[aligned_offset];
        if (!slot)
            slot = std::make_unique<std::byte[]>(block);
        gather(slot.get());
    }

    // Forgets every block overlapping [offset, offset + bytes).
    void invalidate(std::uint64_t offset, std::uint64_t bytes)
    {
        if (blocks_.empty())
            return;
        for (auto it = blocks_.begin(); it != blocks_.end();) {
            if (it->first < offset + bytes && offset < it->first + block_)
                it = blocks_.erase(it);
            else
                ++it;
        }
    }

    void clear() { blocks_.clear(); }

private:
    std::size_t block_ = 0;
    std::unordered_map<std::uint64_t, std::unique_ptr<std::byte[]>> blocks_;
};

}  // namespace granule
