// Container signatures in a device's first bytes (granule/image_format.hpp).
// Written from the formats' specifications: the qcow2 and QED specs in
// qemu's docs/interop, VMware's Virtual Disk Format 1.1, Microsoft's VHDX
// and VHD specifications, VirtualBox's VDI header (vdi.h of VirtualBox).
#include <granule/image_format.hpp>

#include <cstdio>
#include <cstring>
#include <string_view>

namespace granule {

namespace {

using namespace std::string_view_literals;
using bytes = std::span<const std::byte>;

bool holds(bytes head, std::size_t offset, std::string_view magic)
{
    return head.size() >= offset + magic.size() &&
           std::memcmp(head.data() + offset, magic.data(), magic.size()) == 0;
}

std::uint32_t u32(bytes head, std::size_t offset, bool big_endian)
{
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        const auto b = std::to_integer<std::uint32_t>(head[offset + (big_endian ? i : 3 - i)]);
        v = v << 8 | b;
    }
    return v;
}

// Printable ASCII as it is, NUL as \0, any other byte as \xNN.
std::string shown(std::string_view magic)
{
    std::string out;
    for (unsigned char c : magic) {
        if (c == 0) {
            out += "\\0";
        } else if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
            out += static_cast<char>(c);
        } else {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        }
    }
    return out;
}

std::string magic_at(std::string_view magic, std::size_t offset)
{
    return "magic '" + shown(magic) + "' at offset " + std::to_string(offset);
}

// qcow and qcow2 share the magic; the version after it tells them apart.
// Version 0 is neither (no such format), so the bytes stay raw.
std::optional<format_signature> qcow(bytes head)
{
    constexpr auto magic = "QFI\xfb"sv;
    if (!holds(head, 0, magic) || head.size() < 8)
        return std::nullopt;
    const auto version = u32(head, 4, true);
    if (version == 0)
        return std::nullopt;
    return format_signature{version == 1 ? "qcow" : "qcow2",
                            magic_at(magic, 0) + ", version " + std::to_string(version)};
}

// A VMDK text descriptor (a monolithicFlat or split image's .vmdk file). The
// specification's descriptor starts "# Disk DescriptorFile"; descriptors
// written by other tools may start with other comments or blank lines, and
// its first setting is always the version.
std::optional<format_signature> vmdk_descriptor(bytes head)
{
    const std::string_view text(reinterpret_cast<const char *>(head.data()), head.size());
    constexpr auto header = "# Disk DescriptorFile"sv;
    if (text.starts_with(header))
        return format_signature{"vmdk", "text descriptor '" + std::string(header) + "' at offset 0"};
    for (std::size_t pos = 0; pos < text.size();) {
        const auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos)
            return std::nullopt;  // a line cut off by the end of what was read
        auto line = text.substr(pos, nl - pos);
        if (line.ends_with('\r'))
            line.remove_suffix(1);
        const auto first = line.find_first_not_of(" \t");
        if (first == std::string_view::npos || line[first] == '#') {
            pos = nl + 1;
            continue;
        }
        if (line == "version=1" || line == "version=2" || line == "version=3")
            return format_signature{"vmdk", "text descriptor line '" + std::string(line) +
                                                "' at offset " + std::to_string(pos)};
        return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace

std::optional<format_signature> recognise_format(std::span<const std::byte> head)
{
    if (head.size() > format_probe_bytes)
        head = head.first(format_probe_bytes);
    if (auto q = qcow(head))
        return q;
    struct plain_magic {
        std::string_view magic;
        const char *format;
        const char *note;
    };
    static constexpr plain_magic at_zero[] = {
        {"QED\0"sv, "qed", ""},
        {"KDMV"sv, "vmdk", " (sparse extent)"},
        {"COWD"sv, "vmdk", " (ESX sparse extent)"},
        {"vhdxfile"sv, "vhdx", ""},
        {"conectix"sv, "vpc", " (a dynamic or differencing VHD)"},
    };
    for (const auto &m : at_zero)
        if (holds(head, 0, m.magic))
            return format_signature{m.format, magic_at(m.magic, 0) + m.note};
    constexpr std::size_t vdi_offset = 64;
    constexpr std::uint32_t vdi_signature = 0xbeda107f;
    if (head.size() >= vdi_offset + 4 && u32(head, vdi_offset, false) == vdi_signature)
        return format_signature{"vdi", "signature 0xbeda107f at offset 64"};
    return vmdk_descriptor(head);
}

std::string format_decision::looks_like() const
{
    return subject + " looks like a " + format + " image (" + evidence + ")";
}

std::string format_decision::describe() const
{
    switch (how) {
    case basis::given:
        return format + " (given: format=" + format + ")";
    case basis::signature:
        return format + " (recognised: " + evidence +
               "; writes are refused unless opened with format=raw)";
    case basis::no_signature:
        break;
    }
    if (probed == 0)
        return "raw (no signature: the device is empty; writes that would put one into the "
               "first " + std::to_string(format_probe_bytes) + " bytes are refused)";
    return "raw (no signature in the first " + std::to_string(probed) +
           " bytes; writes that would put one there are refused)";
}

}  // namespace granule
