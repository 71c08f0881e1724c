# SPDX-License-Identifier: MIT
# Finds hiredis through pkg-config (Debian's libhiredis-dev 0.14 ships no usable CMake
# package) and provides the imported target hiredis::hiredis.
#   hiredis_FOUND, hiredis_VERSION

include_guard(GLOBAL)
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(hiredis_PC QUIET IMPORTED_TARGET hiredis)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(hiredis
  REQUIRED_VARS hiredis_PC_LINK_LIBRARIES
  VERSION_VAR hiredis_PC_VERSION)

if(hiredis_FOUND AND NOT TARGET hiredis::hiredis)
  add_library(hiredis::hiredis INTERFACE IMPORTED)
  target_link_libraries(hiredis::hiredis INTERFACE PkgConfig::hiredis_PC)
  set(hiredis_VERSION ${hiredis_PC_VERSION})
endif()
