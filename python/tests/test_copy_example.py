"""examples/python/copy.py: byte-exact sparse copies file to file and
through blkdebug align=4096, holes kept as holes, convert's rules for a new
and an existing DST, and the same data/zero accounting as granule-img
convert on the same source."""
import os
import re
import subprocess
import sys

import pytest

from conftest import SOURCE_DIR, need, test_bytes

COPY = os.path.join(SOURCE_DIR, "examples", "python", "copy.py")
MIB = 1 << 20


def run_copy(*args):
    return subprocess.run([sys.executable, COPY, *map(str, args)], capture_output=True, text=True,
                          timeout=60)


def make_source(path):
    """10 MiB + 777 bytes: holes, data at odd places, explicit zeroes
    (allocated, so only scanning finds them), a short last unit."""
    with open(path, "wb") as f:
        f.truncate(10 * MIB + 777)
        f.seek(3 * 4096 + 5)
        f.write(test_bytes(10000, 1))
        f.seek(5 * MIB)
        f.write(test_bytes(3 * MIB, 2))
        f.seek(9 * MIB)
        f.write(bytes(65536))
        f.seek(10 * MIB + 100)
        f.write(b"tail")


def data_ranges(path):
    """The file's data extents (SEEK_DATA/SEEK_HOLE)."""
    out = []
    with open(path, "rb") as f:
        fd, size, pos = f.fileno(), os.fstat(f.fileno()).st_size, 0
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break
            end = os.lseek(fd, start, os.SEEK_HOLE)
            out.append((start, end))
            pos = end
    return out


def counts(summary):
    m = re.fullmatch(r"(?:copied|converted) (\d+) bytes: (\d+) data, (\d+) zero \((.*)\) "
                     r"in [0-9.]+ s \([0-9.]+ MB/s\)", summary.strip())
    assert m, summary
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)


def test_file_to_new_file_sparse(tmp_path):
    src, dst = tmp_path / "src.raw", tmp_path / "dst.raw"
    make_source(src)
    r = run_copy(src, dst)
    assert r.returncode == 0, r.stderr
    assert dst.read_bytes() == src.read_bytes()
    total, data, zero, how = counts(r.stdout)
    assert total == 10 * MIB + 777 and data + zero == total and how == "left as holes"
    # Holes stay holes, and the explicit zeroes became one.
    ranges = data_ranges(dst)
    allocated = sum(e - s for s, e in ranges)
    assert allocated <= data + 4096 * len(ranges), ranges
    assert all(not (s < 9 * MIB + 65536 and e > 9 * MIB) for s, e in ranges), ranges


def test_same_accounting_as_granule_img_convert(tmp_path):
    img = os.environ.get("GRANULE_IMG")
    need(img and os.access(img, os.X_OK), "GRANULE_IMG (granule-img) not given")
    src = tmp_path / "src.raw"
    make_source(src)
    for extra in ([], ["-S", "0"], ["-S", "64k"]):
        ours = run_copy(*extra, src, tmp_path / "ours.raw")
        theirs = subprocess.run([img, "convert", *extra, src, tmp_path / "theirs.raw"],
                                capture_output=True, text=True)
        assert ours.returncode == 0 and theirs.returncode == 0, (ours.stderr, theirs.stderr)
        assert counts(ours.stdout) == counts(theirs.stdout), extra
        assert data_ranges(tmp_path / "ours.raw") == data_ranges(tmp_path / "theirs.raw"), extra
        os.unlink(tmp_path / "ours.raw")
        os.unlink(tmp_path / "theirs.raw")


def test_through_blkdebug_into_an_existing_target(tmp_path):
    """-n semantics: zero runs written as zeroes over old data, DST's bytes
    past SRC's length kept; both sides 4096-aligned through blkdebug, chunks
    and depth odd so requests straddle blocks."""
    src, dst = tmp_path / "src.raw", tmp_path / "dst.raw"
    make_source(src)
    old = test_bytes(12 * MIB, 9)
    dst.write_bytes(old)
    s = f"driver=blkdebug,align=4096,image.driver=raw-posix,image.filename={src}"
    d = f"driver=blkdebug,align=4096,image.driver=raw-posix,image.filename={dst}"
    r = run_copy("--chunk", "300k", "--depth", "3", s, d)
    assert r.returncode == 0, r.stderr
    expect = src.read_bytes()
    assert dst.read_bytes() == expect + old[len(expect):]
    assert counts(r.stdout)[3] == "written as zeroes"


def test_refusals_change_nothing(tmp_path):
    src, dst = tmp_path / "src.raw", tmp_path / "dst.raw"
    make_source(src)
    dst.write_bytes(b"keep me")
    r = run_copy(src, dst)
    assert r.returncode == 1 and "exists; pass -n" in r.stderr
    assert dst.read_bytes() == b"keep me"
    # -n: the target must exist, and be long enough.
    r = run_copy("-n", src, tmp_path / "missing.raw")
    assert r.returncode == 1 and "does not exist" in r.stderr
    r = run_copy("-n", src, dst)
    assert r.returncode == 1 and f"DST holds 7 bytes, SRC has {10 * MIB + 777} and DST cannot grow" in r.stderr
    assert dst.read_bytes() == b"keep me"
    # ... unless it can grow.
    r = run_copy("-n", src, f"driver=raw-posix,filename={dst},growable=on")
    assert r.returncode == 0, r.stderr
    assert dst.read_bytes() == src.read_bytes()
    # A container's bytes are not copied, nor overwritten, without format=raw.
    qcow2 = tmp_path / "image.qcow2"
    qcow2.write_bytes(b"QFI\xfb\0\0\0\x03" + bytes(MIB))
    r = run_copy(qcow2, tmp_path / "from-qcow2.raw")
    assert r.returncode == 1 and "SRC is qcow2 (recognised" in r.stderr
    assert not (tmp_path / "from-qcow2.raw").exists()
    r = run_copy(f"filename={qcow2},format=raw", tmp_path / "from-qcow2.raw")
    assert r.returncode == 0, r.stderr
    r = run_copy("-n", src, qcow2)
    assert r.returncode == 1 and "DST is qcow2 (recognised" in r.stderr
    assert qcow2.read_bytes()[:4] == b"QFI\xfb"
    # A failing source: the target created for it is removed again.
    bad = (f"driver=blkdebug,image.driver=raw-posix,image.filename={src},"
           f"inject-error.0.event=read_aio,inject-error.0.offset={6 * MIB}")
    r = run_copy(bad, tmp_path / "new.raw")
    assert r.returncode == 1 and r.stderr.startswith("copy.py: SRC: ")
    assert f"offset {6 * MIB}" in r.stderr and "injected error" in r.stderr
    assert "removed the incomplete" in r.stderr and not (tmp_path / "new.raw").exists()
    r = run_copy("--depth", "0", src, tmp_path / "x.raw")
    assert r.returncode == 2


@pytest.mark.parametrize("sparse", ["4k", "0"])
def test_memory_to_memory_with_options(sparse):
    """Specs that need nothing on disk: nested options are not copy.py's
    business, but a URL-less options DST is written with -n semantics."""
    r = run_copy("-S", sparse, "driver=memory,size=1M", "driver=memory,size=2M")
    assert r.returncode == 0, r.stderr
    total, data, zero, how = counts(r.stdout)
    assert total == MIB and how == "written as zeroes"
    assert (data, zero) == ((0, MIB) if sparse == "4k" else (MIB, 0))
