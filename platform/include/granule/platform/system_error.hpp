// The OS's error numbers, as positive errno values with messages.
#pragma once

#include <string>

namespace granule::platform {

// Last OS error (errno / GetLastError) as a positive errno value.
int last_error() noexcept;
// strerror-like text, thread-safe.
std::string error_text(int errno_value);

}  // namespace granule::platform
