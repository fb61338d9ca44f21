// The NBD protocol's numbers (NetworkBlockDevice/nbd doc/proto.md, fixed
// newstyle), and big-endian field access. Only what the server speaks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace granule_nbd {

inline constexpr std::uint64_t nbd_magic = 0x4e42444d41474943;   // "NBDMAGIC"
inline constexpr std::uint64_t opt_magic = 0x49484156454F5054;   // "IHAVEOPT"
inline constexpr std::uint64_t rep_magic = 0x0003e889045565a9;   // option replies
inline constexpr std::uint32_t request_magic = 0x25609513;
inline constexpr std::uint32_t simple_reply_magic = 0x67446698;
inline constexpr std::uint32_t structured_reply_magic = 0x668e33ef;

// Handshake flags (server) and client flags.
inline constexpr std::uint16_t flag_fixed_newstyle = 1;
inline constexpr std::uint16_t flag_no_zeroes = 2;
inline constexpr std::uint32_t flag_c_fixed_newstyle = 1;
inline constexpr std::uint32_t flag_c_no_zeroes = 2;

// Transmission flags.
inline constexpr std::uint16_t tflag_has_flags = 1 << 0;
inline constexpr std::uint16_t tflag_read_only = 1 << 1;
inline constexpr std::uint16_t tflag_send_flush = 1 << 2;
inline constexpr std::uint16_t tflag_send_fua = 1 << 3;
inline constexpr std::uint16_t tflag_send_trim = 1 << 5;
inline constexpr std::uint16_t tflag_send_write_zeroes = 1 << 6;
inline constexpr std::uint16_t tflag_send_df = 1 << 7;
inline constexpr std::uint16_t tflag_can_multi_conn = 1 << 8;
inline constexpr std::uint16_t tflag_send_cache = 1 << 10;
inline constexpr std::uint16_t tflag_send_fast_zero = 1 << 11;

// Options.
enum : std::uint32_t {
    opt_export_name = 1,
    opt_abort = 2,
    opt_list = 3,
    opt_starttls = 5,
    opt_info = 6,
    opt_go = 7,
    opt_structured_reply = 8,
    opt_list_meta_context = 9,
    opt_set_meta_context = 10,
};

// Option reply types.
inline constexpr std::uint32_t rep_ack = 1;
inline constexpr std::uint32_t rep_server = 2;
inline constexpr std::uint32_t rep_info = 3;
inline constexpr std::uint32_t rep_meta_context = 4;
inline constexpr std::uint32_t rep_err_unsup = 0x80000001;
inline constexpr std::uint32_t rep_err_policy = 0x80000002;
inline constexpr std::uint32_t rep_err_invalid = 0x80000003;
inline constexpr std::uint32_t rep_err_tls_reqd = 0x80000005;
inline constexpr std::uint32_t rep_err_unknown = 0x80000006;
inline constexpr std::uint32_t rep_err_shutdown = 0x80000007;
inline constexpr std::uint32_t rep_err_too_big = 0x80000009;

// NBD_INFO_* of NBD_OPT_INFO / NBD_OPT_GO.
inline constexpr std::uint16_t info_export = 0;
inline constexpr std::uint16_t info_name = 1;
inline constexpr std::uint16_t info_description = 2;
inline constexpr std::uint16_t info_block_size = 3;

// Commands and their flags.
enum : std::uint16_t {
    cmd_read = 0,
    cmd_write = 1,
    cmd_disc = 2,
    cmd_flush = 3,
    cmd_trim = 4,
    cmd_cache = 5,
    cmd_write_zeroes = 6,
    cmd_block_status = 7,
};
inline constexpr std::uint16_t cmd_flag_fua = 1 << 0;
inline constexpr std::uint16_t cmd_flag_no_hole = 1 << 1;
inline constexpr std::uint16_t cmd_flag_df = 1 << 2;
inline constexpr std::uint16_t cmd_flag_req_one = 1 << 3;
inline constexpr std::uint16_t cmd_flag_fast_zero = 1 << 4;

// Structured reply chunks.
inline constexpr std::uint16_t reply_flag_done = 1;
inline constexpr std::uint16_t reply_type_none = 0;
inline constexpr std::uint16_t reply_type_offset_data = 1;
inline constexpr std::uint16_t reply_type_block_status = 5;
inline constexpr std::uint16_t reply_type_error = 0x8001;

// base:allocation states.
inline constexpr std::uint32_t state_hole = 1;
inline constexpr std::uint32_t state_zero = 2;

// The protocol's error numbers (not the host's errno values).
enum : std::uint32_t {
    err_perm = 1,
    err_io = 5,
    err_nomem = 12,
    err_inval = 22,
    err_nospc = 28,
    err_overflow = 75,
    err_notsup = 95,
    err_shutdown = 108,
};

inline constexpr std::size_t request_header_size = 28;
// Strings (export names, descriptions, context queries) longer than this are
// refused: the protocol's limit.
inline constexpr std::size_t max_string = 4096;
// The payload size the protocol says no client should be refused.
inline constexpr std::uint32_t portable_payload = 32u << 20;

// Big-endian fields, read from and written to raw bytes.
inline std::uint64_t get_be(const unsigned char *p, int bytes)
{
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
        v = v << 8 | p[i];
    return v;
}
inline void put_be(unsigned char *p, std::uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; --i, v >>= 8)
        p[i] = static_cast<unsigned char>(v);
}

}  // namespace granule_nbd
