# granule_add_qtest(NAME tst_x SOURCES tst_x.cpp ... [LIBS ...] [INCLUDES ...]
#                   [DEPENDS targets...] [ENVIRONMENT VAR=value ...]
#                   [TIMEOUT seconds] [LABEL ctest-label])
#
# Builds a Qt Test executable and registers EACH test function as its own
# ctest entry "tst_x.function" (run as "tst_x function"). Why: a QSKIP inside
# one executable-wide entry reports "Passed"; one entry per function with a
# SKIP_REGULAR_EXPRESSION shows it as Skipped.
#
# The function names come from the `private slots:` section of the FIRST
# source, parsed at configure time (the source is a configure dependency, so
# adding a slot re-runs CMake). *_data, init*, cleanup* are not tests.
# Imported Qt targets are directory-scoped: find Qt once per including directory.
include_guard(DIRECTORY)

find_package(Qt6 REQUIRED COMPONENTS Core Test)

include(${CMAKE_CURRENT_LIST_DIR}/QtTestSlots.cmake)

function(granule_qtest_functions source out_var)
  granule_qtest_slots(${source} slots)
  set(names "")
  foreach(fn IN LISTS slots)
    if(fn MATCHES "_data$" OR fn MATCHES "^init" OR fn MATCHES "^cleanup")
      continue()
    endif()
    list(APPEND names ${fn})
  endforeach()
  if(NOT names)
    message(FATAL_ERROR "${source}: no test functions found under 'private slots:'")
  endif()
  set(${out_var} ${names} PARENT_SCOPE)
endfunction()

function(granule_add_qtest)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT;LABEL" "SOURCES;LIBS;INCLUDES;DEPENDS;ENVIRONMENT" ${ARGN})
  if(NOT ARG_NAME OR NOT ARG_SOURCES)
    message(FATAL_ERROR "granule_add_qtest: NAME and SOURCES are required")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  if(NOT ARG_LABEL)
    set(ARG_LABEL unit)
  endif()
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  set_target_properties(${ARG_NAME} PROPERTIES AUTOMOC ON)
  target_link_libraries(${ARG_NAME} PRIVATE Qt6::Core Qt6::Test ${ARG_LIBS})
  target_include_directories(${ARG_NAME} PRIVATE
    ${CMAKE_CURRENT_FUNCTION_LIST_DIR} ${ARG_INCLUDES})
  foreach(dep IN LISTS ARG_DEPENDS)
    if(TARGET ${dep})
      add_dependencies(${ARG_NAME} ${dep})
    endif()
  endforeach()

  list(GET ARG_SOURCES 0 main_source)
  get_filename_component(main_source ${main_source} ABSOLUTE)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${main_source})
  granule_qtest_functions(${main_source} functions)
  foreach(fn IN LISTS functions)
    add_test(NAME ${ARG_NAME}.${fn} COMMAND ${ARG_NAME} ${fn})
    set_tests_properties(${ARG_NAME}.${fn} PROPERTIES
      SKIP_REGULAR_EXPRESSION "${GRANULE_QTEST_SKIP_REGEX}"
      TIMEOUT ${ARG_TIMEOUT}
      ENVIRONMENT "QT_QPA_PLATFORM=offscreen;${ARG_ENVIRONMENT}"
      LABELS ${ARG_LABEL})
  endforeach()
endfunction()
