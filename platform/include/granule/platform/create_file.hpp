// Creating a file that must not exist yet, in one step: the existence check
// and the creation cannot be told apart (no time-of-check/time-of-use window),
// and a symbolic link at the path, dangling or not, counts as existing and
// is never followed (POSIX O_CREAT|O_EXCL; Windows CREATE_NEW).
#pragma once

#include <string>

namespace granule::platform {

// Creates an empty file at path (UTF-8), readable and writable by the user
// as the umask allows. 0 when created, else a positive errno value: EEXIST
// when anything (a file, a directory, a symbolic link) is at path.
int create_new_file(const std::string &path) noexcept;

}  // namespace granule::platform
