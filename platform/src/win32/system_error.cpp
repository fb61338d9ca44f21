// Win32 errors as errno values and texts. Drivers report -errno across the
// ABI on every OS, so Windows codes are mapped once, here; the Windows code
// and its system text still go into messages (describe_win32_error).
#include <granule/platform/system_error.hpp>
#include <granule/platform/win32.hpp>

#include <cerrno>
#include <cstring>
#include <string>
#include <windows.h>

namespace granule::platform {
namespace {

struct mapping {
    DWORD code;
    int errno_value;
};

// From the CRT's _dosmaperr table plus the codes storage I/O meets. Where the
// CRT's choice reads wrong for a disk (a sharing violation is "busy", not
// "permission denied"; "incorrect function" on an ioctl means "not supported")
// the storage meaning wins.
constexpr mapping table[] = {
    {ERROR_SUCCESS, 0},
    {ERROR_HANDLE_EOF, 0},  // end of file: a short read, not an error
    {ERROR_INVALID_FUNCTION, ENOTSUP},
    {ERROR_FILE_NOT_FOUND, ENOENT},
    {ERROR_PATH_NOT_FOUND, ENOENT},
    {ERROR_INVALID_DRIVE, ENOENT},
    {ERROR_BAD_NETPATH, ENOENT},
    {ERROR_BAD_NET_NAME, ENOENT},
    {ERROR_MOD_NOT_FOUND, ENOENT},
    {ERROR_PROC_NOT_FOUND, ENOENT},
    {ERROR_NO_MORE_FILES, ENOENT},
    {ERROR_TOO_MANY_OPEN_FILES, EMFILE},
    {ERROR_ACCESS_DENIED, EACCES},
    {ERROR_NETWORK_ACCESS_DENIED, EACCES},
    {ERROR_CURRENT_DIRECTORY, EACCES},
    {ERROR_CANNOT_MAKE, EACCES},
    {ERROR_DRIVE_LOCKED, EACCES},
    {ERROR_PRIVILEGE_NOT_HELD, EPERM},
    {ERROR_SHARING_VIOLATION, EBUSY},
    {ERROR_LOCK_VIOLATION, EBUSY},
    {ERROR_BUSY, EBUSY},
    {ERROR_USER_MAPPED_FILE, EBUSY},
    {ERROR_INVALID_HANDLE, EBADF},
    {ERROR_NOT_ENOUGH_MEMORY, ENOMEM},
    {ERROR_OUTOFMEMORY, ENOMEM},
    {ERROR_NO_SYSTEM_RESOURCES, ENOMEM},
    {ERROR_NONPAGED_SYSTEM_RESOURCES, ENOMEM},
    {ERROR_WORKING_SET_QUOTA, ENOMEM},
    {ERROR_INVALID_PARAMETER, EINVAL},
    {ERROR_INVALID_ACCESS, EINVAL},
    {ERROR_INVALID_DATA, EINVAL},
    {ERROR_BAD_LENGTH, EINVAL},
    {ERROR_NEGATIVE_SEEK, EINVAL},
    {ERROR_INVALID_NAME, EINVAL},
    {ERROR_INVALID_USER_BUFFER, EINVAL},
    {327, EINVAL},  // ERROR_OFFSET_ALIGNMENT_VIOLATION (not in MinGW's winerror.h)
    {ERROR_NOT_SAME_DEVICE, EXDEV},
    {ERROR_WRITE_PROTECT, EROFS},
    {ERROR_NOT_READY, ENXIO},  // no medium in the drive
    {ERROR_NO_MEDIA_IN_DRIVE, ENXIO},
    {ERROR_DEV_NOT_EXIST, ENODEV},
    {ERROR_DEVICE_NOT_CONNECTED, ENODEV},
    {ERROR_CRC, EIO},
    {ERROR_SECTOR_NOT_FOUND, EIO},
    {ERROR_WRITE_FAULT, EIO},
    {ERROR_READ_FAULT, EIO},
    {ERROR_GEN_FAILURE, EIO},
    {ERROR_IO_DEVICE, EIO},
    {ERROR_MEDIA_CHANGED, EIO},
    {ERROR_HANDLE_DISK_FULL, ENOSPC},
    {ERROR_DISK_FULL, ENOSPC},
    {ERROR_NOT_ENOUGH_QUOTA, ENOSPC},
    {ERROR_NOT_SUPPORTED, ENOTSUP},
    {ERROR_CALL_NOT_IMPLEMENTED, ENOTSUP},
    {ERROR_FILE_EXISTS, EEXIST},
    {ERROR_ALREADY_EXISTS, EEXIST},
    {ERROR_BROKEN_PIPE, EPIPE},
    {ERROR_DIR_NOT_EMPTY, ENOTEMPTY},
    {ERROR_DIRECTORY, ENOTDIR},
    {ERROR_FILENAME_EXCED_RANGE, ENAMETOOLONG},
    {ERROR_FILE_TOO_LARGE, EFBIG},
    {ERROR_ARITHMETIC_OVERFLOW, EOVERFLOW},
    {ERROR_BAD_EXE_FORMAT, ENOEXEC},
    {ERROR_OPERATION_ABORTED, ECANCELED},
    {ERROR_IO_PENDING, EINPROGRESS},
    {ERROR_SEM_TIMEOUT, ETIMEDOUT},
    {WAIT_TIMEOUT, ETIMEDOUT},
};

struct errno_text {
    int value;
    const char *text;
};

// The CRT knows only the classic errno values and calls the POSIX additions
// "Unknown error": give them glibc's texts, so a message reads the same on
// every OS (golden test outputs compare across Linux and Windows).
constexpr errno_text posix_texts[] = {
    {ENOTSUP, "Operation not supported"},
    {EOPNOTSUPP, "Operation not supported"},
    {ECANCELED, "Operation canceled"},
    {ETIMEDOUT, "Connection timed out"},
    {EOVERFLOW, "Value too large for defined data type"},
    {EINPROGRESS, "Operation now in progress"},
    {ECONNREFUSED, "Connection refused"},
    {ECONNRESET, "Connection reset by peer"},
    {ENOTCONN, "Transport endpoint is not connected"},
    {EWOULDBLOCK, "Resource temporarily unavailable"},
    {EPROTO, "Protocol error"},
    {ENODATA, "No data available"},
};

}  // namespace

int last_error() noexcept { return win32::errno_from_win32(GetLastError()); }

std::string error_text(int errno_value)
{
    for (const auto &t : posix_texts)
        if (t.value == errno_value)
            return t.text;
    char buf[256];
    // strerror_s writes into our buffer: thread-safe, unlike strerror.
    if (strerror_s(buf, sizeof buf, errno_value) != 0)
        return "Unknown error " + std::to_string(errno_value);
    return buf;
}

namespace win32 {

int errno_from_win32(unsigned long code) noexcept
{
    for (const auto &m : table)
        if (m.code == code)
            return m.errno_value;
    return EIO;
}

std::string win32_error_text(unsigned long code)
{
    wchar_t *text = nullptr;
    DWORD n = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                                 FORMAT_MESSAGE_IGNORE_INSERTS | FORMAT_MESSAGE_MAX_WIDTH_MASK,
                             nullptr, code, 0, reinterpret_cast<wchar_t *>(&text), 0, nullptr);
    std::string out = n && text ? narrow(std::wstring_view(text, n)) : std::string();
    if (text)
        LocalFree(text);
    // One line in our messages: drop the trailing period and blanks.
    while (!out.empty() && (out.back() == ' ' || out.back() == '.' || out.back() == '\r' ||
                            out.back() == '\n'))
        out.pop_back();
    return out.empty() ? "unknown error" : out;
}

std::string describe_win32_error(unsigned long code)
{
    int e = errno_from_win32(code);
    return (e ? error_text(e) : std::string("end of file")) + " (Windows error " +
           std::to_string(code) + ": " + win32_error_text(code) + ")";
}

std::optional<std::wstring> widen(std::string_view utf8)
{
    if (utf8.empty())
        return std::wstring();
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(),
                                static_cast<int>(utf8.size()), nullptr, 0);
    if (n <= 0)
        return std::nullopt;
    std::wstring out(static_cast<std::size_t>(n), L'\0');
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), static_cast<int>(utf8.size()),
                        out.data(), n);
    return out;
}

std::string narrow(std::wstring_view utf16)
{
    if (utf16.empty())
        return {};
    int n = WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()), nullptr,
                                0, nullptr, nullptr);
    if (n <= 0)
        return {};
    std::string out(static_cast<std::size_t>(n), '\0');
    WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()), out.data(), n,
                        nullptr, nullptr);
    return out;
}

}  // namespace win32
}  // namespace granule::platform
