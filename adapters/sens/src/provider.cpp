// SPDX-License-Identifier: MIT
#include "notify/sens/provider.hpp"

#include <curl/curl.h>

#include <cstdlib>
#include <fstream>
#include <utility>

#include "notify/plan.hpp"
#include "notify/schema.hpp"
#include "notify/toolkit/ascii.hpp"
#include "notify/toolkit/curl.hpp"
#include "notify/toolkit/secure.hpp"

namespace notify::sens {
namespace {

Error config_error(std::string message) { return Error{Errc::configuration, std::move(message), {}}; }

/// One answer, owned (classify() reads it through a Reply).
struct Exchange {
  bool transport_ok = true;
  bool configuration = false;
  int status = 0;
  std::string body;
  std::string retry_after;
  std::string error;

  Reply reply() const { return Reply{transport_ok, configuration, status, body, retry_after, error}; }
};

/// curl failures that retrying will not cure: our URL, TLS setup or CA file.
bool is_configuration(CURLcode rc) noexcept {
  switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND: return true;
    default: return false;
  }
}

struct Group {
  PushService service;
  const Message* message;
  bool sms_fallback;  ///< AlimTalk: SMS/LMS failover allowed for these recipients
  std::vector<std::size_t> index;   ///< the pushes, in order
  std::vector<std::string> numbers; ///< their domestic numbers
};

}  // namespace

Result<std::map<std::string, std::string, std::less<>>> parse_templates(std::string_view list) {
  std::map<std::string, std::string, std::less<>> out;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view entry = toolkit::trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (entry.empty()) continue;
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos)
      return Error{Errc::invalid_value, "AlimTalk templates: expected TYPE=CODE, got \"" + std::string(entry) + "\"", {}};
    const std::string_view type = toolkit::trim(entry.substr(0, eq));
    const std::string_view code = toolkit::trim(entry.substr(eq + 1));
    if (!parse_type(type))
      return Error{Errc::invalid_value, "AlimTalk templates: unknown notification type \"" + std::string(type) + "\"", {}};
    if (code.empty())
      return Error{Errc::invalid_value, "AlimTalk templates: empty code for " + std::string(type), {}};
    out[std::string(type)] = std::string(code);
  }
  return out;
}

