#include "c_errors.hpp"

#include <granule.h>

namespace granule::c_api {

std::string &thread_error_message()
{
    thread_local std::string message;
    return message;
}

int fail(std::string_view what, int code, std::string_view message)
{
    // Assigning may itself throw bad_alloc: the code still gets out.
    try {
        auto &m = thread_error_message();
        m.assign(what);
        m += ": ";
        m += message;
    } catch (...) {
    }
    return -(code > 0 ? code : EIO);
}

std::string request_what(std::string_view function, std::uint64_t offset, std::uint64_t len)
{
    return std::string(function) + ": " + std::to_string(len) + " bytes at offset " +
           std::to_string(offset);
}

}  // namespace granule::c_api

extern "C" const char *granule_get_error_msg(void)
{
    return granule::c_api::thread_error_message().c_str();
}
