// The nbd driver's pure decisions, for servers no test can start on demand:
// the limits (and their sources) from any combination of advertised block
// sizes, the length of an export whose size is no multiple of its minimum
// block, node flags from the transmission flags, the base:allocation
// mapping (NBD_STATE_HOLE without NBD_STATE_ZERO included, which neither
// nbdkit memory nor qemu-nbd sends), and the option parser's refusals. The
// data path is tested against real servers (tests/integration/nbd/).
#include "config.hpp"
#include "limits.hpp"

#include <QtTest/QtTest>

#include <cstdint>
#include <string>
#include <vector>

namespace {

using granule_nbd::export_facts;

granule_limits fresh_limits()
{
    granule_limits l{};
    l.struct_size = sizeof l;
    return l;
}

QString src(const granule_limit &l) { return QString::fromUtf8(l.source ? l.source : "(null)"); }

struct parsed {
    bool ok = false;
    int code = 0;
    std::string message;
    granule_nbd::server_config cfg;
};

parsed parse(const QStringList &kv)
{
    std::vector<std::string> keys, values;
    for (const auto &item : kv) {
        auto eq = item.indexOf('=');
        keys.push_back(item.left(eq).toStdString());
        values.push_back(item.mid(eq + 1).toStdString());
    }
    std::vector<granule_option> opts;
    for (std::size_t i = 0; i < keys.size(); ++i)
        opts.push_back({keys[i].c_str(), values[i].c_str(), {}});
    parsed p;
    try {
        p.cfg = granule_nbd::parse_config(
            granule::sdk::options_view(opts.data(), static_cast<std::uint32_t>(opts.size())));
        p.ok = true;
    } catch (const granule::sdk::driver_error &e) {
        p.code = e.code();
        p.message = e.what();
    }
    return p;
}

}  // namespace

class tst_nbd_limits : public QObject {
    Q_OBJECT
private slots:
    void limits_data();
    void limits();
    void length_of_a_partial_block();
    void node_flags_data();
    void node_flags();
    void block_status_data();
    void block_status();
    void config_accepts_data();
    void config_accepts();
    void config_refuses_data();
    void config_refuses();
};

void tst_nbd_limits::limits_data()
{
    QTest::addColumn<qulonglong>("min");
    QTest::addColumn<qulonglong>("pref");
    QTest::addColumn<qulonglong>("max");
    QTest::addColumn<qulonglong>("align");
    QTest::addColumn<QString>("align_src");
    QTest::addColumn<qulonglong>("max_transfer");
    QTest::addColumn<QString>("max_src");
    QTest::addColumn<qulonglong>("opt");
    const QString min_s = "NBD_INFO_BLOCK_SIZE minimum block size";
    const QString min_d = "NBD protocol default minimum block size 1 (the server advertised none)";
    const QString max_s = "NBD_INFO_BLOCK_SIZE maximum block size";
    const QString max_d = "NBD protocol: 32 MiB, the largest read or write a client should send "
                          "when the server advertises no maximum block size";
    const QString max_l =
        "libnbd's 64 MiB request limit (NBD_INFO_BLOCK_SIZE maximum block size is larger)";
    QTest::newRow("none advertised") << 0ull << 0ull << 0ull << 1ull << min_d << 33554432ull
                                     << max_d << 0ull;
    QTest::newRow("nbdkit blocksize-policy 4k/64k/32M")
        << 4096ull << 65536ull << 33554432ull << 4096ull << min_s << 33554432ull << max_s
        << 65536ull;
    QTest::newRow("qemu-nbd 1/4k/32M") << 1ull << 4096ull << 33554432ull << 1ull << min_s
                                       << 33554432ull << max_s << 4096ull;
    QTest::newRow("nbdkit default max 4G-1")
        << 1ull << 4096ull << 4294967295ull << 1ull << min_s << 67108864ull << max_l << 4096ull;
    QTest::newRow("only a minimum") << 512ull << 0ull << 0ull << 512ull << min_s << 33554432ull
                                    << max_d << 0ull;
    QTest::newRow("preference above the maximum")
        << 4096ull << 1048576ull << 65536ull << 4096ull << min_s << 65536ull << max_s << 0ull;
    QTest::newRow("maximum not a multiple of the minimum")
        << 4096ull << 0ull << 10000ull << 4096ull << min_s << 8192ull << max_s << 0ull;
}