class Provider::Impl {
 public:
  explicit Impl(Options options) : opt_(std::move(options)) {
    secret_ = std::move(opt_.secret_key);
    toolkit::wipe(opt_.secret_key);
  }
  ~Impl() {
    toolkit::wipe(secret_);
    if (curl_) lib_->easy_cleanup(curl_);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  std::vector<PushResult> send(std::span<const Push> pushes) {
    std::vector<PushResult> results(pushes.size());
    std::vector<Group> groups;
    for (std::size_t i = 0; i < pushes.size(); ++i) {
      const Push& p = pushes[i];
      if (!p.message || p.token.empty()) {
        results[i] = {PushStatus::sent, {}, "skipped: no token"};
        continue;
      }
      if (p.service != PushService::sms && p.service != PushService::alimtalk) {
        results[i] = {PushStatus::failed, {}, "SENS sends sms and alimtalk only, not " + std::string(to_string(p.service))};
        continue;
      }
      auto number = domestic_number(p.token);
      if (!number) {
        results[i].status = number.error().code == Errc::invalid_token ? PushStatus::invalid_token : PushStatus::failed;
        results[i].detail = number.error().message + " (" + short_phone(p.token) + ")";
        continue;
      }
      Group* g = nullptr;
      for (Group& each : groups)
        if (each.service == p.service && each.message == p.message && each.sms_fallback == p.sms_fallback) g = &each;
      if (!g) g = &groups.emplace_back(Group{p.service, p.message, p.sms_fallback, {}, {}});
      g->index.push_back(i);
      g->numbers.push_back(std::move(*number));
    }
    for (const Group& g : groups) send_group(g, results);
    stop_.reset();
    return results;
  }

  Stats stats() const { return stats_; }

  Result<void> connect() {
    const Exchange ex = exchange("/", nullptr);
    if (ex.transport_ok) return {};
    return Error{ex.configuration ? Errc::configuration : Errc::unavailable, "SENS: " + ex.error, {}};
  }

 private:
  void send_group(const Group& g, std::vector<PushResult>& results) {
    const auto fail_all = [&](PushResult r) {
      for (std::size_t i : g.index) results[i] = r;
    };
    // What every call of the group shares.
    std::string path, content, template_code;
    SmsText text;
    const bool sms = g.service == PushService::sms;
    // SENS's SMS in place of AlimTalk: switched on here, and allowed by the route and the
    // member (Push::sms_fallback).
    const bool failover = !sms && opt_.sms_failover && g.sms_fallback;
    if (sms) {
      if (opt_.sms_service_id.empty()) return fail_all({PushStatus::fatal, {}, "SENS: no SMS service id configured"});
      path = sms_path(opt_.sms_service_id);
      text = sms_text(*g.message);
    } else {
      if (opt_.alimtalk_service_id.empty())
        return fail_all({PushStatus::fatal, {}, "SENS: no AlimTalk service id configured"});
      if (opt_.plus_friend_id.empty()) return fail_all({PushStatus::fatal, {}, "SENS: no KakaoTalk channel (plusFriendId) configured"});
      const std::string_view type = to_string(g.message->type);
      const auto it = opt_.templates.find(type);
      if (it == opt_.templates.end()) return fail_all({PushStatus::failed, {}, "no AlimTalk template for " + std::string(type)});
      template_code = it->second;
      path = alimtalk_path(opt_.alimtalk_service_id);
      content = alimtalk_content(*g.message);
      if (failover) text = sms_text(*g.message);
    }
    const auto body_for = [&](std::span<const std::string> to) {
      if (sms) return sms_body(SmsCall{&text, opt_.from, to});
      return alimtalk_body(AlimTalkCall{opt_.plus_friend_id, template_code, content, to,
                                        failover ? &text : nullptr, opt_.from});
    };
    const auto count = [&] {
      if (!sms) ++stats_.alimtalk;
      else if (text.type == SmsType::sms) ++stats_.sms;
      else ++stats_.lms;
    };

    for (std::size_t start = 0; start < g.numbers.size(); start += max_recipients) {
      const std::size_t n = std::min(max_recipients, g.numbers.size() - start);
      // The recipients of this call still unanswered: a 400 naming some of them answers
      // those (invalid numbers) and the call is made again for the others.
      std::vector<std::size_t> left(n);
      for (std::size_t k = 0; k < n; ++k) left[k] = start + k;
      std::vector<std::string> to;
      while (!left.empty()) {
        if (stop_) {
          for (std::size_t k : left) results[g.index[k]] = *stop_;
          break;
        }
        to.clear();
        for (std::size_t k : left) to.push_back(g.numbers[k]);
        count();
        const Exchange ex = post(path, body_for(to));
        if (ex.transport_ok && ex.status == 400) {
          std::vector<std::size_t> rest;
          for (std::size_t k : left) {
            if (names_number(ex.body, g.numbers[k])) {
              results[g.index[k]] = {PushStatus::invalid_token, {},
                                     "SENS: invalid recipient number " + short_phone(g.numbers[k])};
            } else {
              rest.push_back(k);
            }
          }
          if (rest.size() < left.size()) {
            if (!rest.empty()) ++stats_.resent_calls;
            left = std::move(rest);
            continue;
          }
        }
        PushResult r = classify(ex.reply());
        if (r.status == PushStatus::fatal || (r.status == PushStatus::retry && r.outage)) stop_ = r;
        for (std::size_t k : left) results[g.index[k]] = r;
        break;
      }
    }
  }

  /// True when an error text names `number` (not as part of a longer run of digits).
  static bool names_number(std::string_view text, std::string_view number) {
    for (std::size_t at = text.find(number); at != std::string_view::npos; at = text.find(number, at + 1)) {
      const bool digit_before = at > 0 && text[at - 1] >= '0' && text[at - 1] <= '9';
      const std::size_t after = at + number.size();
      const bool digit_after = after < text.size() && text[after] >= '0' && text[after] <= '9';
      if (!digit_before && !digit_after) return true;
    }
    return false;
  }

  static std::size_t on_body(char* p, std::size_t size, std::size_t n, void* self) {
    auto* ex = static_cast<Exchange*>(self);
    if (ex->body.size() < 64 * 1024) ex->body.append(p, size * n);
    return size * n;
  }

  static std::size_t on_header(char* p, std::size_t size, std::size_t n, void* self) {
    auto* ex = static_cast<Exchange*>(self);
    const std::string_view line(p, size * n);
    if (toolkit::istarts_with(line, "retry-after:")) ex->retry_after = std::string(toolkit::trim(line.substr(12)));
    else if (toolkit::istarts_with(line, "http/")) ex->retry_after.clear();  // a new response (after 1xx)
    return size * n;
  }

  /// A signed POST of `body` to `path`.
  Exchange post(const std::string& path, const std::string& body) { return exchange(path, &body); }

  /// One request on the kept handle: a signed POST of `*body`, or, without a body, an
  /// unsigned HEAD (connect(): it only opens the connection).
  Exchange exchange(const std::string& path, const std::string* body) {
    Exchange ex;
    if (!lib_) {
      const Result<toolkit::Curl>& lib = toolkit::libcurl();
      if (!lib) {  // libcurl missing or too old: retrying will not help
        ex.transport_ok = false;
        ex.configuration = true;
        ex.error = lib.error().message;
        return ex;
      }
      lib_ = &*lib;
    }
    if (!curl_ && !(curl_ = lib_->easy_init())) {
      ex.transport_ok = false;
      ex.error = "libcurl could not be initialised";
      return ex;
    }
    lib_->easy_reset(curl_);  // keeps the connection cache
    curl_slist* headers = nullptr;
    if (body) {
      ++stats_.calls;
      const std::string timestamp = std::to_string(unix_now_ms());
      std::string signature = signature_v2("POST", path, timestamp, opt_.access_key, secret_);
      for (const std::string& h : {std::string("Content-Type: application/json; charset=utf-8"),
                                   std::string("Accept: application/json"), std::string("Expect:"),
                                   "x-ncp-apigw-timestamp: " + timestamp, "x-ncp-iam-access-key: " + opt_.access_key,
                                   "x-ncp-apigw-signature-v2: " + signature})
        headers = lib_->slist_append(headers, h.c_str());
      toolkit::wipe(signature);
      lib_->easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
      lib_->easy_setopt(curl_, CURLOPT_POSTFIELDS, body->data());
      lib_->easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    } else {
      lib_->easy_setopt(curl_, CURLOPT_NOBODY, 1L);
    }
    const std::string url = opt_.base_url + path;
    char detail[CURL_ERROR_SIZE] = {};
    lib_->easy_setopt(curl_, CURLOPT_URL, url.c_str());
    lib_->easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    lib_->easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Impl::on_body);
    lib_->easy_setopt(curl_, CURLOPT_WRITEDATA, &ex);
    lib_->easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    lib_->easy_setopt(curl_, CURLOPT_HEADERDATA, &ex);
    lib_->easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    lib_->easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opt_.connect_timeout.count()));
    lib_->easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(opt_.request_timeout.count()));
    lib_->easy_setopt(curl_, CURLOPT_ERRORBUFFER, detail);
    if (!opt_.ca_file.empty()) lib_->easy_setopt(curl_, CURLOPT_CAINFO, opt_.ca_file.c_str());
    const CURLcode rc = lib_->easy_perform(curl_);
    lib_->slist_free_all(headers);
    lib_->easy_setopt(curl_, CURLOPT_ERRORBUFFER, nullptr);
    if (rc != CURLE_OK) {
      ex.transport_ok = false;
      ex.configuration = is_configuration(rc);
      ex.error = detail[0] ? std::string(detail) : std::string(lib_->easy_strerror(rc));
      return ex;
    }
    long status = 0;
    lib_->easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    ex.status = static_cast<int>(status);
    return ex;
  }

  Options opt_;
  std::string secret_;
  const toolkit::Curl* lib_ = nullptr;  ///< libcurl, loaded by the first exchange
  CURL* curl_ = nullptr;
  Stats stats_;
  std::optional<PushResult> stop_;  ///< after a fatal or outage answer: what the rest of this send() gets
};

