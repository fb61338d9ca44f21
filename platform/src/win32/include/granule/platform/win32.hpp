// Windows-only helpers of the platform layer; the portable API lives in
// platform/include. Code that calls Win32 itself (the raw-win32 driver) adds
// platform/src/win32/include to its include path, so nothing outside the
// Windows build can reach these by accident. Implemented in system_error.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace granule::platform::win32 {

// A GetLastError() code as a positive errno value (ERROR_FILE_NOT_FOUND ->
// ENOENT, ERROR_ACCESS_DENIED -> EACCES, ERROR_NOT_SUPPORTED -> ENOTSUP, ...).
// ERROR_SUCCESS and ERROR_HANDLE_EOF give 0: end of file is not an error, a
// read there is short. Codes without a POSIX counterpart give EIO.
int errno_from_win32(unsigned long code) noexcept;

// FormatMessageW's text for code, in UTF-8, without the trailing period and
// line break ("Access denied"); "unknown error" when the system has none.
std::string win32_error_text(unsigned long code);

// "<errno text> (Windows error N: <system text>)": both, so a message is
// readable on any OS and still says exactly what Windows answered.
std::string describe_win32_error(unsigned long code);

// UTF-8 <-> UTF-16 (filenames cross into Win32's W functions as UTF-16).
// nullopt when the input is not valid UTF-8 / UTF-16.
std::optional<std::wstring> widen(std::string_view utf8);
std::string narrow(std::wstring_view utf16);

}  // namespace granule::platform::win32
