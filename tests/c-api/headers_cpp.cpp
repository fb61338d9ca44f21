// granule.h from C++: extern "C" linkage, no warnings under -Wall -Wextra.
#include <granule.h>

#include <type_traits>

static_assert(std::is_same_v<decltype(&granule_open), int (*)(const char *, uint32_t, granule_device **)>);

int main() { return granule_c_api_version() >> 16 == GRANULE_C_API_MAJOR ? 0 : 1; }
