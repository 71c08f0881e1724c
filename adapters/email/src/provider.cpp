// SPDX-License-Identifier: MIT
#include "notify/email/provider.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <new>
#include <cstdio>
#include <string>
#include <utility>

#include "notify/email/errors.hpp"
#include "notify/email/message.hpp"
#include "notify/plan.hpp"
#include "notify/toolkit/curl.hpp"
#include "notify/toolkit/secure.hpp"

namespace notify::email {

namespace {

Error configuration(std::string message) { return Error{Errc::configuration, std::move(message), {}}; }

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

// Reads the password, the first line of `path`, into `out`. Unbuffered, and every copy
// made on the way is wiped.
Result<void> read_password(const std::string& path, std::string& out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return configuration("cannot read the SMTP password file " + path);
  std::setvbuf(f, nullptr, _IONBF, 0);
  std::string content;
  content.reserve(4096);  // a password longer than this moves once: acceptable
  char buffer[512];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0 && content.size() < 65536) content.append(buffer, n);
  toolkit::secure_zero(buffer, sizeof buffer);
  std::fclose(f);
  std::size_t end = std::min(content.find('\n'), content.size());
  if (end > 0 && content[end - 1] == '\r') --end;
  toolkit::wipe(out);
  out.assign(content, 0, end);
  toolkit::wipe(content);
  if (out.empty()) return configuration("the SMTP password file " + path + " is empty");
  return {};
}

// Wipes a secret when leaving the scope, however it is left.
struct WipeOnExit {
  explicit WipeOnExit(std::string& s) noexcept : secret(s) {}
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;
  ~WipeOnExit() { toolkit::wipe(secret); }
  std::string& secret;
};

}  // namespace

