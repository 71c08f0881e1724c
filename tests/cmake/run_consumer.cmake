# SPDX-License-Identifier: MIT
# Configures, builds and runs one consumer project of tests/cmake, from scratch, offline:
#   cmake -DMODE=add_subdirectory|fetch_content_source|fetch_content_git|find_package
#         -DNOTIFY_SOURCE_DIR=... -DWORK_DIR=... -DCTEST_COMMAND=... [-DGENERATOR=... -DCXX_COMPILER=...
#         -DBUILD_TYPE=... -DVERSION=... -DGIT_EXECUTABLE=...] -P run_consumer.cmake
# Everything it writes stays under WORK_DIR, which it empties first.

foreach(var MODE NOTIFY_SOURCE_DIR WORK_DIR CTEST_COMMAND)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()

# Runs a command, echoing it; stops the test with its output when it fails.
function(run)
  string(REPLACE ";" " " shown "${ARGN}")
  message(STATUS "run: ${shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "failed (${status}): ${shown}\n${output}")
  endif()
  set(run_output "${output}" PARENT_SCOPE)
endfunction()

# The arguments every configure step shares: same generator, compiler and build type as
# the enclosing build, so the test checks the toolchain that builds the rest.
set(common_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
if(GENERATOR)
  list(APPEND common_args -G "${GENERATOR}")
endif()
if(MAKE_PROGRAM)
  list(APPEND common_args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(CXX_COMPILER)
  list(APPEND common_args -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(tests_dir "${NOTIFY_SOURCE_DIR}/tests/cmake")

if(MODE STREQUAL "add_subdirectory")
  set(project_dir "${tests_dir}/add_subdirectory")
  set(consumer_args -DNOTIFY_SOURCE_DIR=${NOTIFY_SOURCE_DIR})

elseif(MODE STREQUAL "fetch_content_source")
  set(project_dir "${tests_dir}/fetch_content")
  set(consumer_args -DNOTIFY_SOURCE_DIR=${NOTIFY_SOURCE_DIR})

elseif(MODE STREQUAL "fetch_content_git")
  # A throwaway repository holding the working tree as it is now (uncommitted and untracked
  # files included, ignored ones and build trees left out), cloned through a file:// URL.
  if(NOT GIT_EXECUTABLE)
    find_program(GIT_EXECUTABLE git)
  endif()
  if(NOT GIT_EXECUTABLE)
    message(FATAL_ERROR "git is needed for the file:// FetchContent test")
  endif()
  execute_process(COMMAND "${GIT_EXECUTABLE}" -c core.quotePath=false ls-files -co --exclude-standard
    WORKING_DIRECTORY "${NOTIFY_SOURCE_DIR}" RESULT_VARIABLE status OUTPUT_VARIABLE files ERROR_QUIET)
  if(NOT status EQUAL 0)
    message(STATUS "NOTIFY_TEST_SKIPPED: ${NOTIFY_SOURCE_DIR} is not a git work tree")
    return()
  endif()
  string(REPLACE "\n" ";" files "${files}")
  set(build_trees)
  foreach(file IN LISTS files)
    if(file MATCHES "/CMakeCache\\.txt$")  # a build tree inside the source tree, not ignored
      get_filename_component(tree "${file}" DIRECTORY)
      list(APPEND build_trees "${tree}/")
    endif()
  endforeach()
  set(repo "${WORK_DIR}/repo")
  set(copied 0)
  foreach(file IN LISTS files)
    if(file STREQUAL "" OR NOT EXISTS "${NOTIFY_SOURCE_DIR}/${file}" OR IS_DIRECTORY "${NOTIFY_SOURCE_DIR}/${file}")
      continue()  # deleted in the work tree, or a submodule
    endif()
    set(in_build_tree FALSE)
    foreach(tree IN LISTS build_trees)
      string(FIND "${file}" "${tree}" at)
      if(at EQUAL 0)
        set(in_build_tree TRUE)
      endif()
    endforeach()
    if(in_build_tree)
      continue()
    endif()
    get_filename_component(dir "${repo}/${file}" DIRECTORY)
    file(MAKE_DIRECTORY "${dir}")
    file(COPY_FILE "${NOTIFY_SOURCE_DIR}/${file}" "${repo}/${file}")
    math(EXPR copied "${copied} + 1")
  endforeach()
  if(NOT EXISTS "${repo}/CMakeLists.txt")
    message(FATAL_ERROR "the snapshot of ${NOTIFY_SOURCE_DIR} has no CMakeLists.txt")
  endif()
  message(STATUS "snapshot: ${copied} files in ${repo}")
  set(git "${GIT_EXECUTABLE}" -C "${repo}" -c init.defaultBranch=main -c user.name=notify-tests
      -c user.email=notify-tests@localhost -c commit.gpgsign=false -c core.hooksPath=/dev/null)
  run(${git} init -q)
  run(${git} add -A)
  run(${git} commit -q --no-verify -m "snapshot of the work tree")
  run(${git} rev-parse HEAD)
  string(STRIP "${run_output}" commit)
  set(project_dir "${tests_dir}/fetch_content")
  set(consumer_args -DNOTIFY_GIT_REPOSITORY=file://${repo} -DNOTIFY_GIT_TAG=${commit})

elseif(MODE STREQUAL "find_package" OR MODE STREQUAL "find_package_adapters")
  # A standalone notify build with only the install rules on (and the adapters, for
  # find_package_adapters), installed into a prefix.
  set(prefix "${WORK_DIR}/prefix")
  set(with_adapters OFF)
  if(MODE STREQUAL "find_package_adapters")
    set(with_adapters ON)
  endif()
  run("${CMAKE_COMMAND}" -S "${NOTIFY_SOURCE_DIR}" -B "${WORK_DIR}/notify-build" ${common_args}
      -DNOTIFY_BUILD_TESTS=OFF -DNOTIFY_BUILD_EXAMPLES=OFF -DNOTIFY_BUILD_ADAPTERS=${with_adapters} -DNOTIFY_INSTALL=ON
      -DCMAKE_INSTALL_PREFIX=${prefix})
  run("${CMAKE_COMMAND}" --build "${WORK_DIR}/notify-build" --config ${BUILD_TYPE} --parallel 2)
  run("${CMAKE_COMMAND}" --install "${WORK_DIR}/notify-build" --config ${BUILD_TYPE} --prefix "${prefix}")
  if(NOT EXISTS "${prefix}/include/notify/notify.hpp" OR NOT EXISTS "${prefix}/include/notify/memory/memory.hpp")
    message(FATAL_ERROR "the install did not put the headers under ${prefix}/include")
  endif()
  set(project_dir "${tests_dir}/${MODE}")
  set(consumer_args -DCMAKE_PREFIX_PATH=${prefix} -DNOTIFY_PREFIX=${prefix}
      -DNOTIFY_EXPECTED_VERSION=${VERSION} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)

else()
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()

set(consumer_build "${WORK_DIR}/consumer-build")
run("${CMAKE_COMMAND}" -S "${project_dir}" -B "${consumer_build}" ${common_args} ${consumer_args})
run("${CMAKE_COMMAND}" --build "${consumer_build}" --config ${BUILD_TYPE} --parallel 2)
run("${CTEST_COMMAND}" --test-dir "${consumer_build}" -C ${BUILD_TYPE} --verbose --no-tests=error)
if(NOT run_output MATCHES "notify consumer: ok[^\n]*")
  message(FATAL_ERROR "the consumer did not report success:\n${run_output}")
endif()
message(STATUS "${CMAKE_MATCH_0}")
message(STATUS "${MODE}: the consumer configured, built and ran")
