// SPDX-License-Identifier: MIT
#pragma once

/// One blocking HTTP request with libcurl, for the test helpers that talk to the
/// emulators' control endpoints: returns the answer body whatever its status, throws on a
/// transport error.

#include <curl/curl.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace notify::test {

struct HttpCall {
  std::string method = "GET";  ///< GET or POST
  std::string body;
  std::vector<std::string> headers;
  long http_version = CURL_HTTP_VERSION_NONE;
  std::string ca_file;  ///< trusted instead of the system's CAs when set
  long* status = nullptr;  ///< where the answer's HTTP status goes, when set
};

inline std::string http_call(const std::string& url, const HttpCall& call) {
  CURL* e = curl_easy_init();
  if (!e) throw std::runtime_error("curl_easy_init failed");
  curl_slist* list = nullptr;
  for (const std::string& h : call.headers) list = curl_slist_append(list, h.c_str());
  if (list) curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
  std::string out;
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, call.http_version);
  curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);  // a test fails rather than hangs on a stuck service
  if (std::getenv("NOTIFY_CURL_VERBOSE")) curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);  // traces to stderr
  if (!call.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, call.ca_file.c_str());
  if (call.method == "POST") {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(call.body.size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, call.body.c_str());
  }
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, +[](char* p, std::size_t s, std::size_t n, void* u) {
    static_cast<std::string*>(u)->append(p, s * n);
    return s * n;
  });
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &out);
  const CURLcode rc = curl_easy_perform(e);
  if (call.status) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, call.status);
  curl_easy_cleanup(e);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) throw std::runtime_error(call.method + " " + url + ": " + curl_easy_strerror(rc));
  return out;
}

}  // namespace notify::test
