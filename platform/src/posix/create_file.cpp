#include <granule/platform/create_file.hpp>

#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

namespace granule::platform {

int create_new_file(const std::string &path) noexcept
{
    // O_EXCL with O_CREAT fails with EEXIST on a symbolic link at path,
    // whatever it points to: a dangling DST link never creates its target.
    int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0)
        return errno;
    ::close(fd);
    return 0;
}

}  // namespace granule::platform
