// Errors are values: every fallible call returns granule::result<T>, whose
// error carries a positive errno-style code and a message that names the
// option, offset or value at fault.
#pragma once

#include <granule/export.hpp>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <utility>
#include <system_error>

namespace granule {

struct error {
    // Not an aggregate: result<T, error> must never mistake a T for an error.
    error() = default;
    error(int c, std::string m) : code(c), message(std::move(m)) {}

    int code = 0;         // positive errno value (EINVAL, EIO, ...)
    std::string message;  // complete sentence fragment, no trailing newline

    std::error_code ec() const { return {code, std::generic_category()}; }
};

class error_exception : public std::system_error {
public:
    explicit error_exception(const error &e) : std::system_error(e.ec(), e.message) {}
};

[[noreturn]] inline void throw_exception_from_error(const error &e, const boost::source_location &)
{
    throw error_exception(e);
}

template <class T>
using result = boost::system::result<T, error>;

inline error make_error(int code, std::string message) { return error{code, std::move(message)}; }

// The text of an errno value, the same on every platform for the values
// Granule uses ("Operation not supported" also where the C runtime's
// strerror does not know ENOTSUP, as on Windows). Thread-safe.
GRANULE_API std::string errno_text(int code);

}  // namespace granule
