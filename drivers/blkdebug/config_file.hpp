// blkdebug's config= file: qemu's blkdebug configuration format, so
// `blkdebug:CONF:FILE` images of qemu-iotests carry over. Sections
//
//   [inject-error]
//   event = "read_aio"
//   errno = "5"
//   once = "on"
//   sector = "8"            # 512-byte sectors, as qemu's; or offset = "4096"
//   immediately = "off"     # accepted: errors are always raised at the event
//
// become inject-error.<N>.<field> options, numbered after every rule given
// as options (options count first). '#' starts a comment; values may be
// quoted. qemu's [set-state] section and the state/iotype fields (a state
// machine Granule's blkdebug lacks) are refused with the file and line.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace blkdebug_config {

// (key, value) pairs such as ("inject-error.3.event", "read_aio"), rules
// numbered from first_rule. Throws granule::sdk::driver_error (EINVAL,
// ENOENT...) naming the file and the line at fault.
std::vector<std::pair<std::string, std::string>> read_rules(const std::string &path,
                                                            unsigned long first_rule);

}  // namespace blkdebug_config
