// The C API's error discipline: a negative errno returned, the calling
// thread's message set, and no exception ever leaving a C function.
#pragma once

#include <granule/error.hpp>

#include <cerrno>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>

namespace granule::c_api {

// The thread's message (granule_get_error_msg).
std::string &thread_error_message();

// -code for a positive errno code, else -EIO: what the API returns.
inline int negative_errno(int code) { return -(code > 0 ? code : EIO); }

// "what: message", every message's form (the thread's, and a completion's).
std::string error_text(std::string_view what, std::string_view message);

// Sets the thread's message to error_text(what, message) and returns
// negative_errno(code).
int fail(std::string_view what, int code, std::string_view message);
inline int fail(std::string_view what, const error &e) { return fail(what, e.code, e.message); }

// "granule_pwrite: 4096 bytes at offset 1048576", the prefix of a request's messages.
std::string request_what(std::string_view function, std::uint64_t offset, std::uint64_t len);

// Runs body (returning int) and turns any exception into -errno: the one
// place a C entry point catches. Inline, so a fast call pays nothing more
// than its try block.
template <class Body>
int guarded(std::string_view function, Body &&body) noexcept
{
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return fail(function, ENOMEM, "out of memory");
    } catch (const std::exception &e) {
        return fail(function, EIO, e.what());
    } catch (...) {
        return fail(function, EIO, "unexpected exception");
    }
}

}  // namespace granule::c_api
