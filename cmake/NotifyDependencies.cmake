# SPDX-License-Identifier: MIT
# Finding dependencies: a missing one stops configure with the Debian package to install.

include_guard(GLOBAL)

# notify_require_package(<cmake package> <min version> <debian package>)
macro(notify_require_package name version debian)
  find_package(${name} ${version} CONFIG QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR "notify needs ${name} >= ${version}. On Debian: apt-get install ${debian} "
                        "(or run cmake/install-deps.sh).")
  endif()
endmacro()
