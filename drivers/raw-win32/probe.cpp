#include "probe.hpp"

#include "iocp.hpp"

#include <granule/platform/aligned_buffer.hpp>
#include <granule/platform/win32.hpp>

#include <winioctl.h>

#include <algorithm>
#include <optional>

namespace raw_win32 {
namespace {

using granule::platform::aligned_buffer;
using granule::platform::win32::describe_win32_error;
using granule::platform::win32::narrow;
using std::uint64_t;

// Offsets are tried up to this size; nothing real needs more.
constexpr uint64_t largest_offset_candidate = uint64_t{1} << 20;

// Alignments are powers of two; should a source say otherwise, round up
// (larger is always safe) and say so.
probed pow2(uint64_t value, std::string source)
{
    uint64_t v = 1;
    while (v < value)
        v *= 2;
    if (v != value)
        source += " (" + std::to_string(value) + " rounded up)";
    return {v, std::move(source)};
}

struct range {
    uint64_t start, end;  // [start, end)
};

// Where trial reads tell the truth. note says what was found.
std::vector<range> written_ranges(HANDLE h, target_kind kind, uint64_t size, std::string &note)
{
    if (size == 0) {
        note = "empty";
        return {};
    }
    if (kind != target_kind::file) {
        note = "whole device";
        return {{0, size}};
    }
    BY_HANDLE_FILE_INFORMATION info{};
    if (GetFileInformationByHandle(h, &info) && !(info.dwFileAttributes & FILE_ATTRIBUTE_SPARSE_FILE)) {
        note = "whole file (not sparse)";
        return {{0, size}};
    }
    // A sparse file: only its allocated ranges hold written data.
    FILE_ALLOCATED_RANGE_BUFFER in{}, out[64]{};
    in.Length.QuadPart = static_cast<LONGLONG>(size);
    DWORD bytes = 0;
    if (DWORD e = sync_ioctl(h, FSCTL_QUERY_ALLOCATED_RANGES, &in, sizeof in, out, sizeof out, &bytes)) {
        note = "sparse file, FSCTL_QUERY_ALLOCATED_RANGES failed: " + describe_win32_error(e);
        return {};
    }
    std::vector<range> r;
    for (DWORD i = 0; i < bytes / sizeof out[0]; ++i) {
        uint64_t start = static_cast<uint64_t>(out[i].FileOffset.QuadPart);
        r.push_back({start, std::min(size, start + static_cast<uint64_t>(out[i].Length.QuadPart))});
    }
    note = "sparse file, " + std::to_string(r.size()) + " allocated ranges";
    return r;
}

// [o, o + len) with o % step == phase inside one range.
std::optional<uint64_t> find_window(const std::vector<range> &ranges, uint64_t step, uint64_t phase,
                                    uint64_t len)
{
    for (const auto &r : ranges) {
        uint64_t o = r.start <= phase ? phase : phase + (r.start - phase + step - 1) / step * step;
        if (o + len <= r.end)
            return o;
    }
    return std::nullopt;
}

// The alignment rule refuses with these; anything else ends the trial.
bool refused(DWORD e) { return e == ERROR_INVALID_PARAMETER || e == 327 /* OFFSET_ALIGNMENT_VIOLATION */; }

struct trial_answer {
    uint64_t offset = 0, memory = 0;
    std::string note;
};

// Offsets: p bytes at an odd multiple of p succeed iff the alignment is at
// most p. Memory: one aligned block into a buffer at an odd multiple of m.
trial_answer trial_reads(HANDLE h, const std::vector<range> &ranges, uint64_t known_offset)
{
    trial_answer a;
    const uint64_t max_mem = fallback_alignment();
    aligned_buffer buf(2 * max_mem, largest_offset_candidate + 2 * max_mem);
    uint64_t offset = known_offset;
    for (uint64_t p = 1; p <= largest_offset_candidate && !offset; p *= 2) {
        auto o = find_window(ranges, 2 * p, p, p);
        if (!o) {
            a.note = "no written window of " + std::to_string(p) + " bytes at an odd multiple";
            return a;
        }
        DWORD n = 0;
        DWORD e = sync_read(h, buf.data(), static_cast<DWORD>(p), *o, &n);
        if (!e && n == p)
            a.offset = offset = p;
        else if (!refused(e)) {
            a.note = "read of " + std::to_string(p) + " at " + std::to_string(*o) + ": " +
                     (e ? describe_win32_error(e) : "short (" + std::to_string(n) + ")");
            return a;
        }
    }
    if (!offset) {
        a.note = "refused up to " + std::to_string(largest_offset_candidate);
        return a;
    }
    auto o = find_window(ranges, offset, 0, offset);
    if (!o) {
        a.note = "memory untested: no aligned window of " + std::to_string(offset);
        return a;
    }
    aligned_buffer mbuf(2 * max_mem, offset + 2 * max_mem);
    for (uint64_t m = 1; m <= max_mem; m *= 2) {
        DWORD n = 0;
        DWORD e = sync_read(h, mbuf.data() + m, static_cast<DWORD>(offset), *o, &n);
        if (!e && n == offset) {
            a.memory = m;
            break;
        }
        if (!refused(e)) {
            a.note = "memory: " + (e ? describe_win32_error(e) : std::string("short read"));
            break;
        }
    }
    if (a.note.empty())
        a.note = "over written data";
    return a;
}

std::string sector_note(DWORD logical, DWORD physical)
{
    return std::to_string(logical) + " logical, " + std::to_string(physical) + " physical";
}

}  // namespace

std::uint64_t fallback_alignment()
{
    return std::max<uint64_t>(4096, granule::platform::page_size());
}

std::wstring volume_device_of(const std::wstring &path, std::string &note)
{
    wchar_t root[MAX_PATH + 1] = {};
    if (!GetVolumePathNameW(path.c_str(), root, MAX_PATH)) {
        note = "GetVolumePathNameW failed: " + describe_win32_error(GetLastError());
        return {};
    }
    std::wstring r = root;
    note = narrow(r);
    if (r.size() == 3 && r[1] == L':')  // "C:\" -> "\\.\C:"
        return L"\\\\.\\" + r.substr(0, 2);
    wchar_t guid[MAX_PATH + 1] = {};  // "\\?\Volume{...}\" without the slash
    if (GetVolumeNameForVolumeMountPointW(r.c_str(), guid, MAX_PATH)) {
        std::wstring g = guid;
        if (!g.empty() && g.back() == L'\\')
            g.pop_back();
        return g;
    }
    note += ": no drive letter or volume GUID";
    return {};
}

alignment_report probe_alignment(HANDLE h, const std::wstring &path, target_kind kind,
                                 std::uint64_t size, bool direct)
{
    alignment_report r;
    if (!direct) {
        r.request = {1, "buffered"};
        r.memory = {1, "buffered"};
        return r;
    }
    auto method = [&r](const std::string &name, const std::string &answer) {
        r.methods.push_back(name + ": " + answer);
    };

    // The storage ioctls answer for devices; a file asks its volume, opened
    // without access rights (allowed without administrator rights).
    HANDLE q = h;
    unique_handle volume;
    std::wstring vol_root_hint;
    if (kind == target_kind::file) {
        std::string note;
        std::wstring dev = volume_device_of(path, note);
        method("volume", note);
        if (!dev.empty()) {
            volume.reset(CreateFileW(dev.c_str(), 0, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                                     OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr));
            if (volume)
                q = volume.get();
            else
                method("volume open", narrow(dev) + ": " + describe_win32_error(GetLastError()) +
                                          "; asking the file handle");
        }
    }

    std::optional<probed> request, memory;
    STORAGE_PROPERTY_QUERY query{};
    query.QueryType = PropertyStandardQuery;
    query.PropertyId = StorageAccessAlignmentProperty;
    STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR align{};
    if (DWORD e = sync_ioctl(q, IOCTL_STORAGE_QUERY_PROPERTY, &query, sizeof query, &align, sizeof align)) {
        method("ioctl StorageAccessAlignmentProperty", describe_win32_error(e));
    } else {
        method("ioctl StorageAccessAlignmentProperty",
               sector_note(align.BytesPerLogicalSector, align.BytesPerPhysicalSector));
        if (align.BytesPerLogicalSector)
            request = pow2(align.BytesPerLogicalSector, "ioctl StorageAccessAlignmentProperty");
        if (align.BytesPerPhysicalSector)
            r.physical = pow2(align.BytesPerPhysicalSector, "ioctl StorageAccessAlignmentProperty");
    }
    DISK_GEOMETRY_EX geo{};
    if (DWORD e = sync_ioctl(q, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, nullptr, 0, &geo, sizeof geo)) {
        method("ioctl DISK_GET_DRIVE_GEOMETRY_EX", describe_win32_error(e));
    } else {
        method("ioctl DISK_GET_DRIVE_GEOMETRY_EX", std::to_string(geo.Geometry.BytesPerSector) + " bytes per sector");
        if (!request && geo.Geometry.BytesPerSector)
            request = pow2(geo.Geometry.BytesPerSector, "ioctl DISK_GET_DRIVE_GEOMETRY_EX");
    }
    query.PropertyId = StorageAdapterProperty;
    STORAGE_ADAPTER_DESCRIPTOR adapter{};
    if (DWORD e = sync_ioctl(q, IOCTL_STORAGE_QUERY_PROPERTY, &query, sizeof query, &adapter, sizeof adapter)) {
        method("ioctl StorageAdapterProperty", describe_win32_error(e));
    } else {
        method("ioctl StorageAdapterProperty", "AlignmentMask " + std::to_string(adapter.AlignmentMask));
        memory = pow2(uint64_t{adapter.AlignmentMask} + 1, "ioctl StorageAdapterProperty");
    }

    // Windows 8+: the file's own answer, no volume handle needed.
    if (kind == target_kind::file) {
        FILE_STORAGE_INFO fsi{};
        if (GetFileInformationByHandleEx(h, FileStorageInfo, &fsi, sizeof fsi)) {
            method("FileStorageInfo", sector_note(fsi.LogicalBytesPerSector,
                                                  fsi.PhysicalBytesPerSectorForPerformance));
            if (!request && fsi.LogicalBytesPerSector)
                request = pow2(fsi.LogicalBytesPerSector, "FileStorageInfo");
            if (!r.physical.value && fsi.PhysicalBytesPerSectorForPerformance)
                r.physical = pow2(fsi.PhysicalBytesPerSectorForPerformance, "FileStorageInfo");
        } else {
            method("FileStorageInfo", describe_win32_error(GetLastError()));
        }
    }

    // The volume root: GetDiskFreeSpaceW for files, GetDriveTypeW for both.
    wchar_t root[MAX_PATH + 1] = {};
    bool have_root = false;
    if (kind == target_kind::file)
        have_root = GetVolumePathNameW(path.c_str(), root, MAX_PATH);
    else if (kind == target_kind::volume && path.size() == 6 && path[5] == L':')  // \\.\C:
        have_root = swprintf(root, MAX_PATH, L"%lc:\\", path[4]) > 0;
    if (have_root && kind == target_kind::file) {
        DWORD spc = 0, bps = 0, nfree = 0, total = 0;
        std::string name = "GetDiskFreeSpaceW " + narrow(root);
        if (GetDiskFreeSpaceW(root, &spc, &bps, &nfree, &total)) {
            method(name, std::to_string(bps) + " bytes per sector");
            if (!request && bps)
                request = pow2(bps, name);
        } else {
            method(name, describe_win32_error(GetLastError()));
        }
    }
    if (have_root && GetDriveTypeW(root) == DRIVE_CDROM) {
        method("GetDriveTypeW", "CD-ROM: 2048-byte sectors");
        if (!request)
            request = probed{2048, "CD-ROM"};
    }

    if (!request || !memory) {
        std::string where;
        auto ranges = written_ranges(h, kind, size, where);
        auto t = trial_reads(h, ranges, request ? request->value : 0);
        method("trial", (t.offset ? "offset " + std::to_string(t.offset) + ", " : std::string()) +
                            (t.memory ? "memory " + std::to_string(t.memory) + ", " : std::string()) +
                            t.note + " (" + where + ")");
        if (!request && t.offset)
            request = probed{t.offset, "trial"};
        if (!memory && t.memory)
            memory = probed{t.memory, "trial"};
    }
    r.request = request.value_or(probed{fallback_alignment(), "fallback (undetectable)"});
    r.memory = memory.value_or(probed{fallback_alignment(), "fallback (undetectable)"});
    return r;
}

}  // namespace raw_win32