class Provider::Impl {
 public:
  // A copy, not a move: moving a short string leaves its bytes behind unwiped.
  explicit Impl(const Options& options) : options_(options) { toolkit::wipe(options_.password); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ~Impl() {
    if (curl_) lib_->easy_cleanup(curl_);
    if (rcpt_) lib_->slist_free_all(rcpt_);
    toolkit::wipe(upload_);
  }

  Result<void> init(const std::string& password) {
    const Result<toolkit::Curl>& lib = toolkit::libcurl();
    if (!lib) return lib.error();  // Errc::configuration: libcurl missing or too old
    lib_ = &*lib;
    curl_ = lib_->easy_init();
    if (!curl_) return configuration("curl_easy_init failed");
    const bool implicit_tls = starts_with_nocase(options_.url, "SMTPS://");
    auto set = [&](CURLoption option, auto value) { return lib_->easy_setopt(curl_, option, value) == CURLE_OK; };
    bool ok = set(CURLOPT_URL, options_.url.c_str()) && set(CURLOPT_NOSIGNAL, 1L) &&
              set(CURLOPT_ERRORBUFFER, error_) &&
              set(CURLOPT_USE_SSL, static_cast<long>(options_.allow_plaintext && !implicit_tls ? CURLUSESSL_TRY
                                                                                                : CURLUSESSL_ALL)) &&
              set(CURLOPT_SSL_VERIFYPEER, 1L) && set(CURLOPT_SSL_VERIFYHOST, 2L) &&
              set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count())) &&
              set(CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count())) &&
              set(CURLOPT_TCP_KEEPALIVE, 1L) && set(CURLOPT_MAIL_FROM, ("<" + options_.from + ">").c_str()) &&
              set(CURLOPT_UPLOAD, 1L) && set(CURLOPT_READFUNCTION, &Impl::read_cb) && set(CURLOPT_READDATA, this) &&
              set(CURLOPT_WRITEFUNCTION, &Impl::discard_cb) &&
              // The protocol trace tells which command a failure answered (RCPT TO or another).
              set(CURLOPT_DEBUGFUNCTION, &Impl::debug_cb) && set(CURLOPT_DEBUGDATA, this) && set(CURLOPT_VERBOSE, 1L);
    if (ok && !options_.ca_file.empty()) ok = set(CURLOPT_CAINFO, options_.ca_file.c_str());
    if (ok && !options_.user.empty())
      ok = set(CURLOPT_USERNAME, options_.user.c_str()) && set(CURLOPT_PASSWORD, password.c_str());
    if (!ok) return configuration("libcurl rejected an SMTP option (is SMTP/TLS support built in?)");
    return {};
  }

  Result<void> connect() {
    lib_->easy_setopt(curl_, CURLOPT_UPLOAD, 0L);
    lib_->easy_setopt(curl_, CURLOPT_MAIL_RCPT, static_cast<curl_slist*>(nullptr));
    lib_->easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, "NOOP");
    const Outcome o = perform({});
    lib_->easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, static_cast<const char*>(nullptr));
    lib_->easy_setopt(curl_, CURLOPT_UPLOAD, 1L);
    if (o.rc == CURLE_OK) return {};
    const PushResult r = o.result;
    Errc code = Errc::protocol_error;
    if (r.status == PushStatus::fatal)
      code = o.rc == CURLE_LOGIN_DENIED || o.stage == Stage::auth ? Errc::unauthenticated : Errc::configuration;
    else if (o.rc == CURLE_COULDNT_CONNECT || o.rc == CURLE_COULDNT_RESOLVE_HOST) code = Errc::unavailable;
    else if (o.rc == CURLE_OPERATION_TIMEDOUT) code = Errc::timeout;
    else if (r.outage) code = Errc::unavailable;  // 421, 454, a broken connection: transient
    return Error{code, r.detail, {}};
  }

  std::vector<PushResult> send(std::span<const Push> pushes, std::span<const std::string> keys) {
    std::vector<PushResult> results;
    results.reserve(pushes.size());
    std::string stopped;  // why the rest of the batch is not tried
    for (std::size_t i = 0; i < pushes.size(); ++i) {
      const Push& push = pushes[i];
      if (!stopped.empty()) {
        PushResult r;
        r.status = PushStatus::retry;
        r.outage = true;
        r.scope = RetryScope::provider;
        r.detail = "not tried: " + stopped;
        results.push_back(std::move(r));
        continue;
      }
      results.push_back(send_one(push, i < keys.size() ? std::string_view(keys[i]) : std::string_view()));
      const PushResult& r = results.back();
      if (r.status == PushStatus::fatal || (r.status == PushStatus::retry && r.outage && r.scope == RetryScope::provider))
        stopped = r.detail;
    }
    return results;
  }

  Stats stats() const { return stats_; }

 private:
  struct Outcome {
    CURLcode rc = CURLE_OK;
    Stage stage = Stage::connect;
    long connects = 0;
    PushResult result;
  };

  PushResult send_one(const Push& push, std::string_view key) {
    auto failed = [](std::string detail) {
      PushResult r;
      r.status = PushStatus::failed;
      r.detail = std::move(detail);
      return r;
    };
    if (push.service != PushService::email)
      return failed("not an e-mail push (service " + std::string(to_string(push.service)) + ")");
    if (!push.message) return failed("no message");
    // An address SMTP cannot take reaches nobody on this channel: an invalid address for
    // it (the record is not dead-lettered over it), never sent.
    if (auto ok = validate_address(push.token); !ok) {
      PushResult r;
      r.status = PushStatus::invalid_token;
      r.detail = ok.error().message;
      return r;
    }
    Envelope envelope;
    envelope.from = Sender{options_.from, options_.from_name};
    envelope.to = push.token;
    envelope.date = std::chrono::system_clock::now();
    envelope.delivery_key = key;
    envelope.message_id_domain = options_.message_id_domain;
    Result<Mail> mail = build_mail(*push.message, envelope);
    if (!mail) return failed(mail.error().message);

    upload_ = std::move(mail->data);
    if (rcpt_) lib_->slist_free_all(rcpt_);
    rcpt_ = lib_->slist_append(nullptr, ("<" + std::string(push.token) + ">").c_str());
    if (!rcpt_) throw std::bad_alloc();
    lib_->easy_setopt(curl_, CURLOPT_MAIL_RCPT, rcpt_);
    lib_->easy_setopt(curl_, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload_.size()));
    Outcome o = perform(push.token, mail->message_id);
    // A kept connection the server has closed meanwhile fails before anything is handed
    // over: tried once more on a new connection, without counting it as an outage.
    if (o.rc != CURLE_OK && o.connects == 0 && o.result.outage && o.result.scope == RetryScope::provider &&
        (o.stage == Stage::connect || o.stage == Stage::mail_from) && (o.rc == CURLE_SEND_ERROR ||
         o.rc == CURLE_RECV_ERROR || o.rc == CURLE_GOT_NOTHING)) {
      o = perform(push.token, mail->message_id);
    }
    toolkit::wipe(upload_);
    if (o.rc == CURLE_OK) ++stats_.sent;
    return std::move(o.result);
  }

  Outcome perform(std::string_view recipient, std::string_view message_id = {}) {
    stage_ = Stage::connect;
    quitting_ = false;
    reply_.clear();
    error_[0] = '\0';
    upload_pos_ = 0;
    Outcome o;
    o.rc = lib_->easy_perform(curl_);
    long code = 0;
    lib_->easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &code);
    lib_->easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &o.connects);
    if (!recipient.empty()) ++stats_.transfers;
    stats_.connections += static_cast<std::uint64_t>(std::max(0L, o.connects));
    o.stage = stage_;
    Reply reply;
    reply.curl_code = static_cast<int>(o.rc);
    reply.smtp_code = code;
    reply.stage = stage_;
    reply.error = error_[0] ? std::string_view(error_) : std::string_view(lib_->easy_strerror(o.rc));
    reply.server_text = reply_;
    reply.recipient = recipient;
    reply.message_id = message_id;
    o.result = classify(reply);
    return o;
  }

  static std::size_t read_cb(char* buffer, std::size_t size, std::size_t count, void* self_ptr) {
    auto* self = static_cast<Impl*>(self_ptr);
    const std::size_t n = std::min(size * count, self->upload_.size() - self->upload_pos_);
    std::memcpy(buffer, self->upload_.data() + self->upload_pos_, n);
    self->upload_pos_ += n;
    if (n == 0) self->stage_ = Stage::end_of_data;
    return n;
  }

  static std::size_t discard_cb(char*, std::size_t size, std::size_t count, void*) { return size * count; }

  // Notes the command last sent and the server's last reply line. Only a command's verb is
  // looked at, never the rest of the line (AUTH carries the credentials).
  static int debug_cb(CURL*, curl_infotype type, char* data, std::size_t size, void* self_ptr) {
    auto* self = static_cast<Impl*>(self_ptr);
    const std::string_view line(data, size);
    // QUIT, sent when libcurl closes a connection after a failure, and its "221 Bye" would
    // hide the command and reply that failed.
    if (self->quitting_) return 0;
    if (type == CURLINFO_HEADER_OUT) {
      if (starts_with_nocase(line, "QUIT")) self->quitting_ = true;
      else if (starts_with_nocase(line, "EHLO") || starts_with_nocase(line, "HELO")) self->stage_ = Stage::ehlo;
      else if (starts_with_nocase(line, "STARTTLS")) self->stage_ = Stage::starttls;
      else if (starts_with_nocase(line, "AUTH")) self->stage_ = Stage::auth;
      else if (starts_with_nocase(line, "MAIL")) self->stage_ = Stage::mail_from;
      else if (starts_with_nocase(line, "RCPT")) self->stage_ = Stage::rcpt_to;
      else if (starts_with_nocase(line, "DATA")) self->stage_ = Stage::data;
      else if (self->stage_ != Stage::auth) self->stage_ = Stage::other;  // SASL answers stay AUTH
    } else if (type == CURLINFO_HEADER_IN) {
      self->reply_.assign(line.substr(0, std::min<std::size_t>(line.size(), 512)));
    }
    return 0;
  }

  Options options_;
  const toolkit::Curl* lib_ = nullptr;  ///< set by init(), before curl_
  CURL* curl_ = nullptr;
  curl_slist* rcpt_ = nullptr;
  char error_[CURL_ERROR_SIZE] = {};
  Stage stage_ = Stage::connect;
  bool quitting_ = false;
  std::string reply_;
  std::string upload_;
  std::size_t upload_pos_ = 0;
  Stats stats_;
};