void tst_nbd_limits::limits()
{
    QFETCH(qulonglong, min);
    QFETCH(qulonglong, pref);
    QFETCH(qulonglong, max);
    QFETCH(qulonglong, align);
    QFETCH(QString, align_src);
    QFETCH(qulonglong, max_transfer);
    QFETCH(QString, max_src);
    QFETCH(qulonglong, opt);
    export_facts f;
    f.size = 1 << 20;
    f.min_block = min;
    f.pref_block = pref;
    f.max_block = max;
    auto l = fresh_limits();
    granule_nbd::apply_limits(f, l);
    QCOMPARE(qulonglong(l.request_alignment.value), align);
    QCOMPARE(src(l.request_alignment), align_src);
    QCOMPARE(qulonglong(l.max_transfer.value), max_transfer);
    QCOMPARE(src(l.max_transfer), max_src);
    QCOMPARE(qulonglong(l.opt_transfer.value), opt);
    if (opt)
        QCOMPARE(src(l.opt_transfer), QString("NBD_INFO_BLOCK_SIZE preferred block size"));
    QCOMPARE(qulonglong(l.min_mem_alignment.value), 1ull);
    QCOMPARE(qulonglong(l.max_transfer.value % l.request_alignment.value), 0ull);
    // A child's smaller maximum (a filter below? none; the host's inherited
    // value) is kept: the driver only caps.
    auto capped = fresh_limits();
    capped.max_transfer = {4096, "child"};
    granule_nbd::apply_limits(f, capped);
    QCOMPARE(qulonglong(capped.max_transfer.value), 4096ull);
}

void tst_nbd_limits::length_of_a_partial_block()
{
    export_facts f;
    f.size = 1048576 + 1000;
    f.min_block = 4096;
    QCOMPARE(qulonglong(granule_nbd::usable_length(f)), 1048576ull);
    const auto text = QString::fromStdString(granule_nbd::describe_export(f));
    QVERIFY2(text.contains("length: 1048576 (the export's last 1000 bytes lie in a partial "
                           "4096-byte block and cannot be addressed)"),
             qPrintable(text));
    f.min_block = 0;  // minimum 1: every byte
    QCOMPARE(qulonglong(granule_nbd::usable_length(f)), 1048576ull + 1000);
}

void tst_nbd_limits::node_flags_data()
{
    QTest::addColumn<bool>("ro_server");
    QTest::addColumn<bool>("ro_host");
    QTest::addColumn<bool>("fua");
    QTest::addColumn<bool>("zero");
    QTest::addColumn<bool>("fast_zero");
    QTest::addColumn<uint>("flags");
    const uint F = GRANULE_NODE_FUA, U = GRANULE_NODE_ZERO_MAY_UNMAP,
               N = GRANULE_NODE_ZERO_NO_FALLBACK, R = GRANULE_NODE_READ_ONLY;
    QTest::newRow("everything") << false << false << true << true << true << (F | U | N);
    QTest::newRow("no fast zero") << false << false << true << true << false << (F | U);
    QTest::newRow("fast zero without zero") << false << false << true << false << true << F;
    QTest::newRow("no fua, no zero") << false << false << false << false << false << 0u;
    QTest::newRow("read-only export") << true << false << true << true << true << R;
    QTest::newRow("opened read-only") << false << true << true << true << true << R;
}

void tst_nbd_limits::node_flags()
{
    QFETCH(bool, ro_server);
    QFETCH(bool, ro_host);
    QFETCH(bool, fua);
    QFETCH(bool, zero);
    QFETCH(bool, fast_zero);
    QFETCH(uint, flags);
    export_facts f;
    f.read_only = ro_server;
    f.can_fua = fua;
    f.can_zero = zero;
    f.can_fast_zero = fast_zero;
    QCOMPARE(uint(granule_nbd::node_flags_of(f, ro_host)), flags);
}

