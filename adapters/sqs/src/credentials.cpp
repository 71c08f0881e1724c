// SPDX-License-Identifier: MIT
#include "notify/sqs/credentials.hpp"

#include <curl/curl.h>
#include <openssl/crypto.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <tuple>
#include <utility>

#include "notify/json.hpp"
#include "notify/toolkit/curl.hpp"
#include "notify/toolkit/secure.hpp"

namespace notify::sqs {
namespace {

using Clock = std::chrono::system_clock;

constexpr std::string_view env_access_key = "AWS_ACCESS_KEY_ID";
constexpr std::string_view env_secret_key = "AWS_SECRET_ACCESS_KEY";
constexpr std::string_view env_session_token = "AWS_SESSION_TOKEN";
constexpr std::string_view env_relative_uri = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
constexpr std::string_view env_full_uri = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
constexpr std::string_view env_auth_token = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
constexpr std::string_view env_auth_token_file = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
constexpr std::string_view ecs_endpoint = "http://169.254.170.2";
/// Larger answers are not credentials.
constexpr std::size_t max_answer_bytes = 64 * 1024;

using toolkit::wipe;

Error config_error(std::string message) { return {Errc::configuration, std::move(message), {}}; }

/// An unset or empty variable is absent.
std::optional<std::string> lookup(const EnvLookup& getenv, std::string_view name) {
  auto v = getenv(name);
  if (v && v->empty()) v.reset();
  return v;
}

/// The URL without its query or fragment: safe to print.
std::string printable(std::string_view url) { return std::string(url.substr(0, url.find_first_of("?#"))); }

/// The host of an absolute URL, brackets kept for IPv6; empty when there is none.
std::string_view url_host(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.starts_with('[')) return authority.substr(0, authority.find(']') + 1);
  return authority.substr(0, authority.find(':'));
}

/// The SDKs send the authorization token over plain HTTP only to loopback and the ECS/EKS
/// link-local endpoints; any other host needs HTTPS.
bool allowed_full_uri(std::string_view url) {
  if (url.starts_with("https://")) return !url_host(url).empty();
  if (!url.starts_with("http://")) return false;
  const std::string_view host = url_host(url);
  return host == "localhost" || host.starts_with("127.") || host == "[::1]" || host == "169.254.170.2" ||
         host == "169.254.170.23" || host == "[fd00:ec2::23]";
}


size_t collect(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const size_t n = size * count;
  if (body->size() + n > max_answer_bytes) return 0;  // CURLE_WRITE_ERROR
  body->append(data, n);
  return n;
}

Errc errc_of(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return Errc::timeout;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT: return Errc::unavailable;
    case CURLE_WRITE_ERROR: return Errc::protocol_error;  // the answer is too large
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM: return Errc::configuration;
    default: return Errc::io_error;  // reset, closed early, nothing received, ...
  }
}

Errc errc_of_status(long status) {
  if (status == 429) return Errc::rate_limited;
  if (status >= 500) return Errc::unavailable;
  if (status == 401 || status == 403) return Errc::unauthenticated;
  return Errc::configuration;
}

/// Strips the trailing line end a token file usually has.
void trim_line_end(std::string& s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
}

}  // namespace

std::optional<Clock::time_point> parse_iso8601(std::string_view t) {
  using namespace std::chrono;
  auto digits = [&](std::size_t pos, std::size_t n, int& out) {
    if (pos + n > t.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      out = out * 10 + (t[i] - '0');
    }
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!digits(0, 4, y) || t.size() < 20 || t[4] != '-' || !digits(5, 2, mo) || t[7] != '-' || !digits(8, 2, d) ||
      (t[10] != 'T' && t[10] != 't') || !digits(11, 2, h) || t[13] != ':' || !digits(14, 2, mi) || t[16] != ':' ||
      !digits(17, 2, s))
    return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::size_t pos = 19;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    const std::size_t first = pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') ++pos;
    if (pos == first) return std::nullopt;
  }
  auto tp = sys_days(ymd) + hours(h) + minutes(mi) + seconds(s);
  const std::string_view zone = t.substr(pos);
  if (zone == "Z" || zone == "z") return time_point_cast<Clock::duration>(tp);
  int oh = 0, om = 0;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || !digits(pos + 1, 2, oh) || zone[3] != ':' ||
      !digits(pos + 4, 2, om) || oh > 23 || om > 59)
    return std::nullopt;
  const auto offset = hours(oh) + minutes(om);
  tp = zone[0] == '+' ? tp - offset : tp + offset;
  return time_point_cast<Clock::duration>(tp);
}

