"""Builds granule._granule against an installed Granule found by pkg-config
(granule-c.pc; PKG_CONFIG_PATH is honoured), with an rpath to its library
directory so the module loads without LD_LIBRARY_PATH. The metadata is in
pyproject.toml."""
import os
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup

PACKAGE = "granule-c"


def pkg_config(*args):
    if shutil.which("pkg-config") is None:
        sys.exit("granule: pkg-config not found; it finds Granule's C API (Debian: pkg-config)")
    r = subprocess.run(["pkg-config", *args, PACKAGE], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"granule: pkg-config cannot find {PACKAGE} ({r.stderr.strip()}).\n"
                 f"Install Granule (cmake --install BUILD --prefix P) and set "
                 f"PKG_CONFIG_PATH=P/lib/pkgconfig")
    return shlex.split(r.stdout)


def strip(flags, prefix):
    return [f[len(prefix):] for f in flags if f.startswith(prefix)]


def dirs(flags, prefix):
    # granule-c.pc is relocatable: its paths run through ${pcfiledir}/../..
    return [os.path.normpath(d) for d in strip(flags, prefix)]


cflags = pkg_config("--cflags")
libs = pkg_config("--libs")
library_dirs = dirs(libs, "-L")

setup(ext_modules=[Extension(
    "granule._granule",
    sources=["granule/_granule.c", "granule/_device.c", "granule/_aio.c"],
    depends=["granule/_granule_int.h"],
    include_dirs=dirs(cflags, "-I"),
    extra_compile_args=[f for f in cflags if not f.startswith("-I")] + ["-std=c99"],
    library_dirs=library_dirs,
    libraries=strip(libs, "-l"),
    runtime_library_dirs=library_dirs,
)])