void tst_nbd_limits::block_status_data()
{
    QTest::addColumn<uint>("nbd");
    QTest::addColumn<uint>("granule");
    QTest::newRow("data") << 0u << uint(GRANULE_BLOCK_DATA);
    QTest::newRow("allocated zeroes") << 2u << uint(GRANULE_BLOCK_DATA | GRANULE_BLOCK_ZERO);
    QTest::newRow("hole, zero") << 3u << uint(GRANULE_BLOCK_ZERO);
    QTest::newRow("hole of unknown contents") << 1u << 0u;
    QTest::newRow("unknown bits ignored") << (0x100u | 3u) << uint(GRANULE_BLOCK_ZERO);
}

void tst_nbd_limits::block_status()
{
    QFETCH(uint, nbd);
    QFETCH(uint, granule);
    QCOMPARE(uint(granule_nbd::block_status_of(nbd)), granule);
}

void tst_nbd_limits::config_accepts_data()
{
    QTest::addColumn<QStringList>("options");
    QTest::addColumn<QString>("where");
    QTest::addColumn<QString>("tls");
    QTest::newRow("unix URI") << QStringList{"filename=nbd+unix:///disk?socket=/s"}
                              << "nbd+unix:///disk?socket=/s" << "off";
    QTest::newRow("TLS URI") << QStringList{"filename=nbds://127.0.0.1/x"}
                             << "nbds://127.0.0.1/x" << "require";
    QTest::newRow("unix keys") << QStringList{"server.type=unix", "server.path=/s", "export=d"}
                               << "unix socket /s, export 'd'" << "off";
    QTest::newRow("path alone is unix") << QStringList{"server.path=/s"}
                                        << "unix socket /s, export ''" << "off";
    QTest::newRow("inet keys, default port")
        << QStringList{"server.host=127.0.0.1", "tls=on"} << "127.0.0.1:10809, export ''" << "on";
    QTest::newRow("IPv6 in brackets") << QStringList{"server.host=[::1]", "server.port=10810"}
                                      << "[::1]:10810, export ''" << "off";
}

void tst_nbd_limits::config_accepts()
{
    QFETCH(QStringList, options);
    QFETCH(QString, where);
    QFETCH(QString, tls);
    auto p = parse(options);
    QVERIFY2(p.ok, p.message.c_str());
    QCOMPARE(QString::fromStdString(p.cfg.where()), where);
    QCOMPARE(QString(granule_nbd::tls_name(p.cfg.tls)), tls);
}

void tst_nbd_limits::config_refuses_data()
{
    QTest::addColumn<QStringList>("options");
    QTest::addColumn<QString>("message");
    QTest::newRow("not an NBD URI") << QStringList{"filename=iscsi://h/iqn/0"}
                                    << "option 'filename': 'iscsi://h/iqn/0' is not an NBD URI";
    QTest::newRow("nothing") << QStringList{} << "missing option 'filename'";
    QTest::newRow("URI and keys") << QStringList{"filename=nbd://h/", "server.host=h"}
                                  << "option 'server.host': give either 'filename'";
    QTest::newRow("bad type") << QStringList{"server.type=vsock"}
                              << "option 'server.type': 'vsock' is not inet or unix";
    QTest::newRow("port 0") << QStringList{"server.host=h", "server.port=0"}
                            << "option 'server.port': '0' is not a number from 1 to 65535";
    QTest::newRow("path with inet") << QStringList{"server.type=inet", "server.host=h",
                                                   "server.path=/s"}
                                    << "option 'server.path': only for server.type=unix";
    QTest::newRow("psk without tls") << QStringList{"server.path=/s", "tls-psk-file=/etc/hostname"}
                                     << "option 'tls-psk-file': needs tls=on or tls=require";
    QTest::newRow("queue depth") << QStringList{"server.path=/s", "queue-depth=2000"}
                                 << "option 'queue-depth': 2000 is not from 1 to 1024";
}

void tst_nbd_limits::config_refuses()
{
    QFETCH(QStringList, options);
    QFETCH(QString, message);
    auto p = parse(options);
    QVERIFY(!p.ok);
    QCOMPARE(p.code, EINVAL);
    const auto got = QString::fromStdString(p.message);
    QVERIFY2(got.startsWith(message), qPrintable(got));
}

QTEST_GUILESS_MAIN(tst_nbd_limits)
#include "tst_nbd_limits.moc"
