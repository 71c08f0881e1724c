# SPDX-License-Identifier: MIT
# cmake -DNM=<nm> -DLIBRARIES=<a.a>|<b.a>|... -P no_direct_curl.cmake
# Fails when a static library references a libcurl function itself: the adapters call
# libcurl through notify/toolkit/curl.hpp's table, so that a process maps libcurl only
# once a curl transport is used.
string(REPLACE "|" ";" libraries "${LIBRARIES}")
foreach(library IN LISTS libraries)
  execute_process(COMMAND "${NM}" -u "${library}" OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} -u ${library} failed (${rc})")
  endif()
  string(REGEX MATCHALL "U curl_[a-z_]+" direct "${symbols}")
  if(direct)
    list(REMOVE_DUPLICATES direct)
    list(TRANSFORM direct REPLACE "^U " "")
    message(FATAL_ERROR "${library} calls libcurl directly (${direct}): call it through notify::toolkit::libcurl()")
  endif()
endforeach()
message(STATUS "no direct libcurl call in ${LIBRARIES}")
