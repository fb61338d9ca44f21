# The names of every slot declared under `private slots:` of source (tests,
# *_data, init/cleanup fixtures alike), in declaration order. Shared by the Qt
# build (GranuleQtTest.cmake) and the Windows stand-in (tests/windows).
function(granule_qtest_slots source out_var)
  file(READ ${source} text)
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
  set(names "")
  foreach(decl IN LISTS decls)
    string(REGEX REPLACE "^void[ \t\r\n]+([A-Za-z0-9_]+).*$" "\\1" fn "${decl}")
    list(APPEND names ${fn})
  endforeach()
  set(${out_var} ${names} PARENT_SCOPE)
endfunction()

# CTest reports a test whose output matches SKIP_REGULAR_EXPRESSION as
# Skipped EVEN IF IT FAILED (measured with CMake 3.25: "echo SKIP; exit 1"
# shows Skipped). A bare "SKIP" would let one skipped data row hide a failing
# row of the same function. Qt's summary line says both: match "skipped"
# only when nothing failed.
set(GRANULE_QTEST_SKIP_REGEX "Totals: [0-9]+ passed, 0 failed, [1-9][0-9]* skipped")
