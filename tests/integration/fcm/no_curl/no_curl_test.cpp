// SPDX-License-Identifier: MIT
// With the nghttp2 client, notify::fcm::PushProvider never calls libcurl: not to create,
// connect, fetch or renew the access token, send, nor to be destroyed.
//
// A program of its own that does not link libcurl itself (the other FCM tests use it for
// the emulator's control calls; this one only starts the emulator). Two checks:
//  - libcurl's entry points are defined here too. The provider (a static library linked
//    into this program) then calls these instead of libcurl's: they count, then forward
//    to libcurl (dlsym RTLD_NEXT). Every use of libcurl starts with one of them (a handle
//    comes from curl_easy_init / curl_multi_init, a header list from curl_slist_append),
//    so a curl call put back on the nghttp2 path makes the count non-zero.
//  - /proc/self/maps: notify::fcm loads libcurl only when the curl client is chosen
//    (notify/toolkit/curl.hpp), so it must still be unmapped after the pushes.
// A last case shows the counting works: the curl client does call libcurl.
#include <curl/curl.h>
#include <dlfcn.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>

#include "../common.hpp"  // the emulator (started only: its control calls would use libcurl)

namespace {

std::atomic<int> curl_calls{0};

template <class F>
F real(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

bool libcurl_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find("/libcurl") != std::string::npos) return true;
  return false;
}

}  // namespace

// The counting stand-ins (libcurl's own names and signatures).
extern "C" {
CURLcode curl_global_init(long flags) {
  ++curl_calls;
  static const auto f = real<CURLcode (*)(long)>("curl_global_init");
  return f ? f(flags) : CURLE_FAILED_INIT;
}
curl_version_info_data* curl_version_info(CURLversion v) {
  ++curl_calls;
  static const auto f = real<curl_version_info_data* (*)(CURLversion)>("curl_version_info");
  return f ? f(v) : nullptr;
}
CURL* curl_easy_init() {
  ++curl_calls;
  static const auto f = real<CURL* (*)()>("curl_easy_init");
  return f ? f() : nullptr;
}
void curl_easy_cleanup(CURL* e) {
  ++curl_calls;
  static const auto f = real<void (*)(CURL*)>("curl_easy_cleanup");
  if (f) f(e);
}
CURLM* curl_multi_init() {
  ++curl_calls;
  static const auto f = real<CURLM* (*)()>("curl_multi_init");
  return f ? f() : nullptr;
}
CURLMcode curl_multi_cleanup(CURLM* m) {
  ++curl_calls;
  static const auto f = real<CURLMcode (*)(CURLM*)>("curl_multi_cleanup");
  return f ? f(m) : CURLM_BAD_HANDLE;
}
CURLMcode curl_multi_add_handle(CURLM* m, CURL* e) {
  ++curl_calls;
  static const auto f = real<CURLMcode (*)(CURLM*, CURL*)>("curl_multi_add_handle");
  return f ? f(m, e) : CURLM_BAD_HANDLE;
}
CURLMcode curl_multi_remove_handle(CURLM* m, CURL* e) {
  ++curl_calls;
  static const auto f = real<CURLMcode (*)(CURLM*, CURL*)>("curl_multi_remove_handle");
  return f ? f(m, e) : CURLM_BAD_HANDLE;
}
CURLMcode curl_multi_socket_action(CURLM* m, curl_socket_t s, int mask, int* running) {
  ++curl_calls;
  static const auto f = real<CURLMcode (*)(CURLM*, curl_socket_t, int, int*)>("curl_multi_socket_action");
  return f ? f(m, s, mask, running) : CURLM_BAD_HANDLE;
}
CURLMsg* curl_multi_info_read(CURLM* m, int* left) {
  ++curl_calls;
  static const auto f = real<CURLMsg* (*)(CURLM*, int*)>("curl_multi_info_read");
  return f ? f(m, left) : nullptr;
}
curl_slist* curl_slist_append(curl_slist* list, const char* s) {
  ++curl_calls;
  static const auto f = real<curl_slist* (*)(curl_slist*, const char*)>("curl_slist_append");
  return f ? f(list, s) : nullptr;
}
void curl_slist_free_all(curl_slist* list) {
  ++curl_calls;
  static const auto f = real<void (*)(curl_slist*)>("curl_slist_free_all");
  if (f) f(list);
}
}

using notify::test::EmulatorOptions;
using notify::test::FcmEmulator;
using namespace std::chrono_literals;

namespace {

notify::fcm::PushProvider provider_for(const FcmEmulator& emu, notify::fcm::HttpClient client) {
  auto sa = notify::fcm::read_service_account(emu.service_account_file());
  REQUIRE(sa.has_value());
  notify::fcm::Options o;
  o.transport = client;
  o.endpoint = emu.url();
  if (emu.options().tls) o.ca_file = emu.ca_file();
  o.connections = 1;
  auto p = notify::fcm::PushProvider::create(std::move(*sa), std::move(o));
  REQUIRE_MESSAGE(p.has_value(), (p.has_value() ? "" : p.error().message));
  return std::move(*p);
}

/// Sends one push to each of `n` tokens; how many came back sent with a message name.
std::size_t sent(notify::fcm::PushProvider& provider, std::size_t n) {
  const auto toks = fcmtest::tokens("tok-", n);
  const std::vector<notify::Message> messages{fcmtest::message_to(fcmtest::views(toks))};
  std::size_t ok = 0;
  for (const auto& r : provider.send(fcmtest::pushes_of(messages)))
    ok += r.status == notify::PushStatus::sent && r.detail.find("/messages/") != std::string::npos;
  return ok;
}

void check_without_curl(EmulatorOptions options) {
  FcmEmulator emu(options);  // the emulator's expires_in = 2: the token is renewed after 1 s
  const bool mapped_before = libcurl_mapped();
  const int before = curl_calls;
  {
    auto provider = provider_for(emu, notify::fcm::HttpClient::nghttp2);
    REQUIRE(provider.connect().has_value());
    CHECK(sent(provider, 10) == 10);
    std::this_thread::sleep_for(1200ms);
    for (int i = 0; i < 200 && provider.stats().token_requests < 2; ++i) {
      CHECK(sent(provider, 1) == 1);
      std::this_thread::sleep_for(10ms);
    }
    CHECK(provider.stats().token_requests == 2);  // obtained, then renewed
    CHECK(sent(provider, 5) == 5);
  }  // destroyed
  CHECK(curl_calls - before == 0);
  if (mapped_before) MESSAGE("libcurl is linked into this program: only the call count says something");
  else CHECK_FALSE(libcurl_mapped());
}

}  // namespace

TEST_CASE("the nghttp2 client fetches and renews the access token and pushes without calling libcurl (cleartext)") {
  check_without_curl(EmulatorOptions{.expires_in = 2});
}

TEST_CASE("the nghttp2 client fetches and renews the access token and pushes without calling libcurl (TLS)") {
  check_without_curl(EmulatorOptions{.tls = true, .expires_in = 2});
}

TEST_CASE("the curl client does call libcurl: the counting above would see a call") {
  FcmEmulator emu;
  const int before = curl_calls;
  {
    auto provider = provider_for(emu, notify::fcm::HttpClient::curl);
    REQUIRE(provider.connect().has_value());
    CHECK(sent(provider, 3) == 3);
  }
  // Where libcurl is loaded lazily its functions may be reached through pointers instead;
  // then it is mapped now.
  CHECK((curl_calls - before > 0 || libcurl_mapped()));
}
