# cmake -DEXPECT=<code> -DCMD="<program>;<arg>;..." -P expect_exit.cmake: runs CMD and fails unless it exits
# with EXPECT (ctest itself only tells zero from non-zero).
execute_process(COMMAND ${CMD} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc STREQUAL EXPECT)
  message(FATAL_ERROR "expected exit ${EXPECT}, got ${rc}\nstdout:\n${out}\nstderr:\n${err}")
endif()
