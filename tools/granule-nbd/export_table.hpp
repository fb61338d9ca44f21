// The exports a server offers: a name, an opened device, and what the
// handshake tells clients about it (size, transmission flags, block sizes).
#pragma once

#include <granule/device.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace granule_nbd {

// NBD_INFO_BLOCK_SIZE. The minimum is 1 whatever the backend: the device
// serves any byte range. The preferred size is what avoids its
// read-modify-write (request alignment, at least 512 as the protocol
// requires, or the optimal transfer size when that is a power of two and
// larger); the maximum is its max transfer within [1 MiB, 32 MiB] (the
// protocol's suggested floor and portable ceiling; the core splits larger
// requests anyway), and never below the preferred size.
struct block_sizes {
    std::uint32_t minimum = 1;
    std::uint32_t preferred = 4096;
    std::uint32_t maximum = 32u << 20;
};
block_sizes advertised_block_sizes(const granule::limits &l);

struct nbd_export {
    std::string name;
    std::string description;
    std::unique_ptr<granule::device> dev;
    // Writes refused: -r, a device opened read-only, or an image whose format
    // makes the core refuse writes (granule::format_decision).
    bool read_only = false;
    block_sizes sizes;

    std::uint16_t transmission_flags() const;
};

class export_table {
public:
    void add(nbd_export e) { exports_.push_back(std::move(e)); }
    // nullptr when there is no export of that name.
    nbd_export *find(const std::string &name);
    std::vector<nbd_export> &all() { return exports_; }

private:
    std::vector<nbd_export> exports_;
};

}  // namespace granule_nbd