Result<Provider> Provider::create(Options options) {
  const auto env = [](std::string_view name) -> std::string {
    const char* v = std::getenv(std::string(name).c_str());
    return v ? std::string(v) : std::string();
  };
  if (options.secret_key.empty() && !options.secret_key_file.empty()) {
    std::ifstream in(options.secret_key_file, std::ios::binary | std::ios::ate);
    const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : -1;
    if (size < 0 || size > 4096) return config_error("SENS: cannot read the secret key file " + options.secret_key_file);
    options.secret_key.resize(static_cast<std::size_t>(size));  // one buffer: no stray copies of the secret
    in.seekg(0);
    if (!in.read(options.secret_key.data(), size)) {
      toolkit::wipe(options.secret_key);
      return config_error("SENS: cannot read the secret key file " + options.secret_key_file);
    }
    // The first line only (a trailing comment or second line would be signed with).
    if (const auto eol = options.secret_key.find_first_of("\r\n"); eol != std::string::npos) {
      toolkit::secure_zero(options.secret_key.data() + eol, options.secret_key.size() - eol);
      options.secret_key.resize(eol);
    }
    while (!options.secret_key.empty() && toolkit::is_blank(options.secret_key.back())) options.secret_key.pop_back();
  }
  if (options.secret_key.empty()) options.secret_key = env(env_secret_key);
  if (options.access_key.empty()) options.access_key = env(env_access_key);
  const auto fail = [&](std::string message) -> Result<Provider> {
    toolkit::wipe(options.secret_key);
    return config_error(std::move(message));
  };
  if (options.access_key.empty())
    return fail("SENS: no access key (Options::access_key or " + std::string(env_access_key) + ")");
  if (options.secret_key.empty())
    return fail("SENS: no secret key (Options::secret_key, secret_key_file or " + std::string(env_secret_key) + ")");
  if (!options.base_url.starts_with("https://") && !options.base_url.starts_with("http://"))
    return fail("SENS: the base URL must be http(s)://host[:port]");
  while (options.base_url.ends_with("/")) options.base_url.pop_back();
  if (options.sms_service_id.empty() && options.alimtalk_service_id.empty())
    return fail("SENS: neither an SMS nor an AlimTalk service id is set");
  if (options.from.empty() && (!options.sms_service_id.empty() || options.sms_failover))
    return fail("SENS: no sender number (from) for SMS");
  if (options.from.find_first_not_of("0123456789") != std::string::npos)
    return fail("SENS: the sender number (from) must be digits only, e.g. 0212345678");
  if (!options.alimtalk_service_id.empty() && options.plus_friend_id.empty())
    return fail("SENS: AlimTalk needs the KakaoTalk channel id (plusFriendId)");
  return Provider(std::make_unique<Impl>(std::move(options)));
}

Provider::Provider(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Provider::Provider(Provider&&) noexcept = default;
Provider& Provider::operator=(Provider&&) noexcept = default;
Provider::~Provider() = default;

std::vector<PushResult> Provider::send(std::span<const Push> pushes) { return impl_->send(pushes); }
Stats Provider::stats() const { return impl_->stats(); }
Result<void> Provider::connect() { return impl_->connect(); }

}  // namespace notify::sens
