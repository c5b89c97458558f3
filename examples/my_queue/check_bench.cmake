# examples/my_queue/check_bench.cmake: the smoke run of one contender's benchmarks, judged by
# its exit status AND its JSON (a filter that matched nothing still exits 0, so the exit
# status alone proves nothing).
#
#   cmake -DBENCH=<channel_bench> -DIMPL=<name> -DJSON=<file> -P check_bench.cmake
#
# Runs every benchmark named .../impl:<IMPL>/... once, for a tiny minimum time (as the bench
# label's smoke runs do), writing Google Benchmark JSON to <file> (removed first, so a
# previous run cannot stand in). Passes when the program exits 0, at least one such
# benchmark ran, and none of them reported an error.
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS BENCH IMPL JSON)
  if(NOT ${var})
    message(FATAL_ERROR "check_bench.cmake: ${var} is not set (usage: cmake -DBENCH=<channel_bench> -DIMPL=<name> -DJSON=<file> -P check_bench.cmake)")
  endif()
endforeach()
if(NOT EXISTS "${BENCH}")
  message(FATAL_ERROR "check_bench.cmake: no such program: ${BENCH}")
endif()

file(REMOVE "${JSON}")
execute_process(COMMAND "${BENCH}" "--benchmark_filter=/impl:${IMPL}(/|$)"
                        --benchmark_min_time=0.001 --benchmark_repetitions=1
                        "--benchmark_out=${JSON}" --benchmark_out_format=json
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "FAILED: ${BENCH} exited ${rc}")
endif()
if(NOT EXISTS "${JSON}")
  message(FATAL_ERROR "FAILED: ${BENCH} wrote no ${JSON}")
endif()

file(READ "${JSON}" json)
if(json STREQUAL "")
  # What Google Benchmark leaves when its filter matched nothing.
  message(FATAL_ERROR "FAILED: ${JSON} is empty: no benchmark of impl:${IMPL} ran")
endif()
string(JSON count ERROR_VARIABLE json_error LENGTH "${json}" benchmarks)
if(json_error)
  message(FATAL_ERROR "FAILED: ${JSON} is not Google Benchmark JSON: ${json_error}")
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
  message(FATAL_ERROR "FAILED: ${JSON} holds no benchmark of impl:${IMPL}")
endif()
if(errors)
  list(JOIN errors "\n  " shown)
  message(FATAL_ERROR "FAILED: benchmarks of impl:${IMPL} reported errors:\n  ${shown}")
endif()
message(STATUS "OK: ${ran} benchmarks of impl:${IMPL} ran, none reported an error")
