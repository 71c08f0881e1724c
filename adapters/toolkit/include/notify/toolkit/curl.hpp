// SPDX-License-Identifier: MIT
// Private to the adapters' src/ files: libcurl, loaded with dlopen when first used, so a
// process that never makes a curl transport does not map libcurl and the ~27 libraries
// it needs (TLS, Kerberos, LDAP, SSH...). <curl/curl.h> is included for its types and
// constants only; every call goes through a Curl table.
#pragma once

#include <dlfcn.h>

#include <curl/curl.h>

#include <cstring>
#include <string>

#include "notify/result.hpp"

static_assert(LIBCURL_VERSION_NUM >= 0x075400, "notify's adapters need the headers of libcurl 7.84 or later");

namespace notify::toolkit {

/// The shared library loaded by libcurl(): libcurl's ABI 4, every release since 7.16.
inline constexpr const char* curl_soname = "libcurl.so.4";

/// The oldest libcurl accepted at run time (CURLOPT_PROTOCOLS_STR, curl_easy_header).
inline constexpr unsigned curl_min_version = 0x075400;  // 7.84.0

/// The libcurl functions the adapters call, each of exactly its declared type (the
/// variadic easy_setopt and easy_getinfo included), resolved from the loaded library.
struct Curl {
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_version_info) version_info = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_reset) easy_reset = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_easy_header) easy_header = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
  decltype(&::curl_multi_init) multi_init = nullptr;
  decltype(&::curl_multi_cleanup) multi_cleanup = nullptr;
  decltype(&::curl_multi_setopt) multi_setopt = nullptr;
  decltype(&::curl_multi_add_handle) multi_add_handle = nullptr;
  decltype(&::curl_multi_remove_handle) multi_remove_handle = nullptr;
  decltype(&::curl_multi_socket_action) multi_socket_action = nullptr;
  decltype(&::curl_multi_info_read) multi_info_read = nullptr;
  decltype(&::curl_multi_assign) multi_assign = nullptr;
  const char* version = "";  ///< the loaded library's version, e.g. "7.88.1"
  unsigned version_num = 0;  ///< the same as 0xXXYYZZ
};

/// Loads `soname`, resolves every function, checks the version and runs curl_global_init.
/// Not cached: each call opens the library again (reference-counted by the dynamic loader,
/// never closed on success). Adapters call libcurl(); this is for it and for tests.
inline Result<Curl> load_libcurl(const char* soname) {
  const auto fail = [soname](std::string what) {
    return Error{Errc::configuration, std::string(soname) + ": " + std::move(what), {}};
  };
  void* lib = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = ::dlerror();
    return fail(std::string("cannot load libcurl (") + (why ? why : "dlopen failed") +
                "); install libcurl 7.84 or later (Debian: libcurl4)");
  }
  Curl c;
  std::string missing;
  const auto resolve = [&](auto& fn, const char* name) {
    if (!missing.empty()) return;
    ::dlerror();
    void* sym = ::dlsym(lib, name);
    if (!sym) {
      const char* why = ::dlerror();
      missing = std::string("no ") + name + " (" + (why ? why : "dlsym failed") + ")";
      return;
    }
    static_assert(sizeof fn == sizeof sym);
    std::memcpy(&fn, &sym, sizeof fn);  // object pointer to function pointer, as POSIX allows
  };
  resolve(c.global_init, "curl_global_init");
  resolve(c.version_info, "curl_version_info");
  resolve(c.easy_init, "curl_easy_init");
  resolve(c.easy_cleanup, "curl_easy_cleanup");
  resolve(c.easy_reset, "curl_easy_reset");
  resolve(c.easy_perform, "curl_easy_perform");
  resolve(c.easy_setopt, "curl_easy_setopt");
  resolve(c.easy_getinfo, "curl_easy_getinfo");
  resolve(c.easy_strerror, "curl_easy_strerror");
  resolve(c.easy_header, "curl_easy_header");
  resolve(c.slist_append, "curl_slist_append");
  resolve(c.slist_free_all, "curl_slist_free_all");
  resolve(c.multi_init, "curl_multi_init");
  resolve(c.multi_cleanup, "curl_multi_cleanup");
  resolve(c.multi_setopt, "curl_multi_setopt");
  resolve(c.multi_add_handle, "curl_multi_add_handle");
  resolve(c.multi_remove_handle, "curl_multi_remove_handle");
  resolve(c.multi_socket_action, "curl_multi_socket_action");
  resolve(c.multi_info_read, "curl_multi_info_read");
  resolve(c.multi_assign, "curl_multi_assign");
  if (!missing.empty()) {
    ::dlclose(lib);
    return fail(missing);
  }
  const curl_version_info_data* info = c.version_info(CURLVERSION_NOW);
  if (!info || info->version_num < curl_min_version) {
    std::string found = info && info->version ? info->version : "unknown";
    ::dlclose(lib);
    return fail("libcurl " + found + " is too old; 7.84.0 or later is needed");
  }
  c.version = info->version ? info->version : "";
  c.version_num = info->version_num;
  if (const CURLcode rc = c.global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
    return fail(std::string("curl_global_init failed: ") + c.easy_strerror(rc));  // kept open: init may be partial
  return c;
}

/// The process's libcurl, loaded and initialised on the first call (thread-safe); every
/// later call returns the first call's outcome. An error is Errc::configuration and names
/// the library and the loader's reason.
inline const Result<Curl>& libcurl() {
  // A function-local static is initialised exactly once, even across threads, and is
  // shared by every adapter in the process (inline function: one definition).
  static const Result<Curl> loaded = load_libcurl(curl_soname);
  return loaded;
}

}  // namespace notify::toolkit
