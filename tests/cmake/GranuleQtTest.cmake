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

# CTest reports a test whose output matches SKIP_REGULAR_EXPRESSION as
# Skipped EVEN IF IT FAILED (measured with CMake 3.25: "echo SKIP; exit 1"
# shows Skipped). A bare "SKIP" would let one skipped data row hide a failing
# row of the same function. Qt's summary line says both: match "skipped"
# only when nothing failed.
set(GRANULE_QTEST_SKIP_REGEX "Totals: [0-9]+ passed, 0 failed, [1-9][0-9]* skipped")

function(granule_qtest_functions source out_var)
  file(READ ${source} text)
  set(names "")
  # Everything after "private slots:" up to the next access specifier or the
  # end of the class.
  string(FIND "${text}" "private slots:" start)
  if(start EQUAL -1)
    message(FATAL_ERROR "${source}: no 'private slots:' section")
  endif()
  string(SUBSTRING "${text}" ${start} -1 rest)
  string(LENGTH "private slots:" skip)
  string(SUBSTRING "${rest}" ${skip} -1 rest)
  string(REGEX MATCH "^[^}]*" section "${rest}")
  string(REGEX REPLACE "(public|protected|private)[ \t]*(slots)?[ \t]*:.*$" "" section "${section}")
  string(REGEX MATCHALL "void[ \t\r\n]+[A-Za-z_][A-Za-z0-9_]*[ \t]*\\([ \t]*\\)" decls "${section}")
  foreach(decl IN LISTS decls)
    string(REGEX REPLACE "^void[ \t\r\n]+([A-Za-z0-9_]+).*$" "\\1" fn "${decl}")
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
