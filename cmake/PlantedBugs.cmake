# cmake/PlantedBugs.cmake: the planted-bug catalogue, seen from the build.
#
# include/threadbench/detail/planted.hpp lists realistic channel bugs (enum Bug), each a
# compile-time switch: -DTHREADBENCH_PLANT_BUG=<number> compiles exactly that one in. This
# module
#   * reads the catalogue from that header (numbers and names: THREADBENCH_BUG_NUMBERS,
#     THREADBENCH_BUG_NAME_<n>), so the header stays the one list;
#   * turns THREADBENCH_PLANT_BUG (a bug number, ON = 1, OFF/0 = none, or runtime) into
#     THREADBENCH_PLANTED_BUG (the number, 0 = none, or runtime: every bug compiled in and
#     the live one chosen by the environment variable THREADBENCH_PLANTED_BUG, the
#     catalogue's own build), refusing anything not in the catalogue;
#   * in a clean, uninstrumented build with the unit tests and stress harnesses, registers
#     ctest catalogue.planted_bugs (label catalogue): scripts/planted_bugs.sh builds two
#     trees under <build>/planted (Release and TSan, every bug chosen at run time), runs for
#     each bug the one test that must catch it with a limit of its own, runs the catchers
#     once with no bug live (they must pass), and fails naming any bug that was not caught
#     (or whose catcher did not build). It prints the table "planted bug -> caught by ->
#     seconds" and writes it to <build>/planted/catalogue.md.

set(tb_planted_header ${PROJECT_SOURCE_DIR}/include/threadbench/detail/planted.hpp)
file(STRINGS ${tb_planted_header} tb_bug_lines
     REGEX "^[ ]+[a-z_]+ = [0-9]+,")
set(THREADBENCH_BUG_NUMBERS "")
foreach(line IN LISTS tb_bug_lines)
  string(REGEX MATCH "^[ ]+([a-z_]+) = ([0-9]+)," _ "${line}")
  if(CMAKE_MATCH_2 GREATER 0)
    list(APPEND THREADBENCH_BUG_NUMBERS ${CMAKE_MATCH_2})
    set(THREADBENCH_BUG_NAME_${CMAKE_MATCH_2} ${CMAKE_MATCH_1})
  endif()
endforeach()
if(NOT THREADBENCH_BUG_NUMBERS)
  message(FATAL_ERROR "cmake/PlantedBugs.cmake: found no 'name = number,' entries of enum Bug "
                      "in ${tb_planted_header}")
endif()

# THREADBENCH_PLANT_BUG -> THREADBENCH_PLANTED_BUG.
set(tb_plant "${THREADBENCH_PLANT_BUG}")
string(TOUPPER "${tb_plant}" tb_plant_upper)
if(tb_plant MATCHES "^[0-9]+$")
  math(EXPR THREADBENCH_PLANTED_BUG "${tb_plant}")  # strips leading zeros
elseif(tb_plant_upper MATCHES "^(ON|YES|Y|TRUE)$")
  set(THREADBENCH_PLANTED_BUG 1)                    # what ON always meant
elseif(tb_plant_upper MATCHES "^(OFF|NO|N|FALSE|)$")
  set(THREADBENCH_PLANTED_BUG 0)
elseif(tb_plant_upper STREQUAL "RUNTIME")
  set(THREADBENCH_PLANTED_BUG runtime)              # every bug, chosen per process
else()
  message(FATAL_ERROR "THREADBENCH_PLANT_BUG='${tb_plant}': expected a bug number of the "
                      "catalogue (${THREADBENCH_BUG_NUMBERS}), ON (= 1), runtime or OFF")
endif()
if(THREADBENCH_PLANTED_BUG STREQUAL "runtime")
  message(STATUS "planted bugs: every bug of the catalogue compiled in, the live one chosen "
                 "by THREADBENCH_PLANTED_BUG=<number> at run time: a test-only build, never "
                 "report its numbers")
elseif(THREADBENCH_PLANTED_BUG)
  if(NOT THREADBENCH_PLANTED_BUG IN_LIST THREADBENCH_BUG_NUMBERS)
    message(FATAL_ERROR "THREADBENCH_PLANT_BUG=${tb_plant}: no such bug; the catalogue "
                        "(${tb_planted_header}) has ${THREADBENCH_BUG_NUMBERS}")
  endif()
  message(STATUS "planted bug ${THREADBENCH_PLANTED_BUG} "
                 "(${THREADBENCH_BUG_NAME_${THREADBENCH_PLANTED_BUG}}): a test-only build, "
                 "never report its numbers")
endif()

# ---- the catalogue test ---------------------------------------------------------------
# Only where it means something: a build with no bug planted (the catalogue plants its
# own), no sanitizer (it builds its TSan variants itself, without the TSan-built oneTBB),
# and the unit tests and stress harnesses it borrows its catchers from.
if(NOT THREADBENCH_PLANTED_BUG AND THREADBENCH_SANITIZER STREQUAL ""
   AND THREADBENCH_BUILD_TESTS AND THREADBENCH_BUILD_STRESS)
  # Each bug has its own limit inside the script; this one only backs them up. The script
  # builds two trees (Release and TSan, every bug chosen at run time) and prints its time.
  add_test(NAME catalogue.planted_bugs
           COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/planted_bugs.sh
                   --source ${PROJECT_SOURCE_DIR}
                   --build ${CMAKE_BINARY_DIR}/planted
                   --cxx ${CMAKE_CXX_COMPILER}
                   --generator ${CMAKE_GENERATOR})
  set_tests_properties(catalogue.planted_bugs PROPERTIES LABELS catalogue TIMEOUT 1800)
endif()
