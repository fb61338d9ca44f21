# granule_add_driver(<name> SOURCES ... [LIBRARIES ...] [OUTPUT_DIR dir] [NO_INSTALL])
# A driver plugin: the shared module granule-driver-<name> (the only file
# name the loader takes), built into OUTPUT_DIR and installed into the
# plugin dir. It exports its entry symbol and nothing else: hidden
# visibility, and on ELF a version script, since the C++ standard library's
# template instances are default-visible whatever the preset says.
#
# The same file serves the Granule build and, installed with the package,
# plugin authors (find_package(Granule) includes it). Defaults:
#   GRANULE_DRIVER_OUTPUT_DIR   in Granule's build: <build>/lib/granule/drivers;
#                               elsewhere: <build>/drivers
#   GRANULE_DRIVER_INSTALL_DIR  in Granule's build: lib/granule/drivers;
#                               elsewhere: the installed package's plugin dir
include_guard(GLOBAL)
set(granule_driver_cmake_dir ${CMAKE_CURRENT_LIST_DIR})

function(granule_add_driver name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIR" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "granule_add_driver(${name}): SOURCES is required")
  endif()
  set(target granule-driver-${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${GRANULE_DRIVER_OUTPUT_DIR})
    if(NOT ARG_OUTPUT_DIR)
      set(ARG_OUTPUT_DIR ${CMAKE_BINARY_DIR}/drivers)
    endif()
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR}
    RUNTIME_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${target} PRIVATE Granule::driver ${ARG_LIBRARIES})
  if(NOT WIN32 AND NOT APPLE)
    # On Windows the entry's dllexport already makes it the only export.
    set(map ${granule_driver_cmake_dir}/granule-driver.map)
    target_link_options(${target} PRIVATE "LINKER:--version-script=${map}")
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${map})
  endif()
  if(NOT ARG_NO_INSTALL)
    if(NOT GRANULE_DRIVER_INSTALL_DIR)
      message(FATAL_ERROR "granule_add_driver(${name}): GRANULE_DRIVER_INSTALL_DIR is not set")
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION ${GRANULE_DRIVER_INSTALL_DIR}
                              RUNTIME DESTINATION ${GRANULE_DRIVER_INSTALL_DIR})
  endif()
endfunction()
