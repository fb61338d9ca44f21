// The driver loader and option validation, seen from device::open: every
// refusal names the file or key at fault, and none of them crashes.
#include <granule/device.hpp>

#include "test_support.hpp"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QProcess>

#ifndef GRANULE_OPEN_SPEC
#error "GRANULE_OPEN_SPEC (path of the open_spec helper) must be defined"
#endif
#ifndef GRANULE_BAD_DRIVERS_DIR
#error "GRANULE_BAD_DRIVERS_DIR must be defined"
#endif
#ifndef GRANULE_MEMORY_DRIVER
#error "GRANULE_MEMORY_DRIVER (path of the built memory driver) must be defined"
#endif

namespace {

struct outcome {
    int exit_code = -1;
    QString output;
};

// Runs open_spec in a child with GRANULE_DRIVER_PATH=dir (empty: unset).
outcome open_in_child(const QString &spec, const QString &dir)
{
    QProcess p;
    auto env = QProcessEnvironment::systemEnvironment();
    env.remove("GRANULE_DRIVER_PATH");
    if (!dir.isEmpty())
        env.insert("GRANULE_DRIVER_PATH", dir);
    p.setProcessEnvironment(env);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(GRANULE_OPEN_SPEC, {spec});
    outcome o;
    if (!p.waitForFinished(60000)) {
        o.output = "open_spec did not finish: " + p.errorString();
        return o;
    }
    o.output = QString::fromUtf8(p.readAll()).trimmed();
    // A crash is never an acceptable refusal.
    o.exit_code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    return o;
}

QString case_dir(const char *name) { return QString(GRANULE_BAD_DRIVERS_DIR) + "/" + name; }

// The case's driver files, or empty when that bad driver is not built yet.
QStringList case_files(const char *name)
{
    QDir d(case_dir(name));
    QStringList out;
    for (const auto &f : d.entryList({"granule-driver-*.so"}, QDir::Files, QDir::Name))
        out << d.absoluteFilePath(f);
    return out;
}

bool driver_available(const char *name)
{
    auto o = open_in_child(QString("driver=%1").arg(name), {});
    return !o.output.contains(QString("unknown driver '%1'").arg(name));
}

}  // namespace

class tst_loader : public QObject {
    Q_OBJECT

private slots:
    void refusals_data();
    void refusals();
    void good_drivers_survive_bad_ones();
    void unknown_driver();
    void skipped_files_are_named();
    void driver_by_path();
    void library_dir_comes_first();
    void option_errors_data();
    void option_errors();
    void spec_errors_data();
    void spec_errors();
};

void tst_loader::refusals_data()
{
    QTest::addColumn<QString>("dir");     // under tests/bad_drivers
    QTest::addColumn<QString>("spec");
    QTest::addColumn<int>("files");       // how many .so the case needs
    QTest::addColumn<QString>("message");
    // A newer major version names both versions.
    QTest::newRow("newer_major") << "abi" << "driver=wrongabi" << 1
                                 << "built for driver ABI 2.0; this Granule speaks driver ABI 1.1, "
                                    "which loads drivers built for 1.x only";
    QTest::newRow("pre_freeze") << "prefreeze" << "driver=prefreeze" << 1
                                << "built for driver ABI 0.1 (a development ABI from before the "
                                   "1.0 freeze)";
    QTest::newRow("table_too_small") << "small" << "driver=small" << 1
                                     << "driver table too small (80 bytes; the mandatory members "
                                        "of ABI 1.0 take 88)";
    QTest::newRow("not_a_driver") << "notadriver" << "driver=notadriver" << 1
                                  << "not a Granule driver";
    QTest::newRow("missing_symbol") << "missingsym" << "driver=missingsym" << 1
                                    << "cannot load";
    QTest::newRow("duplicate_name") << "dup" << "driver=dup" << 2
                                    << "duplicate driver name 'dup'";
}

void tst_loader::refusals()
{
    QFETCH(QString, dir);
    QFETCH(QString, spec);
    QFETCH(int, files);
    QFETCH(QString, message);
    const auto so = case_files(qPrintable(dir));
    if (so.size() < files)
        GRANULE_SKIP("bad driver case '" + dir + "' is not built in " + case_dir(qPrintable(dir)));
    const auto o = open_in_child(spec, case_dir(qPrintable(dir)));
    QVERIFY2(o.exit_code == 1, qPrintable(o.output));
    QVERIFY2(o.output.contains(message), qPrintable(o.output));
    // The message names every file involved, by its full path.
    for (const auto &f : so)
        QVERIFY2(o.output.contains(f), qPrintable("'" + f + "' not named in: " + o.output));
    QVERIFY2(o.output.startsWith("error 2:"), qPrintable(o.output));  // ENOENT
}

