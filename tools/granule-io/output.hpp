// stdout and stderr, shared by the command loop and aio completions, which
// run on the device's executor thread. Each write is one whole block of
// lines, so a completion never lands in the middle of a hexdump.
//
// Buffering is qemu-io's (both are stdio programs): standard output is
// flushed after every block on a terminal, and otherwise only when stdio's
// buffer fills or at exit, while standard error is never buffered. With both
// streams in one pipe (qemu-iotests' `2>&1`) that puts error lines where
// qemu-io puts them. line_buffered (--line-buffered) flushes every block
// instead, so a merged capture reads in command order.
#pragma once

#include <cstdio>
#include <mutex>
#include <string_view>

namespace granule_io {

class output {
public:
    void set_line_buffered(bool on) { line_buffered_ = on; }
    // Where error() writes (stderr; the command fuzzer silences it).
    void set_error_stream(std::FILE *f) { err_ = f; }

    void write(std::string_view text)
    {
        std::lock_guard lock(mutex_);
        std::fwrite(text.data(), 1, text.size(), stdout);
        if (line_buffered_)
            std::fflush(stdout);
    }

    // Diagnostics qemu-io sends to stderr (getopt's, a missing file, bad
    // argument counts, "qemu-io: ..." reports).
    void error(std::string_view text)
    {
        std::lock_guard lock(mutex_);
        std::fwrite(text.data(), 1, text.size(), err_);
        // stderr is unbuffered by the C standard's default, but not in every
        // C runtime: Windows' buffers it when redirected to a file.
        std::fflush(err_);
    }

    void flush()
    {
        std::lock_guard lock(mutex_);
        std::fflush(stdout);
    }

private:
    std::mutex mutex_;
    std::FILE *err_ = stderr;
    bool line_buffered_ = true;
};

}  // namespace granule_io
