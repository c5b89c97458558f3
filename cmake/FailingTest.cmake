# cmake/FailingTest.cmake: threadbench_failing_test(NAME LABEL WHY) registers a ctest test
# that always fails and prints WHY. A folder whose tests need a tool that configure did not
# find (valgrind, a Python with matplotlib) registers one, so that a run of its label cannot
# pass by having skipped everything.
function(threadbench_failing_test name label why)
  message(WARNING "${why}")
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} -E echo "FAILED: ${why}")
  set_tests_properties(${name} PROPERTIES LABELS ${label} FAIL_REGULAR_EXPRESSION "FAILED")
endfunction()