Result<Credentials> parse_container_credentials(std::string_view json) {
  auto bad = [](std::string what) { return Error{Errc::protocol_error, "container credentials: " + what, {}}; };
  const auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded()) return bad("the answer is not valid JSON");
  if (!j.is_object()) return bad("the answer is not a JSON object");
  Credentials c;
  auto read = [&](const char* name, std::string& into, bool required) -> std::optional<Error> {
    const auto it = j.find(name);
    if (it == j.end() || it->is_null()) {
      if (required) return bad(std::string(name) + " is missing");
      return std::nullopt;
    }
    if (!it->is_string()) return bad(std::string(name) + " is not a string");
    into = it->get_ref<const std::string&>();
    if (required && into.empty()) return bad(std::string(name) + " is empty");
    return std::nullopt;
  };
  std::string expiration;
  for (auto [name, into, required] : {std::tuple{"AccessKeyId", &c.access_key_id, true},
                                      std::tuple{"SecretAccessKey", &c.secret_access_key, true},
                                      std::tuple{"Token", &c.session_token, false},
                                      std::tuple{"Expiration", &expiration, false}}) {
    if (auto e = read(name, *into, required)) {
      wipe(c.secret_access_key);
      wipe(c.session_token);
      return *e;
    }
  }
  if (!expiration.empty()) {
    const auto tp = parse_iso8601(expiration);
    if (!tp) {
      wipe(c.secret_access_key);
      wipe(c.session_token);
      return bad("Expiration is not an ISO 8601 time");
    }
    c.expires = *tp;
  }
  return c;
}

struct CredentialProvider::State {
  std::string_view source;
  CredentialOptions options;
  std::string url;         // container endpoint
  std::string auth_token;  // a secret
  std::string auth_token_file;
  std::mutex mutex;
  std::optional<Credentials> cached;

  ~State() {
    wipe(auth_token);
    if (cached) {
      wipe(cached->secret_access_key);
      wipe(cached->session_token);
    }
  }

  Result<Credentials> fetch();
};

Result<Credentials> CredentialProvider::State::fetch() {
  std::string token;
  if (!auth_token_file.empty()) {
    std::ifstream in(auth_token_file, std::ios::binary);
    if (!in)
      return config_error("container credentials: cannot read " + std::string(env_auth_token_file) + " (" +
                          auth_token_file + ")");
    token.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    trim_line_end(token);
  } else {
    token = auth_token;
  }
  if (token.find_first_of("\r\n") != std::string::npos) {
    wipe(token);
    return config_error("container credentials: the authorization token contains a line break");
  }

  const Result<toolkit::Curl>& loaded = toolkit::libcurl();
  if (!loaded) {
    wipe(token);
    return Error{loaded.error().code, "container credentials: " + loaded.error().message, {}};  // configuration
  }
  const toolkit::Curl& lib = *loaded;
  CURL* easy = lib.easy_init();
  if (!easy) {
    wipe(token);
    return Error{Errc::io_error, "container credentials: cannot create a curl handle", {}};
  }
  curl_slist* headers = lib.slist_append(nullptr, "Accept: application/json");
  std::string auth_line;
  if (!token.empty()) {
    auth_line = "Authorization: " + token;
    headers = lib.slist_append(headers, auth_line.c_str());
  }
  std::string body;
  lib.easy_setopt(easy, CURLOPT_URL, url.c_str());
  lib.easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  lib.easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  lib.easy_setopt(easy, CURLOPT_NOPROXY, "*");  // link-local and loopback endpoints
  lib.easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  lib.easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  lib.easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
  lib.easy_setopt(easy, CURLOPT_WRITEDATA, &body);
  const CURLcode rc = lib.easy_perform(easy);
  long status = 0;
  lib.easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  lib.easy_cleanup(easy);
  lib.slist_free_all(headers);  // the list's copy of the token is freed unwiped: libcurl owns it
  wipe(auth_line);
  wipe(token);

  const std::string where = "container credentials (" + printable(url) + "): ";
  if (rc != CURLE_OK) {
    wipe(body);
    return Error{errc_of(rc), where + lib.easy_strerror(rc), {}};
  }
  if (status != 200) {
    wipe(body);  // an error body is never echoed: it might quote what was sent
    return Error{errc_of_status(status), where + "HTTP " + std::to_string(status), {}};
  }
  auto creds = parse_container_credentials(body);
  wipe(body);
  if (!creds) return Error{creds.error().code, where + creds.error().message, {}};
  return creds;
}

