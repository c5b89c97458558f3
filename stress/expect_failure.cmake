# stress/expect_failure.cmake: a test that passes only if a command fails in the expected way.
#   cmake -DEXPECT_RC=<exit status> -DEXPECT_REGEX=<regex> -P expect_failure.cmake -- <command>...
# Runs the command (stdout and stderr together) and passes when it exited with EXPECT_RC and
# its output matches EXPECT_REGEX; otherwise it fails and says which of the two was wrong.
# A command that passes, crashes, or fails for another reason (a sanitizer report is exit
# 66, a bad flag 2) therefore fails the test: the harness must fail for the planted reason.
if(NOT DEFINED EXPECT_RC OR NOT DEFINED EXPECT_REGEX)
  message(FATAL_ERROR "usage: cmake -DEXPECT_RC=<n> -DEXPECT_REGEX=<re> -P expect_failure.cmake -- <command>...")
endif()
set(cmd "")
set(after_dashes FALSE)
foreach(i RANGE 1 ${CMAKE_ARGC})
  if(i EQUAL CMAKE_ARGC)
    break()
  endif()
  if(after_dashes)
    list(APPEND cmd "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(after_dashes TRUE)
  endif()
endforeach()
if(NOT cmd)
  message(FATAL_ERROR "expect_failure.cmake: no command after --")
endif()
execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT rc STREQUAL EXPECT_RC)
  message(FATAL_ERROR "expected exit status ${EXPECT_RC}, got ${rc}")
endif()
if(NOT out MATCHES "${EXPECT_REGEX}")
  message(FATAL_ERROR "exit status ${rc} as expected, but the output does not match: ${EXPECT_REGEX}")
endif()
message(STATUS "failed as expected: exit status ${rc}, output matches ${EXPECT_REGEX}")
