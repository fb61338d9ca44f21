# granule_add_driver(<name> SOURCES ...): a driver plugin, built as its own
# shared library granule-driver-<name> into the build tree's drivers/ folder
# (where the loader finds it) and installed into lib/granule/drivers.
function(granule_add_driver name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIR" "SOURCES;LIBRARIES" ${ARGN})
  set(target granule-driver-${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${GRANULE_DRIVER_OUTPUT_DIR})
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR}
    RUNTIME_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${target} PRIVATE granule_driver_sdk ${ARG_LIBRARIES})
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${GRANULE_DRIVER_INSTALL_DIR}
                              RUNTIME DESTINATION ${GRANULE_DRIVER_INSTALL_DIR})
  endif()
endfunction()