// A refused file must not take the good drivers down with it.
void tst_loader::good_drivers_survive_bad_ones()
{
    if (!driver_available("memory"))
        GRANULE_SKIP("driver 'memory' is not built");
    int tried = 0;
    for (const char *c : {"abi", "prefreeze", "small", "notadriver", "missingsym", "dup"}) {
        if (case_files(c).isEmpty())
            continue;
        ++tried;
        const auto o = open_in_child("driver=memory,size=64k", case_dir(c));
        QVERIFY2(o.exit_code == 0 && o.output == "ok length 65536",
                 qPrintable(QString(c) + ": " + o.output));
    }
    if (!tried)
        GRANULE_SKIP("no bad driver case is built under " GRANULE_BAD_DRIVERS_DIR);
}

void tst_loader::unknown_driver()
{
    auto r = granule::device::open("driver=nope");
    QVERIFY(!r);
    QCOMPARE(r.error().code, ENOENT);
    const auto msg = QString::fromStdString(r.error().message);
    QVERIFY2(msg.contains("option 'driver': unknown driver 'nope'"), qPrintable(msg));
    QVERIFY2(msg.contains("available:"), qPrintable(msg));
    if (driver_available("memory"))
        QVERIFY2(msg.contains(" memory"), qPrintable(msg));
    // A child's driver is named by its full key.
    r = granule::device::open("driver=blkdebug,image.driver=nope");
    if (!driver_available("blkdebug"))
        return;
    QVERIFY(!r);
    QVERIFY2(QString::fromStdString(r.error().message).contains("option 'image.driver': unknown driver 'nope'"),
             r.error().message.c_str());
}

// A plugin under a name the loader does not take (CMake's default "lib"
// prefix) and a GRANULE_DRIVER_PATH entry that does not exist are named in
// the "unknown driver" error, with the reason, instead of passing silently.
void tst_loader::skipped_files_are_named()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto misnamed = dir.filePath("libgranule-driver-x.so");
    QVERIFY(QFile::copy(GRANULE_MEMORY_DRIVER, misnamed));
    const auto missing = dir.filePath("no-such-dir");
    const auto o = open_in_child("driver=x,size=64k", dir.path() + ":" + missing);
    QCOMPARE(o.exit_code, 1);
    QVERIFY2(o.output.contains("unknown driver 'x'"), qPrintable(o.output));
    QVERIFY2(o.output.contains("skipped " + misnamed + ": not named granule-driver-<name>.so"),
             qPrintable(o.output));
    QVERIFY2(o.output.contains("skipped " + missing + " [GRANULE_DRIVER_PATH]: no such directory"),
             qPrintable(o.output));
    QVERIFY2(o.output.contains(dir.path() + " [GRANULE_DRIVER_PATH]"), qPrintable(o.output));
}

// driver=<path> loads that file, whatever it is called; a file that is not a
// driver, or not there, is refused naming it.
void tst_loader::driver_by_path()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto file = dir.filePath("any-name.so");
    QVERIFY(QFile::copy(GRANULE_MEMORY_DRIVER, file));
    auto o = open_in_child("driver=" + file + ",size=64k", {});
    QCOMPARE(o.output, QString("ok length 65536"));
    // As a child's driver, too.
    o = open_in_child("driver=blkdebug,align=512,image.driver=" + file + ",image.size=4k", {});
    QCOMPARE(o.output, QString("ok length 4096"));

    const auto missing = dir.filePath("missing.so");
    o = open_in_child("driver=" + missing, {});
    QCOMPARE(o.exit_code, 1);
    QVERIFY2(o.output.contains("driver file '" + missing + "': no such file"), qPrintable(o.output));
    const auto not_driver = case_files("notadriver");
    if (not_driver.isEmpty())
        GRANULE_SKIP("tests/bad_drivers/notadriver is not built");
    o = open_in_child("driver=" + not_driver.front(), {});
    QCOMPARE(o.exit_code, 1);
    QVERIFY2(o.output.contains("not a Granule driver") && o.output.contains(not_driver.front()),
             qPrintable(o.output));
}

// The library's own plugin dir is searched first: a driver of the same name
// on GRANULE_DRIVER_PATH does not replace it (it is listed as skipped).
void tst_loader::library_dir_comes_first()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto copy = dir.filePath("granule-driver-memory.so");
    QVERIFY(QFile::copy(GRANULE_MEMORY_DRIVER, copy));
    const auto o = open_in_child("driver=nope", dir.path());
    QVERIFY2(o.output.contains("skipped " + copy + ": driver 'memory' is already provided by " +
                               QFileInfo(GRANULE_MEMORY_DRIVER).absoluteFilePath()),
             qPrintable(o.output));
    const auto first = o.output.indexOf("[beside libgranule]");
    QVERIFY2(first >= 0 && first < o.output.indexOf("[GRANULE_DRIVER_PATH]"), qPrintable(o.output));
}

