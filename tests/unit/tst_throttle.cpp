// Throttling: the schedule itself against a virtual clock (exact start
// times), then through a device (lower bounds only: a throttled device can
// never be faster than its limits; how much slower is not asserted), the
// options, reopen, and a close that must not wait out the schedule.
#include "test_support.hpp"

#include "throttle.hpp"

#include <granule/device.hpp>

#include <boost/asio/use_future.hpp>

#include <chrono>

using granule::device;
using granule::throttle;
using granule::throttle_config;
using namespace std::chrono_literals;

namespace {

throttle make(throttle_config c)
{
    throttle t;
    t.configure(c);
    return t;
}

// Milliseconds from t0 at which each of n requests may start.
std::vector<long long> starts(throttle &t, throttle::clock::time_point t0, int n, bool write,
                              std::uint64_t bytes)
{
    std::vector<long long> out;
    for (int i = 0; i < n; ++i)
        out.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
                          t.admit(write, bytes, t0) - t0)
                          .count());
    return out;
}

}  // namespace

class tst_throttle : public QObject {
    Q_OBJECT

private slots:
    void schedule_paces_requests();
    void burst_after_idle();
    void bytes_and_directions();
    void large_request_first_come_first_served();
    void options_and_errors();
    void device_is_never_faster_than_its_limit();
    void reopen_changes_limits();
    void close_does_not_wait_out_the_schedule();
};

void tst_throttle::schedule_paces_requests()
{
    const auto t0 = throttle::clock::now();
    auto off = make({});
    QVERIFY(!off.enabled());
    QCOMPARE(starts(off, t0, 3, true, 4096), (std::vector<long long>{0, 0, 0}));

    throttle_config c;
    c.iops_total = 10;
    c.burst = 0ms;
    auto t = make(c);
    QCOMPARE(starts(t, t0, 4, false, 512), (std::vector<long long>{0, 100, 200, 300}));
}

void tst_throttle::burst_after_idle()
{
    throttle_config c;
    c.iops_total = 100;  // 10 ms apart; a burst of 100 ms lets 11 go at once
    auto t = make(c);
    const auto t0 = throttle::clock::now();
    auto s = starts(t, t0, 13, true, 1);
    QCOMPARE(s, (std::vector<long long>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 20}));
    // A second later the bucket is full again.
    QCOMPARE(starts(t, t0 + 1s, 2, true, 1), (std::vector<long long>{0, 0}));
}

void tst_throttle::bytes_and_directions()
{
    throttle_config c;
    c.bps_read = 1 << 20;
    c.burst = 0ms;
    auto t = make(c);
    const auto t0 = throttle::clock::now();
    QCOMPARE(starts(t, t0, 2, false, 1 << 20), (std::vector<long long>{0, 1000}));
    QCOMPARE(starts(t, t0, 2, true, 1 << 20), (std::vector<long long>{0, 0}));  // writes free

    c.bps_total = 1 << 20;  // now writes count too, and share with reads
    auto both = make(c);
    QCOMPARE(starts(both, t0, 1, true, 1 << 20), (std::vector<long long>{0}));
    QCOMPARE(starts(both, t0, 1, false, 1 << 19), (std::vector<long long>{1000}));
}

void tst_throttle::large_request_first_come_first_served()
{
    throttle_config c;
    c.bps_total = 1000;
    c.burst = 0ms;
    auto t = make(c);
    const auto t0 = throttle::clock::now();
    // 10000 bytes take 10 s of the budget; the 1-byte request after it waits.
    QCOMPARE(starts(t, t0, 1, true, 10000), (std::vector<long long>{0}));
    QCOMPARE(starts(t, t0, 1, false, 1), (std::vector<long long>{10000}));
}

