#include "throttle.hpp"

#include <algorithm>
#include <cerrno>

namespace granule {

namespace {

struct field {
    const char *name;
    std::uint64_t throttle_config::*member;
};
constexpr field fields[] = {
    {"bps-total", &throttle_config::bps_total},   {"bps-read", &throttle_config::bps_read},
    {"bps-write", &throttle_config::bps_write},   {"iops-total", &throttle_config::iops_total},
    {"iops-read", &throttle_config::iops_read},   {"iops-write", &throttle_config::iops_write},
};

std::string known_keys()
{
    std::string s;
    for (const auto &f : fields)
        s += std::string(s.empty() ? "" : ", ") + f.name;
    return s + ", burst-ms";
}

}  // namespace

std::vector<std::pair<std::string, std::uint64_t>> throttle_config::settings() const
{
    std::vector<std::pair<std::string, std::uint64_t>> s;
    if (!enabled())
        return s;
    for (const auto &f : fields)
        if (this->*f.member)
            s.emplace_back(f.name, this->*f.member);
    s.emplace_back("burst-ms", static_cast<std::uint64_t>(burst.count()));
    return s;
}

std::string throttle_config::describe() const
{
    std::string s;
    for (const auto &[name, value] : settings())
        s += (s.empty() ? "" : ",") + name + "=" + std::to_string(value);
    return s;
}

result<throttle_config> parse_throttle(const options &keys, const throttle_config &base)
{
    throttle_config c = base;
    for (const auto &[key, value] : keys) {
        const std::string what = "option 'throttle." + key + "'";
        if (key == "burst-ms") {
            auto v = parse_size(value, what);
            if (!v)
                return v.error();
            if (*v > 3600 * 1000)
                return make_error(EINVAL, what + ": " + value + " ms is more than an hour");
            c.burst = std::chrono::milliseconds(*v);
            continue;
        }
        auto f = std::find_if(std::begin(fields), std::end(fields),
                              [&](const field &x) { return key == x.name; });
        if (f == std::end(fields))
            return make_error(EINVAL, "unknown option 'throttle." + key + "' (known: " +
                                          known_keys() + ")");
        auto v = parse_size(value, what);
        if (!v)
            return v.error();
        c.*(f->member) = *v;
    }
    return c;
}

void throttle::configure(const throttle_config &c)
{
    config_ = c;
    const std::uint64_t rates[n_limits] = {c.bps_total,  c.bps_read,  c.bps_write,
                                           c.iops_total, c.iops_read, c.iops_write};
    for (int i = 0; i < n_limits; ++i) {
        // A limit that stays keeps its schedule: a reopen cannot be used to
        // skip the queue.
        if (limits_[i].rate == 0 || rates[i] == 0)
            limits_[i].tat = {};
        limits_[i].rate = static_cast<double>(rates[i]);
    }
}

throttle::clock::time_point throttle::admit(bool write, std::uint64_t bytes,
                                            clock::time_point now)
{
    const int applies[] = {bps_total, write ? bps_write : bps_read, iops_total,
                           write ? iops_write : iops_read};
    const auto burst = std::chrono::duration_cast<clock::duration>(config_.burst);
    clock::time_point start = now;
    for (int i : applies)
        if (limits_[i].rate > 0)
            start = std::max(start, limits_[i].tat - burst);
    for (int i : applies) {
        auto &l = limits_[i];
        if (l.rate <= 0)
            continue;
        const double cost = i == bps_total || i == bps_read || i == bps_write
                                ? static_cast<double>(bytes) : 1.0;
        const auto interval = std::chrono::duration_cast<clock::duration>(
            std::chrono::duration<double>(cost / l.rate));
        l.tat = std::max(l.tat, start) + interval;
    }
    return start;
}

}  // namespace granule
