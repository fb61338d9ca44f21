// Image container formats, recognised by the signature in a device's first
// bytes. Granule has no format drivers: it reads and writes every image as
// raw bytes. Recognising a container lets a device refuse writes that would
// corrupt it, and `granule-img convert` refuse to copy a container as if it
// were the disk it holds, unless format=raw says the bytes are meant as raw
// (docs/architecture.md, "Format safety").
//
// What is recognised, from each format's published specification (names are
// qemu's -f names, so a message can be acted on with qemu-img):
//   qcow2  "QFI\xfb" at 0, then a big-endian version >= 2 (2 and 3 exist)
//   qcow   "QFI\xfb" at 0, version 1
//   qed    "QED\0" at 0
//   vmdk   "KDMV" (hosted sparse extent) or "COWD" (ESX sparse extent) at 0;
//          or a text descriptor: "# Disk DescriptorFile" as its first line,
//          or comment and blank lines, then a line "version=1" (2, 3)
//   vhdx   "vhdxfile" at 0 (the file type identifier)
//   vdi    0xbeda107f, little-endian, at 64 (the 64 bytes before it are a
//          "<<< ... >>>" banner whose wording depends on the creator, so
//          only the signature decides)
//   vpc    "conectix" at 0: the copy of the footer that starts a dynamic or
//          differencing VHD. A fixed VHD is raw data with its footer in the
//          LAST 512 bytes only and is not recognised: its data is a raw disk
//          as it stands (qemu probes it as raw too), and looking at the end
//          would cost every open a second read far from the first.
// Every signature lies in the first format_probe_bytes bytes.
#pragma once

#include <granule/export.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace granule {

// How many first bytes of a device are looked at: one 512-byte sector.
inline constexpr std::size_t format_probe_bytes = 512;

struct format_signature {
    std::string format;    // "qcow2", "qcow", "qed", "vmdk", "vhdx", "vdi" or "vpc"
    std::string evidence;  // what was found where: "magic 'QFI\xfb' at offset 0, version 3"
};

// The container whose signature head (a device's first bytes, at most
// format_probe_bytes of them are looked at) holds, or nullopt: raw as far as
// these formats go. A head shorter than a signature's end does not hold it.
GRANULE_API std::optional<format_signature> recognise_format(std::span<const std::byte> head);

// What a device took its bytes for at open, and why (device::format_probe()).
struct format_decision {
    enum class basis {
        given,         // format=raw in the options: nothing is checked
        signature,     // a container's signature: every write is refused (EPERM)
        no_signature,  // probed raw: a write that would put a signature into
                       // the first format_probe_bytes is refused (EPERM)
    };
    basis how = basis::given;
    std::string format = "raw";  // "raw", or format_signature::format
    std::string evidence;        // with basis::signature: format_signature::evidence
    std::uint64_t probed = 0;    // first bytes looked at (fewer than 512 on a short device)
    std::string subject;         // how messages name the device: "'t.qcow2'" (its
                                 // filename, quoted), else "the memory device"

    bool refuses_writes() const { return how == basis::signature; }
    bool guards_first_bytes() const { return how == basis::no_signature; }

    // "qcow2 (recognised: magic 'QFI\xfb' at offset 0, version 3; writes are
    // refused unless opened with format=raw)", "raw (given: format=raw)",
    // "raw (no signature in the first 512 bytes; ...)": granule-img info's line.
    GRANULE_API std::string describe() const;
    // "'t.qcow2' looks like a qcow2 image (magic 'QFI\xfb' at offset 0,
    // version 3)", for the messages of refusals.
    GRANULE_API std::string looks_like() const;
};

}  // namespace granule
