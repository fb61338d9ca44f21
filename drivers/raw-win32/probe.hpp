// What FILE_FLAG_NO_BUFFERING needs of offsets, lengths and buffers, asked
// several ways, each answer with its source (a probed value without its
// source cannot be trusted or debugged). Order (docs/drivers/raw-win32.md):
//   offsets:  1. IOCTL_STORAGE_QUERY_PROPERTY StorageAccessAlignmentProperty
//             2. IOCTL_DISK_GET_DRIVE_GEOMETRY_EX
//                (both on the device; for a file, on its volume \\.\X:)
//             3. files: GetFileInformationByHandleEx(FileStorageInfo)
//             4. files: GetDiskFreeSpaceW of GetVolumePathNameW
//             5. a CD-ROM drive (GetDriveTypeW): 2048
//             6. trial reads over written data
//             7. max(4096, page size), "fallback (undetectable)"
//   memory:   1. IOCTL_STORAGE_QUERY_PROPERTY StorageAdapterProperty
//                (AlignmentMask + 1: the adapter's DMA rule)
//             2. trial reads over written data, 3. the fallback
// Trial reads only ever read, and only over written data (a file's bytes, the
// allocated ranges of a sparse file, a whole device): reading zeroes that
// were never written proves nothing. Units are bytes; values are powers of two.
#pragma once

#include <windows.h>

#include <cstdint>
#include <string>
#include <vector>

namespace raw_win32 {

enum class target_kind { file, volume, disk };

struct probed {
    std::uint64_t value = 1;
    std::string source = "default";
};

struct alignment_report {
    probed request;                       // offset and length granularity
    probed memory;                        // buffer address granularity
    probed physical{0, ""};               // physical sector (informational), 0 = unknown
    std::vector<std::string> methods;     // "method: answer" for every method asked
};

// h is the node's handle (opened with FILE_FLAG_NO_BUFFERING when direct);
// path is the filename as opened. Buffered handles need nothing: 1 / 1.
// Never fails: what cannot be found out falls back.
alignment_report probe_alignment(HANDLE h, const std::wstring &path, target_kind kind,
                                 std::uint64_t size, bool direct);

// max(4096, page size).
std::uint64_t fallback_alignment();

// "\\.\C:" for C:\dir\file; empty when the volume has no drive letter and no
// volume GUID path. note says how it was found or why not.
std::wstring volume_device_of(const std::wstring &path, std::string &note);

}  // namespace raw_win32
