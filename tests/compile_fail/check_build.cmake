# SPDX-License-Identifier: MIT
# Builds one target and checks the outcome, like try_compile but run by ctest:
#   cmake -DBUILD_DIR=... -DTARGET=... -DCONFIG=... -DEXPECT=success|failure [-DREGEX=...] -P check_build.cmake
# EXPECT=failure passes only when the build fails AND its output matches REGEX, so a file that
# breaks for another reason (a typo, a missing include) does not count as the expected failure.

foreach(var BUILD_DIR TARGET EXPECT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_build.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT EXPECT MATCHES "^(success|failure)$")
  message(FATAL_ERROR "check_build.cmake: EXPECT must be success or failure, not '${EXPECT}'")
endif()
if(EXPECT STREQUAL "failure" AND "${REGEX}" STREQUAL "")
  message(FATAL_ERROR "check_build.cmake: EXPECT=failure needs the REGEX the diagnostic must match")
endif()

set(config_args)
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
execute_process(
  COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target "${TARGET}" ${config_args}
  RESULT_VARIABLE status
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)

if(EXPECT STREQUAL "success")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${TARGET} was expected to compile but did not (${status}):\n${output}")
  endif()
  message(STATUS "${TARGET} compiles, as expected")
  return()
endif()

if(status EQUAL 0)
  message(FATAL_ERROR "${TARGET} was expected NOT to compile, but it built:\n${output}")
endif()
if(NOT output MATCHES "${REGEX}")
  message(FATAL_ERROR "${TARGET} failed to compile, but not with a diagnostic matching '${REGEX}':\n${output}")
endif()
message(STATUS "${TARGET} does not compile, as expected; the diagnostic matches '${REGEX}'")
