// SPDX-License-Identifier: MIT
// notify::sqs::Queue: receive, settle, send, dead letters.

#include "notify/sqs/queue.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <random>
#include <utility>

#include <nlohmann/json.hpp>

#include "notify/codec.hpp"
#include "notify/producer.hpp"
#include "notify/sqs/sigv4.hpp"
#include "responses.hpp"

namespace notify::sqs {

namespace {

using json = nlohmann::json;
using detail::attribute;
using detail::failed_entries;
using detail::messages_of;
using detail::number_text;
using detail::string_field;
using detail::system_attribute;

/// Client::call with JSON documents: the request dumped, the answer parsed.
Result<json> call_json(Client& client, std::string_view operation, const json& request,
                       std::chrono::milliseconds wait = std::chrono::milliseconds(0)) {
  auto answer = client.call(operation, request.dump(-1, ' ', false, json::error_handler_t::replace), wait);
  if (!answer) return answer.error();
  return detail::parse_answer(operation, *answer);
}

/// The Attributes of a GetQueueAttributes call for the queue at `url` (empty if none came).
Result<json> queue_attributes(Client& client, const std::string& url, json names) {
  auto answer = call_json(client, "GetQueueAttributes", {{"QueueUrl", url}, {"AttributeNames", std::move(names)}});
  if (!answer) return answer.error();
  if (auto attrs = answer->find("Attributes"); attrs != answer->end() && attrs->is_object()) return std::move(*attrs);
  return json::object();
}

/// The three message counts SQS keeps: visible, in flight (not visible), delayed.
constexpr const char* count_names[] = {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                                       "ApproximateNumberOfMessagesDelayed"};

/// One count of a GetQueueAttributes answer; -1 when it is not there.
std::int64_t count_of(const json& attrs, const char* name) {
  const std::string text = string_field(attrs, name);
  return text.empty() ? -1 : number_text(text);
}

/// The URL of the dead-letter queue a RedrivePolicy attribute names, for `source`.
Result<std::string> redrive_target(const std::string& policy_text, const QueueUrl& source) {
  auto policy = json::parse(policy_text, nullptr, false);
  std::string arn = policy.is_object() ? string_field(policy, "deadLetterTargetArn") : std::string();
  if (arn.empty())
    return Error{Errc::configuration,
                 "SQS queue " + source.name + " has no dead-letter queue: give one (--dead-letter URL) or set its RedrivePolicy",
                 {}};
  return url_from_arn(arn, source);
}

constexpr std::size_t batch_limit = 10;               // entries per SQS batch call
constexpr std::size_t attribute_overhead = 512;       // names, types, ids per entry (bytes, generous)
constexpr std::size_t max_reason_bytes = 32 * 1024;   // a dead letter's reason, at most
constexpr long max_visibility_seconds = 43200;        // 12 h

/// Cuts a string to at most `n` bytes at a UTF-8 boundary.
std::string cut_utf8(std::string s, std::size_t n) {
  if (s.size() <= n) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

/// Two URLs of the same queue (account and name), however each names its host.
bool same_queue(const std::string& a, const std::string& b) {
  if (a == b) return true;
  auto x = parse_queue_url(a);
  auto y = parse_queue_url(b);
  return x && y && x->account == y->account && x->name == y->name;
}

/// The first error of a batch, with how many entries failed.
Result<void> summarise(std::string_view what, const std::vector<Error>& failures) {
  if (failures.empty()) return {};
  Error e = failures.front();
  if (failures.size() > 1) e.message += " (and " + std::to_string(failures.size() - 1) + " more " + std::string(what) + " failure(s))";
  return e;
}

json receive_request(const std::string& url, std::size_t max, std::chrono::seconds wait, std::chrono::seconds hide,
                     json attribute_names) {
  json r = {{"QueueUrl", url},
            {"MaxNumberOfMessages", std::clamp<std::size_t>(max, 1, batch_limit)},
            {"WaitTimeSeconds", std::clamp<long long>(wait.count(), 0, 20)},
            // Both spellings: AttributeNames is the older, still-supported one.
            {"AttributeNames", json::array({"All"})},
            {"MessageSystemAttributeNames", json::array({"All"})},
            {"MessageAttributeNames", std::move(attribute_names)}};
  if (hide.count() > 0) r["VisibilityTimeout"] = hide.count();
  return r;
}

}  // namespace

Queue::Queue(QueueUrl url, Client client, QueueOptions options)
    : url_(std::move(url)), client_(std::move(client)), opt_(std::move(options)) {
  if (!opt_.dead_letter_url.empty()) dead_letter_url_ = opt_.dead_letter_url;
  id_seed_ = std::random_device{}();
  id_seed_ = (id_seed_ << 32) ^ std::random_device{}() ^ static_cast<std::uint64_t>(unix_now_ms());
}

Result<Queue> Queue::open(std::string_view url, QueueOptions options) {
  if (auto parsed = parse_queue_url(url); !parsed) return parsed.error();  // before asking for credentials
  auto credentials = CredentialProvider::from_environment();
  if (!credentials) return credentials.error();
  return open(url, std::move(*credentials), std::move(options));
}

Result<Queue> Queue::open(std::string_view url, CredentialProvider credentials, QueueOptions options) {
  auto parsed = parse_queue_url(url);
  if (!parsed) return parsed.error();
  if (!options.dead_letter_url.empty()) {
    if (auto dl = parse_queue_url(options.dead_letter_url); !dl) return dl.error();
  }
  std::string endpoint = resolve_endpoint(*parsed, options.client);
  std::string region = resolve_region(*parsed, options.client);
  Client client(std::move(endpoint), std::move(region), std::move(credentials), options.client);
  return Queue(std::move(*parsed), std::move(client), std::move(options));
}

std::string Queue::fresh_id() {
  ++id_counter_;
  return "sqs-" + notify::hex64(id_seed_) + "-" + std::to_string(id_counter_);
}

// ---- receive ------------------------------------------------------------------------

Result<std::vector<QueueRecord>> Queue::receive(std::size_t max, std::chrono::milliseconds wait) {
  auto seconds = std::chrono::ceil<std::chrono::seconds>(wait);
  json request = receive_request(url_.url, max, seconds, opt_.visibility_timeout, json::array({"notify-rid"}));
  // FIFO: a receive the client sends again (its answer was lost) gets the same messages
  // back instead of leaving them in flight, which would hold up their groups.
  if (fifo()) request["ReceiveRequestAttemptId"] = fresh_id();
  auto answer = call_json(client_, "ReceiveMessage", request,
                          std::chrono::duration_cast<std::chrono::milliseconds>(std::min(seconds, std::chrono::seconds(20))));
  if (!answer) return answer.error();
  auto out = detail::receive_records(*answer);
  if (out) recall(*out);
  return out;
}

void Queue::recall(std::span<QueueRecord> records) const {
  for (QueueRecord& r : records)
    if (auto it = outages_.find(r.id); it != outages_.end()) r.outages = std::min(it->second, r.receive_count - 1);
}

// ---- send ---------------------------------------------------------------------------

std::size_t Queue::size_of(const Outgoing& o) {
  // What SQS counts: the body, and each attribute's name, type and value.
  std::size_t n = o.body.size() + std::string_view("notify-ridString").size() + o.rid.size();
  for (const auto& [name, value] : o.strings) n += name.size() + 6 + value.size();
  for (const auto& [name, value] : o.numbers) n += name.size() + 6 + std::to_string(value).size();
  return n;
}

Result<void> Queue::send_batches(const std::string& queue_url, bool fifo, std::span<const Outgoing> out,
                                 std::vector<bool>& sent) {
  sent.assign(out.size(), false);
  std::vector<Error> failures;
  std::size_t from = 0;
  while (from < out.size()) {
    // One batch: at most 10 entries and max_batch_bytes.
    std::size_t to = from, bytes = 0;
    while (to < out.size() && to - from < batch_limit) {
      std::size_t size = size_of(out[to]);
      if (to > from && bytes + size > opt_.max_batch_bytes) break;
      bytes += size;
      ++to;
    }
    json entries = json::array();
    for (std::size_t i = from; i < to; ++i) {
      const Outgoing& o = out[i];
      json attrs = {{"notify-rid", {{"DataType", "String"}, {"StringValue", o.rid}}}};
      for (const auto& [name, value] : o.strings) attrs[name] = {{"DataType", "String"}, {"StringValue", value}};
      for (const auto& [name, value] : o.numbers)
        attrs[name] = {{"DataType", "Number"}, {"StringValue", std::to_string(value)}};
      json e = {{"Id", std::to_string(i)}, {"MessageBody", o.body}, {"MessageAttributes", std::move(attrs)}};
      if (fifo) {
        e["MessageGroupId"] = o.group;
        e["MessageDeduplicationId"] = o.dedup;
      }
      entries.push_back(std::move(e));
    }
    // Entries the service failed on its side are sent again (a few times); the rest report.
    json request = {{"QueueUrl", queue_url}, {"Entries", std::move(entries)}};
    for (int attempt = 1;; ++attempt) {
      auto answer = call_json(client_, "SendMessageBatch", request);
      if (!answer) {
        failures.push_back(answer.error());
        break;
      }
      auto failed = failed_entries(*answer);
      std::vector<std::string> succeeded;
      if (auto ok = answer->find("Successful"); ok != answer->end() && ok->is_array())
        for (const json& e : *ok) succeeded.push_back(string_field(e, "Id"));
      json retry = json::array();
      for (const json& e : request["Entries"]) {
        std::string id = e["Id"].get<std::string>();
        auto f = std::find_if(failed.begin(), failed.end(), [&](const auto& p) { return p.first == id; });
        if (std::find(succeeded.begin(), succeeded.end(), id) != succeeded.end()) {
          sent[static_cast<std::size_t>(std::stoul(id))] = true;
        } else if (f == failed.end()) {
          // Neither sent nor failed: the answer cannot be trusted for it; not sent.
          failures.push_back({Errc::protocol_error, "SQS SendMessageBatch: entry " + id + " is in neither Successful nor Failed", {}});
        } else if (!f->second.sender_fault && attempt < 3) {
          retry.push_back(e);
        } else {
          failures.push_back(to_error("SendMessageBatch", f->second));
        }
      }
      if (retry.empty()) break;
      request["Entries"] = std::move(retry);
    }
    from = to;
  }
  return summarise("send", failures);
}

Result<void> Queue::send(std::span<const std::string> bodies) {
  std::vector<Outgoing> out;
  out.reserve(bodies.size());
  for (const std::string& body : bodies) {
    Outgoing o;
    o.body = body;
    auto request = notify::decode(body);
    if (request && !request->id.empty()) o.rid = request->id;
    else o.rid = fresh_id();
    if (size_of(o) > opt_.max_message_bytes)
      return Error{Errc::body_too_large,
                   "SQS send: a message of " + std::to_string(size_of(o)) + " bytes is above the queue's limit of " +
                       std::to_string(opt_.max_message_bytes) + " bytes (nothing was sent)",
                   {}};
    if (fifo()) {
      o.group = request ? message_group(*request) : "other";
      // The request id and the content: a resend is deduplicated, another request that
      // reuses the id is not (SQS would drop it silently for 5 minutes).
      o.dedup = sha256_hex(o.rid + '\n' + body);
    }
    out.push_back(std::move(o));
  }
  std::vector<bool> sent;
  return send_batches(url_.url, fifo(), out, sent);
}

// ---- settle -------------------------------------------------------------------------

void Queue::delete_batches(const std::string& queue_url, std::span<const std::string> receipts,
                           std::vector<Error>& failures) {
  for (std::size_t from = 0; from < receipts.size(); from += batch_limit) {
    json entries = json::array();
    for (std::size_t i = from; i < std::min(receipts.size(), from + batch_limit); ++i)
      entries.push_back({{"Id", std::to_string(i)}, {"ReceiptHandle", receipts[i]}});
    auto answer = call_json(client_, "DeleteMessageBatch", {{"QueueUrl", queue_url}, {"Entries", std::move(entries)}});
    if (!answer) {
      failures.push_back(answer.error());
      continue;
    }
    for (const auto& [id, e] : failed_entries(*answer)) failures.push_back(to_error("DeleteMessageBatch", e));
  }
}

void Queue::visibility_batches(const std::string& queue_url, std::span<const std::pair<std::string, long>> entries_in,
                               std::vector<Error>& failures) {
  for (std::size_t from = 0; from < entries_in.size(); from += batch_limit) {
    json entries = json::array();
    for (std::size_t i = from; i < std::min(entries_in.size(), from + batch_limit); ++i)
      entries.push_back({{"Id", std::to_string(i)},
                         {"ReceiptHandle", entries_in[i].first},
                         {"VisibilityTimeout", entries_in[i].second}});
    auto answer = call_json(client_, "ChangeMessageVisibilityBatch", {{"QueueUrl", queue_url}, {"Entries", std::move(entries)}});
    if (!answer) {
      failures.push_back(answer.error());
      continue;
    }
    for (const auto& [id, e] : failed_entries(*answer)) failures.push_back(to_error("ChangeMessageVisibilityBatch", e));
  }
}

Result<std::string> Queue::dead_letter_url() {
  if (dead_letter_url_) return *dead_letter_url_;
  auto attrs = queue_attributes(client_, url_.url, json::array({"RedrivePolicy"}));
  if (!attrs) return attrs.error();
  auto url = redrive_target(string_field(*attrs, "RedrivePolicy"), url_);
  if (!url) return url.error();
  dead_letter_url_ = *url;
  return *url;
}

Result<void> Queue::settle(std::span<const Settlement> settlements) {
  std::vector<std::string> done;
  std::vector<std::pair<std::string, long>> later;
  std::vector<const Settlement*> dead;
  constexpr std::size_t max_tracked = 100000;  // a bound on the outage counts kept
  for (const Settlement& s : settlements) {
    if (s.outcome.disposition == Disposition::retry && s.outcome.outage) {
      if (outages_.size() >= max_tracked) outages_.clear();
      outages_[s.record->id] = s.record->outages + 1;
    } else {
      outages_.erase(s.record->id);
    }
    switch (s.outcome.disposition) {
      case Disposition::done: done.push_back(s.record->receipt); break;
      case Disposition::retry: {
        auto seconds = std::chrono::ceil<std::chrono::seconds>(s.outcome.delay).count();
        later.emplace_back(s.record->receipt, static_cast<long>(std::clamp<long long>(seconds, 0, max_visibility_seconds)));
        break;
      }
      case Disposition::dead_letter: dead.push_back(&s); break;
    }
  }
  std::vector<Error> failures;
  if (!dead.empty()) {
    auto dl = dead_letter_url();
    if (!dl) {
      failures.push_back(dl.error());
    } else {
      auto dl_url = parse_queue_url(*dl);
      bool dl_fifo = dl_url && dl_url->fifo();
      std::vector<Outgoing> out;
      const std::int64_t now = unix_now_ms();
      for (const Settlement* s : dead) {
        const QueueRecord& r = *s->record;
        Outgoing o;
        o.body = r.body;
        o.rid = r.id;
        std::size_t room = opt_.max_message_bytes > r.body.size() + attribute_overhead + url_.url.size() + r.id.size()
                               ? opt_.max_message_bytes - r.body.size() - attribute_overhead - url_.url.size() - r.id.size()
                               : 0;
        o.strings = {{"notify-reason", cut_utf8(s->outcome.reason.empty() ? "unknown" : s->outcome.reason,
                                                std::max<std::size_t>(1, std::min(room, max_reason_bytes)))},
                     {"notify-origin", url_.url}};
        o.numbers = {{"notify-deliveries", r.receive_count}, {"notify-sent-at", r.sent_at_ms}, {"notify-dead-at", now}};
        if (dl_fifo) {
          o.group = r.group.empty() ? "dead-letter" : r.group;
          o.dedup = sha256_hex(r.receipt);  // one per delivery: a settle retried is not sent twice
        }
        out.push_back(std::move(o));
      }
      std::vector<bool> sent;
      if (auto r = send_batches(*dl, dl_fifo, out, sent); !r) failures.push_back(r.error());
      for (std::size_t i = 0; i < dead.size(); ++i)
        if (sent[i]) done.push_back(dead[i]->record->receipt);  // in the dead-letter queue: remove here
    }
  }
  delete_batches(url_.url, done, failures);
  visibility_batches(url_.url, later, failures);
  return summarise("settle", failures);
}

// ---- leases -------------------------------------------------------------------------

Result<std::chrono::seconds> Queue::lease_length() {
  if (opt_.visibility_timeout.count() > 0) return opt_.visibility_timeout;
  if (queue_visibility_) return *queue_visibility_;
  auto answer =
      call_json(client_, "GetQueueAttributes", {{"QueueUrl", url_.url}, {"AttributeNames", json::array({"VisibilityTimeout"})}});
  if (!answer) return answer.error();
  std::string text;
  if (auto attrs = answer->find("Attributes"); attrs != answer->end() && attrs->is_object())
    text = string_field(*attrs, "VisibilityTimeout");
  if (text.empty() || (text != "0" && number_text(text) == 0))
    return Error{Errc::protocol_error, "SQS GetQueueAttributes: no VisibilityTimeout for " + url_.name, {}};
  queue_visibility_ = std::chrono::seconds(std::min<std::int64_t>(number_text(text), max_visibility_seconds));
  return *queue_visibility_;
}

std::chrono::milliseconds Queue::lease_interval() {
  auto length = lease_length();
  if (!length) return std::chrono::milliseconds(1000);
  return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(*length) / 3, std::chrono::milliseconds(100));
}

Result<std::vector<bool>> Queue::keep_alive(std::span<const QueueRecord* const> records) {
  std::vector<bool> held(records.size(), false);
  std::vector<std::size_t> asked;  // indexes of `records` to renew
  for (std::size_t i = 0; i < records.size(); ++i)
    if (records[i] != nullptr && !records[i]->receipt.empty()) asked.push_back(i);
  if (asked.empty()) return held;
  auto length = lease_length();
  if (!length) return length.error();
  for (std::size_t from = 0; from < asked.size(); from += batch_limit) {
    const std::size_t to = std::min(asked.size(), from + batch_limit);
    json entries = json::array();
    for (std::size_t k = from; k < to; ++k)
      entries.push_back({{"Id", std::to_string(k)},
                         {"ReceiptHandle", records[asked[k]]->receipt},
                         {"VisibilityTimeout", length->count()}});
    auto answer = call_json(client_, "ChangeMessageVisibilityBatch", {{"QueueUrl", url_.url}, {"Entries", std::move(entries)}});
    if (!answer) return answer.error();
    std::vector<bool> answered(to - from, false);
    auto index_of = [&](const std::string& id) -> std::optional<std::size_t> {
      const std::int64_t k = id.empty() || id.size() > 6 ? -1 : number_text(id);
      if (k < static_cast<std::int64_t>(from) || k >= static_cast<std::int64_t>(to) || std::to_string(k) != id)
        return std::nullopt;
      return static_cast<std::size_t>(k);
    };
    if (auto ok = answer->find("Successful"); ok != answer->end() && ok->is_array())
      for (const json& entry : *ok)
        if (auto k = index_of(string_field(entry, "Id"))) {
          held[asked[*k]] = true;
          answered[*k - from] = true;
        }
    for (const auto& [id, e] : failed_entries(*answer)) {
      auto k = index_of(id);
      if (!k) continue;
      if (!is_lost_receipt(e)) return to_error("ChangeMessageVisibilityBatch", e);
      held[asked[*k]] = false;
      answered[*k - from] = true;
    }
    if (std::find(answered.begin(), answered.end(), false) != answered.end())
      return Error{Errc::protocol_error, "SQS ChangeMessageVisibilityBatch: an entry neither succeeded nor failed", {}};
  }
  return held;
}

// ---- counts and dead letters -------------------------------------------------------

Result<std::size_t> Queue::pending_count() {
  auto attrs = queue_attributes(client_, url_.url, count_names);
  if (!attrs) return attrs.error();
  std::size_t total = 0;
  for (const char* name : count_names) total += static_cast<std::size_t>(number_text(string_field(*attrs, name)));
  return total;
}

Result<QueueStats> Queue::stats() {
  json names = count_names;
  if (!dead_letter_url_) names.push_back("RedrivePolicy");  // found in the same call
  auto attrs = queue_attributes(client_, url_.url, std::move(names));
  if (!attrs) return attrs.error();
  QueueStats out;
  out.depth = count_of(*attrs, count_names[0]);
  out.pending = count_of(*attrs, count_names[1]);
  out.delayed = count_of(*attrs, count_names[2]);
  if (!dead_letter_url_)
    if (auto url = redrive_target(string_field(*attrs, "RedrivePolicy"), url_)) dead_letter_url_ = *url;
  if (dead_letter_url_) {
    // Every message there is a dead letter, those hidden by a listing too.
    auto dead = queue_attributes(client_, *dead_letter_url_, count_names);
    if (!dead) return dead.error();
    out.dead = 0;
    for (const char* name : count_names) out.dead += std::max<std::int64_t>(count_of(*dead, name), 0);
  }
  return out;
}

std::size_t Queue::pending() {
  auto n = pending_count();
  return n ? *n : std::numeric_limits<std::size_t>::max();
}

namespace {

/// Receives up to `max` messages of the dead-letter queue, hidden for `hide`.
Result<std::vector<json>> take_dead(Queue& queue, std::size_t max, std::chrono::seconds hide) {
  auto dl = queue.dead_letter_url();
  if (!dl) return dl.error();
  std::vector<json> out;
  while (out.size() < max) {
    // A long poll: a short one samples some of SQS's servers and may miss letters.
    auto answer = call_json(queue.client(), "ReceiveMessage",
                            receive_request(*dl, max - out.size(), std::chrono::seconds(1), hide, json::array({"All"})),
                            std::chrono::seconds(1));
    if (!answer) return answer.error();
    json messages = messages_of(*answer);
    if (messages.empty()) break;
    for (json& m : messages) out.push_back(std::move(m));
  }
  return out;
}

DeadLetter dead_letter_of(const json& m) {
  DeadLetter d;
  d.entry_id = string_field(m, "MessageId");
  d.id = attribute(m, "notify-rid");
  if (d.id.empty()) d.id = d.entry_id;
  d.body = string_field(m, "Body");
  d.reason = attribute(m, "notify-reason");
  d.deliveries = static_cast<int>(number_text(attribute(m, "notify-deliveries")));
  if (d.deliveries == 0) d.deliveries = static_cast<int>(number_text(system_attribute(m, "ApproximateReceiveCount")));
  d.sent_at_ms = number_text(attribute(m, "notify-sent-at"));
  d.dead_at_ms = number_text(attribute(m, "notify-dead-at"));
  d.origin = attribute(m, "notify-origin");
  if (d.reason.empty()) d.reason = "moved by the queue's redrive policy (maxReceiveCount)";
  return d;
}

}  // namespace

Result<std::vector<DeadLetter>> Queue::dead_letters(std::size_t max) {
  auto taken = take_dead(*this, max, std::chrono::seconds(30));
  if (!taken) return taken.error();
  std::vector<DeadLetter> out;
  std::vector<std::pair<std::string, long>> release;
  for (const json& m : *taken) {
    out.push_back(dead_letter_of(m));
    release.emplace_back(string_field(m, "ReceiptHandle"), 0L);
  }
  std::vector<Error> failures;
  visibility_batches(*dead_letter_url_, release, failures);
  if (auto r = summarise("release", failures); !r) return r.error();
  return out;
}

Result<std::size_t> Queue::redrive(std::span<const std::string> ids, std::size_t max) {
  auto taken = take_dead(*this, ids.empty() ? max : std::max<std::size_t>(max, 1000), std::chrono::seconds(60));
  if (!taken) return taken.error();
  std::vector<Outgoing> out;
  std::vector<std::string> moved_receipts;
  std::vector<std::pair<std::string, long>> release;
  for (const json& m : *taken) {
    DeadLetter d = dead_letter_of(m);
    bool ours = d.origin.empty() || same_queue(d.origin, url_.url);
    bool chosen = ids.empty() ? out.size() < max
                              : std::find_if(ids.begin(), ids.end(), [&](const std::string& id) {
                                  return id == d.entry_id || id == d.id;
                                }) != ids.end();
    if (!ours || !chosen) {
      release.emplace_back(string_field(m, "ReceiptHandle"), 0L);
      continue;
    }
    Outgoing o;
    o.body = d.body;
    o.rid = d.id;
    if (fifo()) {
      std::string group = system_attribute(m, "MessageGroupId");
      o.group = group.empty() ? "redrive" : group;
      o.dedup = sha256_hex(string_field(m, "ReceiptHandle"));
    }
    out.push_back(std::move(o));
    moved_receipts.push_back(string_field(m, "ReceiptHandle"));
  }
  std::vector<Error> failures;
  std::vector<bool> sent;
  if (auto r = send_batches(url_.url, fifo(), out, sent); !r) failures.push_back(r.error());
  std::vector<std::string> remove;
  std::size_t moved = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (sent[i]) {
      remove.push_back(moved_receipts[i]);
      ++moved;
    } else {
      release.emplace_back(moved_receipts[i], 0L);
    }
  }
  delete_batches(*dead_letter_url_, remove, failures);
  visibility_batches(*dead_letter_url_, release, failures);
  if (auto r = summarise("redrive", failures); !r) return r.error();
  return moved;
}

// ---- inbox ------------------------------------------------------------------------

Result<void> QueueInbox::publish(std::span<const std::string> bodies) {
  // One request's inbox records are one JSON array; an array too large for one message
  // goes out as several, each a JSON array of whole records.
  const std::size_t limit = queue_.options().max_message_bytes > 2 * attribute_overhead
                                ? queue_.options().max_message_bytes - 2 * attribute_overhead
                                : 1;
  std::vector<std::string> out;
  for (const std::string& body : bodies) {
    if (body.size() <= limit) {
      out.push_back(body);
      continue;
    }
    auto records = json::parse(body, nullptr, false);
    if (!records.is_array() || records.size() < 2) {
      out.push_back(body);  // send() refuses it as too large
      continue;
    }
    std::string part = "[";
    for (const json& r : records) {
      std::string one = r.dump(-1, ' ', false, json::error_handler_t::replace);
      if (part.size() > 1 && part.size() + one.size() + 1 > limit) {
        out.push_back(part + "]");
        part = "[";
      }
      if (part.size() > 1) part += ',';
      part += one;
    }
    out.push_back(part + "]");
  }
  return queue_.send(out);
}

}  // namespace notify::sqs