Result<Provider> Provider::create(Options options) {
  const WipeOnExit wipe_password{options.password};  // libcurl keeps its own copy
  const bool smtp = starts_with_nocase(options.url, "SMTP://");
  const bool smtps = starts_with_nocase(options.url, "SMTPS://");
  if (!smtp && !smtps) return configuration("the SMTP URL must start with smtp:// or smtps://");
  if (auto ok = validate_address(options.from); !ok) return configuration("from: " + ok.error().message);
  // The Message-ID's domain must itself be a valid address's domain.
  if (!options.message_id_domain.empty() && !validate_address("x@" + options.message_id_domain))
    return configuration("message_id_domain: not a domain");
  if (!options.user.empty() && options.password.empty()) {
    if (options.password_file.empty())
      return configuration("an SMTP user needs a password (password or password_file)");
    if (auto ok = read_password(options.password_file, options.password); !ok) return ok.error();
  }
  auto impl = std::make_unique<Impl>(options);
  if (auto ok = impl->init(options.password); !ok) return ok.error();
  return Provider(std::move(impl));
}

Provider::Provider(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Provider::Provider(Provider&&) noexcept = default;
Provider& Provider::operator=(Provider&&) noexcept = default;
Provider::~Provider() = default;

Result<void> Provider::connect() { return impl_->connect(); }

std::vector<PushResult> Provider::send(std::span<const Push> pushes) { return impl_->send(pushes, {}); }

std::vector<PushResult> Provider::send(std::span<const Push> pushes, std::span<const std::string> keys) {
  return impl_->send(pushes, keys);
}

Stats Provider::stats() const { return impl_->stats(); }

}  // namespace notify::email
