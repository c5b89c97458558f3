# cmake/TsanTbb.cmake: what a ThreadSanitizer build needs from its surroundings. Included
# where TSan targets are defined (stress/), only when THREADBENCH_SANITIZER is "thread".
#
#   * An instrumented oneTBB. Debian's libtbb is not: TSan cannot see its synchronisation
#     and reports false races in plain task_group / concurrent_bounded_queue code. The
#     library behind TBB::tbb must carry TSan's instrumentation (__tsan_func_entry), or
#     configuring fails and says how to build one (scripts/build_tsan_tbb.sh).
#   * A TSan runtime that starts on this kernel. Some kernels map memory where GCC 12's TSan
#     runtime does not expect it (high ASLR entropy) and every TSan binary dies with "FATAL:
#     ThreadSanitizer: unexpected memory mapping". A probe (tsan_probe.cpp) is compiled
#     and run once; if it hits that and `setarch -R` (ASLR off for that process) cures it,
#     TSan programs run through setarch. The configure log says which.
#
# Sets, in the including scope:
#   THREADBENCH_TSAN_TBB_LIBDIR  the (real) directory of the instrumented libtbb, which
#                                cmake/check_tbb_linkage.cmake expects binaries to load
#   THREADBENCH_TSAN_LAUNCHER    the command prefix for TSan programs: empty, or setarch
if(NOT THREADBENCH_SANITIZER STREQUAL "thread")
  message(FATAL_ERROR "cmake/TsanTbb.cmake is for THREADBENCH_SANITIZER=thread builds only")
endif()

# ---- the library behind TBB::tbb must be TSan-instrumented -------------------------------
set(tb_tbb_lib "")
get_target_property(tb_tbb_cfgs TBB::tbb IMPORTED_CONFIGURATIONS)
foreach(cfg IN LISTS tb_tbb_cfgs)
  get_target_property(tb_loc TBB::tbb IMPORTED_LOCATION_${cfg})
  if(tb_loc)
    set(tb_tbb_lib ${tb_loc})
    break()
  endif()
endforeach()
if(NOT tb_tbb_lib)
  get_target_property(tb_tbb_lib TBB::tbb IMPORTED_LOCATION)
endif()
set(tb_tsan_tbb_hint "run scripts/build_tsan_tbb.sh, then configure with the tsan preset \
(TBB_DIR=${PROJECT_SOURCE_DIR}/build/tbb-tsan/install/lib/cmake/TBB)")
if(NOT tb_tbb_lib OR NOT EXISTS "${tb_tbb_lib}")
  message(FATAL_ERROR "THREADBENCH_SANITIZER=thread: cannot find the library behind TBB::tbb "
                      "(TBB_DIR=${TBB_DIR}); ${tb_tsan_tbb_hint}")
endif()
file(STRINGS "${tb_tbb_lib}" tb_tsan_symbol REGEX "__tsan_func_entry" LIMIT_COUNT 1)
if(NOT tb_tsan_symbol)
  message(FATAL_ERROR "THREADBENCH_SANITIZER=thread, but the TBB found (${tb_tbb_lib}) is "
                      "not TSan-instrumented, so TSan would report false races inside TBB; "
                      "${tb_tsan_tbb_hint}")
endif()
get_filename_component(THREADBENCH_TSAN_TBB_LIBDIR "${tb_tbb_lib}" DIRECTORY)
get_filename_component(THREADBENCH_TSAN_TBB_LIBDIR "${THREADBENCH_TSAN_TBB_LIBDIR}" REALPATH)
message(STATUS "stress: TSan-instrumented TBB: ${tb_tbb_lib}")

# ---- does the TSan runtime start on this kernel? -----------------------------------------
set(THREADBENCH_TSAN_LAUNCHER "")
try_compile(tb_probe_ok ${CMAKE_CURRENT_BINARY_DIR}/tsan_probe
            SOURCES ${CMAKE_CURRENT_LIST_DIR}/tsan_probe.cpp
            CMAKE_FLAGS "-DCMAKE_CXX_FLAGS=${CMAKE_CXX_FLAGS}"
                        "-DCMAKE_EXE_LINKER_FLAGS=${CMAKE_EXE_LINKER_FLAGS}"
            CXX_STANDARD 20
            COPY_FILE ${CMAKE_CURRENT_BINARY_DIR}/tsan_probe_bin)
if(tb_probe_ok)
  execute_process(COMMAND ${CMAKE_CURRENT_BINARY_DIR}/tsan_probe_bin
                  RESULT_VARIABLE tb_probe_rc OUTPUT_VARIABLE tb_probe_out
                  ERROR_VARIABLE tb_probe_out TIMEOUT 60)
  if(tb_probe_out MATCHES "unexpected memory mapping")
    execute_process(COMMAND uname -m OUTPUT_VARIABLE tb_arch OUTPUT_STRIP_TRAILING_WHITESPACE)
    execute_process(COMMAND setarch ${tb_arch} -R ${CMAKE_CURRENT_BINARY_DIR}/tsan_probe_bin
                    RESULT_VARIABLE tb_probe_rc2 OUTPUT_QUIET ERROR_QUIET TIMEOUT 60)
    if(tb_probe_rc2 EQUAL 0)
      set(THREADBENCH_TSAN_LAUNCHER setarch ${tb_arch} -R)
      message(STATUS "stress: TSan hits 'unexpected memory mapping' on this kernel; "
                     "tests run through 'setarch ${tb_arch} -R' (ASLR off)")
    else()
      message(WARNING "stress: TSan binaries die with 'unexpected memory mapping' even under "
                      "setarch -R; lower vm.mmap_rnd_bits (sysctl vm.mmap_rnd_bits=28)")
    endif()
  elseif(NOT tb_probe_rc EQUAL 0)
    message(WARNING "stress: the TSan probe failed (exit ${tb_probe_rc}): ${tb_probe_out}")
  else()
    message(STATUS "stress: TSan runtime works on this kernel (no setarch needed)")
  endif()
endif()