void tst_loader::option_errors_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("needs");  // driver that must be built
    QTest::addColumn<QStringList>("message");
    const QString m = "memory", b = "blkdebug";
    QTest::newRow("unknown_option") << "driver=memory,size=1M,bogus=1" << m
                                    << QStringList{"unknown option 'bogus'", "known: size"};
    QTest::newRow("unknown_child_option")
        << "driver=blkdebug,image.driver=memory,image.size=1M,image.bogus=1" << b
        << QStringList{"memory: unknown option 'image.bogus'"};
    QTest::newRow("missing_required") << "driver=memory,align=512" << m
                                      << QStringList{"missing required option 'size'"};
    QTest::newRow("missing_required_child") << "driver=blkdebug,image.driver=memory" << b
                                            << QStringList{"missing required option 'image.size'"};
    QTest::newRow("bad_size_value") << "driver=memory,size=1M,align=abc" << m
                                    << QStringList{"option 'align'", "'abc'"};
    QTest::newRow("bad_child_size") << "driver=blkdebug,image.driver=memory,image.size=12q" << b
                                    << QStringList{"option 'image.size'", "'12q'"};
    QTest::newRow("bad_bool") << "driver=memory,size=1M,growable=perhaps" << m
                              << QStringList{"option 'growable'", "'perhaps'"};
    QTest::newRow("bad_read_only") << "driver=memory,size=1M,read-only=2" << m
                                   << QStringList{"option 'read-only'", "'2'"};
    QTest::newRow("memory_align_3000") << "driver=memory,size=1M,align=3000" << m
                                       << QStringList{"request_alignment 3000 is not a power of two"};
    QTest::newRow("memory_mem_align_24") << "driver=memory,size=1M,mem-align=24" << m
                                         << QStringList{"min_mem_alignment 24 is not a power of two"};
    QTest::newRow("blkdebug_align_3000")
        << "driver=blkdebug,align=3000,image.driver=memory,image.size=1M" << b
        << QStringList{"request_alignment 3000 is not a power of two"};
    QTest::newRow("max_transfer_below_align") << "driver=memory,size=1M,align=4096,max-transfer=512"
                                              << m << QStringList{"max_transfer 512", "4096"};
    // Iovec lengths must be multiples of 4096 but at most 512 long: unusable.
    QTest::newRow("max_transfer_below_mem_align")
        << "driver=memory,size=1M,align=512,mem-align=4096,max-transfer=512" << m
        << QStringList{"max_transfer 512", "4096"};
    QTest::newRow("missing_child") << "driver=blkdebug,align=512" << b
                                   << QStringList{"missing child 'image'"};
    // INT values parse as the driver SDK parses them (granule/value_parse.hpp):
    // the host's strtoll took " 5" and "+5", which driver.hpp then refused.
    const QString iscsi = "driver=iscsi,filename=iscsi://127.0.0.1:1/iqn.2026-12.org.x%3Ad/0,";
    QTest::newRow("int_leading_space") << iscsi + "timeout= 5" << "iscsi"
                                       << QStringList{"option 'timeout'", "' 5'", "not an integer"};
    QTest::newRow("int_plus_sign") << iscsi + "queue-depth=+5" << "iscsi"
                                   << QStringList{"option 'queue-depth'", "'+5'", "not an integer"};
    QTest::newRow("int_out_of_range") << iscsi + "timeout=99999999999999999999" << "iscsi"
                                      << QStringList{"option 'timeout'", "out of range"};
    QTest::newRow("size_b_suffix_agrees") << "driver=memory,size=1M,align=512b,max-transfer=1x" << m
                                          << QStringList{"option 'max-transfer'", "'1x'"};
}

void tst_loader::option_errors()
{
    QFETCH(QString, spec);
    QFETCH(QString, needs);
    QFETCH(QStringList, message);
    if (!driver_available(qPrintable(needs)))
        GRANULE_SKIP("driver '" + needs + "' is not built");
    auto r = granule::device::open(spec.toStdString());
    QVERIFY2(!r, "opened");
    QVERIFY(r.error().code > 0);
    const auto msg = QString::fromStdString(r.error().message);
    for (const auto &part : message)
        QVERIFY2(msg.contains(part), qPrintable("'" + part + "' not in: " + msg));
}

// Specs that are not options at all still fail cleanly.
void tst_loader::spec_errors_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("message");
    QTest::newRow("empty") << "" << "empty device specification";
    QTest::newRow("url_nobody_claims") << "nosuch://host/x" << "no driver claims the URL scheme";
    // Clearly meant as options: the parse error must win over the filename
    // shorthand, or the user is told about a file they never named.
    QTest::newRow("dup_key") << "driver=memory,size=1M,size=2M" << "option 'size' given twice";
    QTest::newRow("no_value") << "driver=memory,size" << "option 'size' has no value";
    QTest::newRow("child_without_driver") << "driver=blkdebug,image.size=1M" << "image.driver";
}

void tst_loader::spec_errors()
{
    QFETCH(QString, spec);
    QFETCH(QString, message);
    auto r = granule::device::open(spec.toStdString());
    QVERIFY2(!r, "opened");
    QVERIFY(r.error().code > 0);
    const auto msg = QString::fromStdString(r.error().message);
    QVERIFY2(msg.contains(message), qPrintable(msg));
}

QTEST_GUILESS_MAIN(tst_loader)
#include "tst_loader.moc"