void tst_throttle::options_and_errors()
{
    auto c = granule::parse_throttle({{"iops-total", "100"}, {"bps-write", "2M"},
                                      {"burst-ms", "50"}});
    QVERIFY2(c, c ? "" : c.error().message.c_str());
    QCOMPARE(c->iops_total, std::uint64_t(100));
    QCOMPARE(c->bps_write, std::uint64_t(2 << 20));
    QCOMPARE(c->describe(), std::string("bps-write=2097152,iops-total=100,burst-ms=50"));
    auto changed = granule::parse_throttle({{"iops-total", "0"}}, *c);
    QVERIFY(changed);
    QCOMPARE(changed->bps_write, std::uint64_t(2 << 20));  // kept from base
    QCOMPARE(changed->iops_total, std::uint64_t(0));

    auto bad = granule::parse_throttle({{"iops", "1"}});
    QVERIFY(!bad);
    QVERIFY2(bad.error().message.find("unknown option 'throttle.iops' (known: bps-total") !=
                 std::string::npos,
             bad.error().message.c_str());
    bad = granule::parse_throttle({{"bps-read", "fast"}});
    QVERIFY(!bad);
    QVERIFY2(bad.error().message.find("'throttle.bps-read'") != std::string::npos &&
                 bad.error().message.find("fast") != std::string::npos,
             bad.error().message.c_str());

    auto d = device::open("driver=memory,size=1M,throttle.iops-totl=5");
    QVERIFY(!d);
    QVERIFY2(d.error().message.find("throttle.iops-totl") != std::string::npos,
             d.error().message.c_str());
}

void tst_throttle::device_is_never_faster_than_its_limit()
{
    auto d = device::open("driver=memory,size=1M,throttle.iops-total=20,throttle.burst-ms=0");
    QVERIFY2(d, d ? "" : d.error().message.c_str());
    QVERIFY((*d)->describe().find("throttle: iops-total=20,burst-ms=0\n") != std::string::npos);
    std::vector<std::uint8_t> buf(512);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) {
        std::fill(buf.begin(), buf.end(), std::uint8_t(i + 1));
        QVERIFY((*d)->pwrite(i * 1000, buf.data(), buf.size()));
    }
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    QVERIFY2(elapsed >= 450ms, "10 requests at 20/s finished in under 450 ms");
    QCOMPARE((*d)->get_stats().throttle_waits, std::uint64_t(9));
    QVERIFY((*d)->pread(9000, buf.data(), buf.size()));
    QCOMPARE(buf[0], std::uint8_t(10));
}

void tst_throttle::reopen_changes_limits()
{
    auto d = device::open("driver=memory,size=1M");
    QVERIFY(d);
    auto &dev = **d;
    QVERIFY(dev.describe().find("throttle:") == std::string::npos);
    auto r = dev.reopen({{"throttle.iops-write", "5"}});
    QVERIFY2(r, r ? "" : r.error().message.c_str());
    QVERIFY(dev.describe().find("throttle: iops-write=5,burst-ms=100\n") != std::string::npos);
    r = dev.reopen({{"throttle.iops-wrte", "5"}});
    QVERIFY(!r);
    QVERIFY2(r.error().message.find("throttle.iops-wrte") != std::string::npos,
             r.error().message.c_str());
    QVERIFY(dev.describe().find("throttle: iops-write=5,") != std::string::npos);  // unchanged
    r = dev.reopen({{"throttle.iops-write", "0"}});
    QVERIFY(r);
    QVERIFY(dev.describe().find("throttle:") == std::string::npos);
}

// Six writes at 1/s would take 5 s; closing releases them at once, and each
// completes (written, not failed).
void tst_throttle::close_does_not_wait_out_the_schedule()
{
    auto d = device::open("driver=memory,size=1M,throttle.iops-total=1,throttle.burst-ms=0");
    QVERIFY(d);
    std::vector<std::uint8_t> buf(4096, 0x5a);
    std::vector<std::future<granule::result<std::size_t>>> writes;
    for (int i = 0; i < 6; ++i)
        writes.push_back((*d)->async_pwritev(i * 4096, {{buf.data(), buf.size()}},
                                             boost::asio::use_future));
    const auto t0 = std::chrono::steady_clock::now();
    d->reset();
    QVERIFY2(std::chrono::steady_clock::now() - t0 < 2500ms,
             "closing waited for the throttle schedule");
    for (auto &w : writes) {
        auto r = w.get();
        QVERIFY2(r && *r == buf.size(), r ? "" : r.error().message.c_str());
    }
}

QTEST_GUILESS_MAIN(tst_throttle)
#include "tst_throttle.moc"
