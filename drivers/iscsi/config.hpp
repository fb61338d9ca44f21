// What an iscsi node connects to, parsed from the options: the URL in
// `filename` and/or the dotted keys. The password never leaves this struct in
// text: every string meant for messages or info (where(), url()) omits it.
#pragma once

#include <granule/driver.hpp>

#include <iscsi/iscsi.h>

#include <string>

namespace granule_iscsi {

struct target_config {
    std::string portal;  // "host:port" or "[v6]:port", as libiscsi takes it
    std::string target;  // IQN, percent-decoded
    int lun = 0;
    std::string user;      // CHAP user; empty = no CHAP
    std::string password;  // secret: never printed
    std::string initiator = "iqn.2026-11.org.granule:initiator";
    iscsi_header_digest digest = ISCSI_HEADER_DIGEST_NONE;
    std::string digest_name = "none";
    int timeout_s = 30;          // 0 = no timeout
    unsigned queue_depth = 32;   // SCSI tasks in flight at most

    // "portal 127.0.0.1:3260, target iqn..., lun 1": for every error message.
    std::string where() const;
    // iscsi://[user@]portal/target/lun, without the password.
    std::string url() const;
};

// Throws granule::sdk::driver_error(EINVAL, ...) naming the option at fault.
target_config parse_config(const granule::sdk::options_view &options);

// The URL with any password replaced by "***" (for messages about the URL).
std::string redact_url(const std::string &url);

}  // namespace granule_iscsi
