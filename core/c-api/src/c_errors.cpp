#include "c_errors.hpp"

#include <granule.h>

namespace granule::c_api {

std::string &thread_error_message()
{
    thread_local std::string message;
    return message;
}

std::string error_text(std::string_view what, std::string_view message)
{
    std::string text(what);
    text += ": ";
    text += message;
    return text;
}

int fail(std::string_view what, int code, std::string_view message)
{
    // Building the text may itself throw bad_alloc: the code still gets out.
    try {
        thread_error_message() = error_text(what, message);
    } catch (...) {
    }
    return negative_errno(code);
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