CredentialProvider::CredentialProvider(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
CredentialProvider::CredentialProvider(CredentialProvider&&) noexcept = default;
CredentialProvider& CredentialProvider::operator=(CredentialProvider&&) noexcept = default;
CredentialProvider::~CredentialProvider() = default;

Result<CredentialProvider> CredentialProvider::from_environment() {
  return from_environment([](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  });
}

Result<CredentialProvider> CredentialProvider::from_environment(const EnvLookup& getenv, CredentialOptions options) {
  auto state = std::make_unique<State>();
  state->options = options;
  auto id = lookup(getenv, env_access_key);
  auto secret = lookup(getenv, env_secret_key);
  if (id && secret) {
    state->source = "environment";
    Credentials c{std::move(*id), std::move(*secret), lookup(getenv, env_session_token).value_or(""), {}};
    state->cached = std::move(c);
    return CredentialProvider(std::move(state));
  }
  if (id || secret) {
    if (secret) wipe(*secret);
    return config_error(std::string(id ? env_access_key : env_secret_key) + " is set but " +
                        std::string(id ? env_secret_key : env_access_key) + " is not");
  }

  if (auto relative = lookup(getenv, env_relative_uri)) {
    state->url = std::string(ecs_endpoint) + (relative->starts_with('/') ? "" : "/") + *relative;
  } else if (auto full = lookup(getenv, env_full_uri)) {
    if (!allowed_full_uri(*full))
      return config_error(std::string(env_full_uri) + " (" + printable(*full) +
                          ") must be https, or http to a loopback address or 169.254.170.2 / 169.254.170.23");
    state->url = std::move(*full);
  } else {
    return config_error("no AWS credentials: set " + std::string(env_access_key) + " and " +
                        std::string(env_secret_key) + " (and " + std::string(env_session_token) +
                        " for temporary credentials), or " + std::string(env_relative_uri) + " or " +
                        std::string(env_full_uri) + " for the container credentials endpoint");
  }
  state->source = "container";
  if (auto file = lookup(getenv, env_auth_token_file)) state->auth_token_file = std::move(*file);
  else if (auto token = lookup(getenv, env_auth_token)) state->auth_token = std::move(*token);
  return CredentialProvider(std::move(state));
}

CredentialProvider CredentialProvider::fixed(Credentials creds) {
  auto state = std::make_unique<State>();
  state->source = "fixed";
  state->cached = std::move(creds);
  return CredentialProvider(std::move(state));
}

Result<Credentials> CredentialProvider::get() {
  std::lock_guard lock(state_->mutex);
  State& s = *state_;
  if (s.source != "container") return *s.cached;
  const auto now = Clock::now();
  const Clock::time_point never{};
  if (s.cached && (s.cached->expires == never || now < s.cached->expires - s.options.refresh_before))
    return *s.cached;
  auto fresh = s.fetch();
  if (fresh) {
    if (s.cached) {
      wipe(s.cached->secret_access_key);
      wipe(s.cached->session_token);
    }
    s.cached = *fresh;
    return fresh;
  }
  // A failed early refresh: the cached credentials are still good for a while.
  if (s.cached && now < s.cached->expires) return *s.cached;
  return fresh.error();
}

std::string_view CredentialProvider::source() const noexcept { return state_->source; }

}  // namespace notify::sqs
