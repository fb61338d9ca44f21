#include <granule/platform/create_file.hpp>
#include <granule/platform/win32.hpp>

#include <cerrno>

#include <windows.h>

namespace granule::platform {

int create_new_file(const std::string &path) noexcept
{
    auto wide = win32::widen(path);
    if (!wide)
        return EINVAL;
    // CREATE_NEW fails with ERROR_FILE_EXISTS when anything is at the path.
    HANDLE h = CreateFileW(wide->c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW,
                           FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
    if (h == INVALID_HANDLE_VALUE)
        return win32::errno_from_win32(GetLastError());
    CloseHandle(h);
    return 0;
}

}  // namespace granule::platform
