"""Shared helpers of the granule package's tests.

need(condition, reason) skips a test whose component is missing, or fails it
when GRANULE_NO_SKIP=1 (CI, where every component is present), like
tests/lib/test_verdicts.sh's skip. A run with a skipped test exits 77, which
ctest shows as skipped (python/CMakeLists.txt: SKIP_RETURN_CODE 77).

The loop4k fixture attaches a sparse file as a loop device with 4096-byte
sectors (root), always detached in teardown; a run killed before its
teardown leaves a backing file under a directory naming its pid, and the
next run detaches and removes what a dead run left (tests/integration/
fixture.sh does the same for the shell tests).
"""
import os
import random
import shutil
import subprocess
import tempfile

import pytest

import granule

NO_SKIP = os.environ.get("GRANULE_NO_SKIP") == "1"
SOURCE_DIR = os.environ.get("GRANULE_SOURCE_DIR") or os.path.normpath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
LOOP_PREFIX = "granule-pytest-loop."


def need(condition, reason):
    if condition:
        return
    if NO_SKIP:
        pytest.fail(f"cannot run (GRANULE_NO_SKIP=1): {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if exitstatus == 0 and reporter is not None and reporter.stats.get("skipped"):
        session.exitstatus = 77


def test_bytes(n, seed):
    """n pseudo-random bytes, the same for the same seed."""
    return random.Random(seed).randbytes(n)


test_bytes.__test__ = False  # a helper, not a test


def write_file(path, data, size=None):
    with open(path, "wb") as f:
        f.write(data)
        if size is not None:
            f.truncate(size)


@pytest.fixture
def blkdebug_file(tmp_path):
    """A 1 MiB file of random bytes and the spec that reaches it through
    blkdebug align=4096: (spec, path, its initial bytes)."""
    path = tmp_path / "image.raw"
    data = test_bytes(1 << 20, 1)
    write_file(path, data)
    spec = f"driver=blkdebug,align=4096,image.driver=raw-posix,image.filename={path}"
    return spec, path, data


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_dead_loops(tmp_root):
    """Detaches the loop devices of dead runs: backing files under
    LOOP_PREFIX<pid>.* directories whose pid is gone."""
    out = subprocess.run(["losetup", "-n", "-O", "NAME,BACK-FILE"], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        parts = line.split(None, 1)
        if len(parts) != 2:
            continue
        name, back = parts[0], parts[1].strip()
        base = os.path.basename(os.path.dirname(back))
        if os.path.dirname(os.path.dirname(back)) != tmp_root or not base.startswith(LOOP_PREFIX):
            continue
        pid = base[len(LOOP_PREFIX):].split(".")[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            subprocess.run(["losetup", "-d", name], capture_output=True)
            shutil.rmtree(os.path.dirname(back), ignore_errors=True)


@pytest.fixture
def loop4k():
    """A 16 MiB loop device with 4096-byte sectors over a sparse file: its path."""
    need(os.geteuid() == 0, "needs root (losetup)")
    need(shutil.which("losetup") is not None, "losetup not found (util-linux)")
    need(os.path.exists("/dev/loop-control"), "no /dev/loop-control: loop devices unavailable")
    tmp_root = tempfile.gettempdir()
    _sweep_dead_loops(tmp_root)
    work = tempfile.mkdtemp(prefix=f"{LOOP_PREFIX}{os.getpid()}.", dir=tmp_root)
    backing = os.path.join(work, "backing.img")
    with open(backing, "wb") as f:
        f.truncate(16 << 20)
    dev = None
    try:
        r = subprocess.run(["losetup", "--sector-size", "4096", "--direct-io=on", "-f", "--show",
                            backing], capture_output=True, text=True)
        need(r.returncode == 0, f"losetup cannot attach a loop device here: {r.stderr.strip()}")
        dev = r.stdout.strip()
        if shutil.which("udevadm"):
            subprocess.run(["udevadm", "settle", "-t", "5"], capture_output=True)
        yield dev
    finally:
        if dev:
            subprocess.run(["losetup", "-d", dev], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def open_memory(size="1M", extra=None, read_only=False):
    """A blkdebug align=4096 device over a RAM disk, with extra keys
    ({"throttle.bps-read": "1M"})."""
    spec = {"driver": "blkdebug", "align": 4096, "image": {"driver": "memory", "size": size}}
    spec.update(extra or {})
    return granule.open(spec, read_only=read_only)
