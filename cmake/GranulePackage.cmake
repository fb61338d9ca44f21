# The installed package: find_package(Granule CONFIG) with Granule::granule
# (callers) and Granule::driver (plugin authors) and granule_add_driver(), and
# granule.pc for pkg-config users (with plugindir, like nbdkit's).
include(CMakePackageConfigHelpers)
set(granule_cmake_install_dir ${CMAKE_INSTALL_LIBDIR}/cmake/Granule)

install(EXPORT GranuleTargets NAMESPACE Granule:: DESTINATION ${granule_cmake_install_dir})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/GranuleConfig.cmake.in
  ${CMAKE_BINARY_DIR}/GranuleConfig.cmake
  INSTALL_DESTINATION ${granule_cmake_install_dir}
  PATH_VARS GRANULE_DRIVER_INSTALL_DIR)
# 0.x: only the same minor version is compatible.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/GranuleConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/GranuleConfig.cmake ${CMAKE_BINARY_DIR}/GranuleConfigVersion.cmake
              ${CMAKE_CURRENT_LIST_DIR}/GranuleDriver.cmake ${CMAKE_CURRENT_LIST_DIR}/granule-driver.map
        DESTINATION ${granule_cmake_install_dir})

# pkg-config: the compile definitions every translation unit must share.
get_target_property(granule_defs granule_boost INTERFACE_COMPILE_DEFINITIONS)
list(TRANSFORM granule_defs PREPEND "-D")
list(JOIN granule_defs " " GRANULE_PC_DEFINES)
# Relocatable: the prefix is found from the .pc file's own place, so
# `cmake --install --prefix P` needs no reconfigure.
file(RELATIVE_PATH GRANULE_PC_TO_PREFIX /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
string(REGEX REPLACE "/$" "" GRANULE_PC_TO_PREFIX "${GRANULE_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/granule.pc.in ${CMAKE_BINARY_DIR}/granule.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/granule.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
# The C API (granule.h, libgranule-c): plain C flags, versioned by the C API.
configure_file(${CMAKE_CURRENT_LIST_DIR}/granule-c.pc.in ${CMAKE_BINARY_DIR}/granule-c.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/granule-c.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
