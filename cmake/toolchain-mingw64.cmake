# Cross-build for 64-bit Windows with Debian's MinGW-w64 (package
# g++-mingw-w64-x86-64-posix). Used by tests/windows/run.sh:
#
#   cmake -S . -B build-win -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake
#
# Why the -posix compiler: the -win32 flavour has no std::thread/std::mutex in
# g++ 12, and the core and drivers need both.
#
# Boost stays header-only: the top-level CMakeLists.txt sees CMAKE_CROSSCOMPILING
# and builds Boost::headers from GRANULE_BOOST_INCLUDE_DIR (the directory that
# holds boost/) instead of find_package(Boost), whose host config would hand
# Linux libraries and /usr/include (glibc's headers) to a Windows compiler.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(GRANULE_MINGW_TRIPLET x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${GRANULE_MINGW_TRIPLET}-gcc-posix)
set(CMAKE_CXX_COMPILER ${GRANULE_MINGW_TRIPLET}-g++-posix)
set(CMAKE_RC_COMPILER ${GRANULE_MINGW_TRIPLET}-windres)

# Only the MinGW sysroot, never the host's libraries or headers; programs
# (pkg-config, perl...) still come from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${GRANULE_MINGW_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Debian's libboost1.81-dev headers (version checked by the top-level
# CMakeLists.txt). Only boost/ below this directory is exposed to the compiler.
set(GRANULE_BOOST_INCLUDE_DIR /usr/include CACHE PATH "directory holding boost/ (headers only)")

# -static: libstdc++, libgcc and libwinpthread go into every .exe and .dll, so
# nothing but Windows' own DLLs (and libgranule.dll) must be found at run time.
# Every module keeps its own runtime copy; the only C++ boundary is
# libgranule.dll <-> programs, and both sides allocate through msvcrt's one heap.
#
# libgranule.dll has no dllexport annotations, so ld exports every symbol it
# links, the static runtime's included: programs would then see two
# definitions of pthread_* and _Unwind_*. Keep the runtime archives out of the
# export table. (Not --exclude-libs,ALL: CMake's Makefile rules for MinGW pass
# a library's own objects as an archive too, objects.a, which ALL would hide.)
set(granule_runtime_archives
  libstdc++.a libsupc++.a libgcc.a libgcc_eh.a libpthread.a libwinpthread.a
  libmingw32.a libmingwex.a libmoldname.a libssp.a)
string(REPLACE ";" ":" granule_runtime_archives "${granule_runtime_archives}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static -Wl,--exclude-libs,${granule_runtime_archives}")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static -Wl,--exclude-libs,${granule_runtime_archives}")

# Windows finds a program's DLLs next to it (not through an rpath): programs
# and libgranule.dll share one bin/. Driver plugins keep their own folder.
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin CACHE PATH "")
