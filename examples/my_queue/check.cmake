# examples/my_queue/check.cmake: runs one program for a ctest test of the example and
# judges it by its exit status AND its output (ctest's PASS_REGULAR_EXPRESSION alone would
# ignore the exit status, so a crash that printed the right words could pass).
#
#   cmake -DEXPECT=clean|race [-DBENCH_JSON=<file> -DIMPL=<name>] -P check.cmake -- <program> <args>...
#
#   EXPECT=clean  the program exits 0 and prints no sanitizer report. With BENCH_JSON (a
#                 Google Benchmark JSON the program wrote) and IMPL: at least one benchmark
#                 named .../impl:<IMPL>/... ran and none of them reported an error.
#   EXPECT=race   the program must FAIL: a non-zero exit status, a ThreadSanitizer data race
#                 report, and that report names the example's ring (my_queue::SpscRing), so
#                 a failure for any other reason does not count as the race being caught.
#
# A TSan binary that dies with "unexpected memory mapping" (a kernel with more ASLR entropy
# than GCC 12's TSan runtime expects) is run once more with ASLR off (setarch -R).
cmake_minimum_required(VERSION 3.25)

set(cmd "")
set(after_dashes OFF)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE 1 ${last})
  if(after_dashes)
    list(APPEND cmd "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(after_dashes ON)
  endif()
endforeach()
if(NOT cmd)
  message(FATAL_ERROR "check.cmake: no program given (usage: cmake -DEXPECT=clean|race -P check.cmake -- <program> <args>...)")
endif()
if(NOT EXPECT MATCHES "^(clean|race)$")
  message(FATAL_ERROR "check.cmake: EXPECT must be clean or race, not '${EXPECT}'")
endif()
if(DEFINED BENCH_JSON AND NOT DEFINED IMPL)
  message(FATAL_ERROR "check.cmake: BENCH_JSON needs IMPL (the impl:<name> to look for)")
endif()

function(run_program out_rc out_text)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  set(${out_rc} "${rc}" PARENT_SCOPE)
  set(${out_text} "${out}" PARENT_SCOPE)
endfunction()

run_program(rc output ${cmd})
if(output MATCHES "unexpected memory mapping")
  execute_process(COMMAND uname -m OUTPUT_VARIABLE arch OUTPUT_STRIP_TRAILING_WHITESPACE)
  message(STATUS "check.cmake: TSan: unexpected memory mapping; running again under setarch ${arch} -R")
  run_program(rc output setarch ${arch} -R ${cmd})
endif()
# Shown in full: ctest keeps it in the log, and on a failure it is the evidence.
message("${output}")
list(JOIN cmd " " shown)

if(EXPECT STREQUAL "race")
  if(rc EQUAL 0)
    message(FATAL_ERROR "NOT CAUGHT: '${shown}' exited 0; the planted race went unnoticed")
  endif()
  if(NOT output MATCHES "WARNING: ThreadSanitizer: data race")
    message(FATAL_ERROR "NOT CAUGHT: '${shown}' failed (exit ${rc}) without a ThreadSanitizer data race report")
  endif()
  if(NOT output MATCHES "my_queue::SpscRing")
    message(FATAL_ERROR "NOT CAUGHT: '${shown}' reported a data race, but not in my_queue::SpscRing")
  endif()
  message(STATUS "CAUGHT: exit ${rc}, ThreadSanitizer data race in my_queue::SpscRing")
  return()
endif()

if(NOT rc EQUAL 0)
  message(FATAL_ERROR "FAILED: '${shown}' exited ${rc}")
endif()
if(output MATCHES "WARNING: ThreadSanitizer|ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:")
  message(FATAL_ERROR "FAILED: '${shown}' exited 0 but printed a sanitizer report")
endif()
if(DEFINED BENCH_JSON)
  if(NOT EXISTS "${BENCH_JSON}")
    message(FATAL_ERROR "FAILED: '${shown}' wrote no ${BENCH_JSON}")
  endif()
  file(READ "${BENCH_JSON}" json)
  string(JSON count ERROR_VARIABLE json_error LENGTH "${json}" benchmarks)
  if(json_error)
    message(FATAL_ERROR "FAILED: ${BENCH_JSON} is not Google Benchmark JSON: ${json_error}")
  endif()
  set(ran 0)
  set(errors "")
  if(count GREATER 0)
    math(EXPR last "${count} - 1")
    foreach(i RANGE ${last})
      string(JSON name GET "${json}" benchmarks ${i} name)
      if(NOT name MATCHES "/impl:${IMPL}(/|$)")
        continue()
      endif()
      math(EXPR ran "${ran} + 1")
      string(JSON failed ERROR_VARIABLE no_flag GET "${json}" benchmarks ${i} error_occurred)
      if(NOT no_flag AND failed)
        string(JSON why ERROR_VARIABLE no_message GET "${json}" benchmarks ${i} error_message)
        list(APPEND errors "${name}: ${why}")
      endif()
    endforeach()
  endif()
  if(ran EQUAL 0)
    message(FATAL_ERROR "FAILED: ${BENCH_JSON} holds no benchmark of impl:${IMPL}")
  endif()
  if(errors)
    list(JOIN errors "\n  " shown_errors)
    message(FATAL_ERROR "FAILED: benchmarks of impl:${IMPL} reported errors:\n  ${shown_errors}")
  endif()
  message(STATUS "OK: ${ran} benchmark runs of impl:${IMPL}, none errored")
endif()
