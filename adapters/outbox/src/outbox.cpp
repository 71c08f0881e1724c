// SPDX-License-Identifier: MIT
// The outbox's file I/O: the lock, reading and appending the journal, acknowledgements,
// compaction (a new file renamed over the old one), and the relay.

#include "notify/outbox/outbox.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace notify::outbox {

namespace {

std::string errno_text(int e) { return std::strerror(e); }

/// Writes all of `data` at `offset`; the errno of a failure (0: written).
int write_all(int fd, std::string_view data, std::uint64_t offset) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return 0;
}

/// The whole file at `fd`, or the errno of a failure.
int read_all(int fd, std::string& out) {
  out.clear();
  char buf[1 << 16];
  std::uint64_t at = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(at));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    out.append(buf, static_cast<std::size_t>(n));
    at += static_cast<std::uint64_t>(n);
  }
}

int sync_dir(const std::string& dir) {
  const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) return errno;
  const int r = ::fsync(d) == 0 ? 0 : errno;
  ::close(d);
  return r;
}

int data_sync(int fd) {
  for (;;) {
    if (::fdatasync(fd) == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

}  // namespace

std::int64_t now_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string redact(std::string_view queue) {
  const auto scheme = queue.find("://");
  if (scheme == std::string_view::npos) return std::string(queue);
  const auto host = scheme + 3;
  const auto path = queue.find('/', host);
  const auto at = queue.substr(0, path).rfind('@');
  if (at == std::string_view::npos || at < host) return std::string(queue);
  return std::string(queue.substr(0, host)) + std::string(queue.substr(at + 1));
}

struct Outbox::State {
  std::string dir, path;
  Options options;
  int fd = -1, lock_fd = -1;

  mutable std::mutex m;
  std::condition_variable cv;
  std::deque<Entry> pending;
  std::uint64_t end = 0;        // the journal's size: where the next record goes
  std::uint64_t next_seq = 1;
  std::uint64_t pending_bytes = 0;
  std::uint64_t written_gen = 0, synced_gen = 0;  // Sync::group: appends written / on disk
  bool syncing = false;
  std::optional<Error> broken;  // set by a failed fdatasync: appends refused from then on
  Stats counters;

  std::mutex relay_m;  // one relay at a time

  ~State() {
    if (fd >= 0) ::close(fd);
    if (lock_fd >= 0) ::close(lock_fd);  // releases the flock
  }

  Error fail(Errc code, const std::string& message) const { return Error{code, "outbox " + dir + ": " + message, path}; }

  /// Appends one acknowledgement and syncs it; called with m held.
  Result<void> write_ack(std::uint64_t seq) {
    const std::string rec = encode_ack(seq);
    if (int e = write_all(fd, rec, end); e != 0) {
      (void)::ftruncate(fd, static_cast<off_t>(end));
      return fail(Errc::io_error, "cannot journal an acknowledgement: " + errno_text(e));
    }
    end += rec.size();
    if (int e = data_sync(fd); e != 0) return fail(Errc::io_error, "fdatasync: " + errno_text(e));
    return {};
  }

  /// Rewrites the journal with what waits; called with m held and no sync running.
  Result<void> compact_locked() {
    const std::string tmp = path + ".tmp";
    std::string bytes(file_magic);
    std::vector<std::uint64_t> offsets;
    for (const Entry& e : pending) {
      offsets.push_back(bytes.size());
      bytes += encode_entry(e);
    }
    const int t = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (t < 0) return fail(Errc::io_error, "compaction: cannot create " + tmp + ": " + errno_text(errno));
    int e = write_all(t, bytes, 0);
    if (e == 0) e = data_sync(t);
    if (e == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) e = errno;
    if (e != 0) {
      ::close(t);
      ::unlink(tmp.c_str());
      return fail(Errc::io_error, "compaction: " + errno_text(e) + " (the journal is unchanged)");
    }
    // The rename is in the directory: sync it so the new file is what a restart finds.
    (void)sync_dir(dir);
    ::close(fd);
    fd = t;
    end = bytes.size();
    for (std::size_t i = 0; i < pending.size(); ++i) pending[i].offset = offsets[i];
    return {};
  }

  /// Compacts when nothing waits (and there are acknowledged records), or when more
  /// than half the journal (and at least 1 MiB) is acknowledged; called with m held.
  void maybe_compact() {
    const std::uint64_t head = pending.empty() ? end : pending.front().offset;
    const std::uint64_t dead = head - file_magic.size();
    if (dead == 0) return;
    if (!pending.empty() && (dead < (1u << 20) || dead * 2 < end)) return;
    std::unique_lock lock(m, std::adopt_lock);
    cv.wait(lock, [&] { return !syncing; });
    lock.release();
    (void)compact_locked();  // a failure leaves the old journal, still correct
  }
};

Outbox::Outbox(std::unique_ptr<State> s) : s_(std::move(s)) {}
Outbox::Outbox(Outbox&&) noexcept = default;
Outbox& Outbox::operator=(Outbox&&) noexcept = default;
Outbox::~Outbox() = default;

const std::string& Outbox::dir() const noexcept { return s_->dir; }

Result<Outbox> Outbox::open(const std::string& dir, const Options& options) {
  auto s = std::make_unique<State>();
  s->dir = dir;
  s->path = dir + "/journal";
  s->options = options;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Error{Errc::io_error, "outbox " + dir + ": cannot create the directory: " + errno_text(errno), dir};

  const std::string lock_path = dir + "/lock";
  s->lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (s->lock_fd < 0) return s->fail(Errc::io_error, "cannot open " + lock_path + ": " + errno_text(errno));
  const auto deadline = std::chrono::steady_clock::now() + options.lock_wait;
  while (::flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) return s->fail(Errc::io_error, "cannot lock " + lock_path + ": " + errno_text(errno));
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string holder;
      (void)read_all(s->lock_fd, holder);
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      return s->fail(Errc::unavailable,
                     "in use by another process" + (holder.empty() ? std::string() : " (pid " + holder + ")") +
                         "; one process at a time writes an outbox");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(s->lock_fd, 0) == 0) (void)write_all(s->lock_fd, pid, 0);

  s->fd = ::open(s->path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (s->fd < 0) return s->fail(Errc::io_error, "cannot open " + s->path + ": " + errno_text(errno));
  std::string bytes;
  if (int e = read_all(s->fd, bytes); e != 0) return s->fail(Errc::io_error, "cannot read " + s->path + ": " + errno_text(e));
  Scan found = scan(bytes);
  if (found.bad_header) return s->fail(Errc::protocol_error, s->path + " is not an outbox journal (left as it is)");

  if (found.valid_end == 0) {
    // A new journal (or one whose creation was cut short): write its header.
    if (::ftruncate(s->fd, 0) != 0) return s->fail(Errc::io_error, "cannot truncate: " + errno_text(errno));
    if (int e = write_all(s->fd, file_magic, 0); e != 0) return s->fail(Errc::io_error, "cannot write: " + errno_text(e));
    if (int e = data_sync(s->fd); e != 0) return s->fail(Errc::io_error, "fdatasync: " + errno_text(e));
    (void)sync_dir(dir);
    found.valid_end = file_magic.size();
  } else if (found.torn_bytes > 0) {
    // A torn tail: the end of an append a crash cut short, never acknowledged. Cut it.
    if (::ftruncate(s->fd, static_cast<off_t>(found.valid_end)) != 0 || data_sync(s->fd) != 0)
      return s->fail(Errc::io_error, "cannot cut the torn tail: " + errno_text(errno));
  }
  s->end = found.valid_end;
  s->next_seq = std::max(found.last_seq, found.acked_through) + 1;
  s->counters.damaged_records = found.damaged.size();
  s->counters.torn_bytes = found.torn_bytes;
  for (Entry& e : found.entries) {
    s->pending_bytes += e.body.size();
    s->pending.push_back(std::move(e));
  }
  return Outbox(std::move(s));
}

Result<Scan> Outbox::inspect(const std::string& dir) {
  const std::string path = dir + "/journal";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Scan{};
    return Error{Errc::io_error, "outbox " + dir + ": cannot open " + path + ": " + errno_text(errno), path};
  }
  std::string bytes;
  const int e = read_all(fd, bytes);
  ::close(fd);
  if (e != 0) return Error{Errc::io_error, "outbox " + dir + ": cannot read " + path + ": " + errno_text(e), path};
  Scan found = scan(bytes);
  if (found.bad_header) return Error{Errc::protocol_error, "outbox " + dir + ": " + path + " is not an outbox journal", path};
  return found;
}

Result<void> Outbox::append(const Destination& to, std::span<const std::string> bodies) {
  if (bodies.empty()) return {};
  State& s = *s_;
  if (to.queue.size() > 0xffff) return s.fail(Errc::configuration, "a queue name longer than 65535 bytes");
  std::unique_lock lock(s.m);
  if (s.broken) return *s.broken;
  std::uint64_t need = 0;
  for (const std::string& b : bodies) need += record_header_bytes + 20 + to.queue.size() + b.size();
  if (s.end + need > s.options.max_bytes) {
    // Acknowledged records take room until a compaction: make it before refusing.
    const std::uint64_t head = s.pending.empty() ? s.end : s.pending.front().offset;
    if (head > file_magic.size()) {
      s.cv.wait(lock, [&] { return !s.syncing; });
      if (s.broken) return *s.broken;
      (void)s.compact_locked();  // a failure leaves the old journal; the bound check says the rest
    }
  }
  const std::int64_t at = now_ms();
  std::string buf;
  std::vector<Entry> added;
  added.reserve(bodies.size());
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    if (bodies[i].size() + to.queue.size() + 32 > max_record_bytes)
      return s.fail(Errc::body_too_large, "a request of " + std::to_string(bodies[i].size()) + " bytes (nothing stored)");
    Entry e{s.next_seq + i, at, to.priority, to.queue, bodies[i], s.end + buf.size()};
    buf += encode_entry(e);
    added.push_back(std::move(e));
  }
  if (s.end + buf.size() > s.options.max_bytes)
    return s.fail(Errc::too_many_items,
                  "full: " + std::to_string(s.end) + " of " + std::to_string(s.options.max_bytes) + " bytes used by " +
                      std::to_string(s.pending.size()) + " waiting request(s); " + std::to_string(bodies.size()) +
                      " more do not fit (nothing stored; relay the outbox or raise its limit)");
  if (int e = write_all(s.fd, buf, s.end); e != 0) {
    // A short write (disk full, RLIMIT_FSIZE): cut it off, so nothing of this call stays.
    (void)::ftruncate(s.fd, static_cast<off_t>(s.end));
    return s.fail(Errc::io_error, "cannot append: " + errno_text(e) + " (nothing stored)");
  }
  s.end += buf.size();
  s.next_seq += bodies.size();
  for (Entry& e : added) {
    s.pending_bytes += e.body.size();
    s.pending.push_back(std::move(e));
  }
  s.counters.appended += bodies.size();

  switch (s.options.sync) {
    case Sync::os: return {};
    case Sync::each:
      if (int e = data_sync(s.fd); e != 0) {
        s.broken = s.fail(Errc::io_error, "fdatasync failed: " + errno_text(e) + "; no more appends until reopened");
        return *s.broken;
      }
      return {};
    case Sync::group: break;
  }
  // Group commit: whoever finds no sync running syncs everything written so far.
  const std::uint64_t mine = ++s.written_gen;
  while (s.synced_gen < mine) {
    if (s.broken) return *s.broken;
    if (s.syncing) {
      s.cv.wait(lock);
      continue;
    }
    s.syncing = true;
    if (s.options.group_window.count() > 0) {
      lock.unlock();
      std::this_thread::sleep_for(s.options.group_window);
      lock.lock();
    }
    const std::uint64_t target = s.written_gen;
    const int fd = s.fd;
    lock.unlock();
    const int e = data_sync(fd);
    lock.lock();
    s.syncing = false;
    if (e == 0) s.synced_gen = target;
    else s.broken = s.fail(Errc::io_error, "fdatasync failed: " + errno_text(e) + "; no more appends until reopened");
    s.cv.notify_all();
  }
  return {};
}

Result<void> Outbox::flush() {
  std::lock_guard lock(s_->m);
  if (int e = data_sync(s_->fd); e != 0) return s_->fail(Errc::io_error, "fdatasync: " + errno_text(e));
  return {};
}

RelayResult Outbox::relay(const Sender& send, std::size_t max_batch, std::size_t max_requests) {
  State& s = *s_;
  std::lock_guard relay_lock(s.relay_m);
  RelayResult result;
  max_batch = std::max<std::size_t>(max_batch, 1);
  while (result.relayed < max_requests) {
    Destination to;
    std::vector<std::string> bodies;
    std::uint64_t last = 0;
    {
      std::lock_guard lock(s.m);
      if (s.pending.empty()) break;
      const Entry& first = s.pending.front();
      to = {first.queue, first.priority};
      const std::size_t limit = std::min(max_batch, max_requests - result.relayed);
      for (const Entry& e : s.pending) {
        if (bodies.size() == limit || e.queue != to.queue || e.priority != to.priority) break;
        bodies.push_back(e.body);
        last = e.seq;
      }
    }
    if (auto r = send(to, bodies); !r) {
      std::lock_guard lock(s.m);
      ++s.counters.relay_failures;
      result.error = r.error();
      break;
    }
    std::unique_lock lock(s.m);
    while (!s.pending.empty() && s.pending.front().seq <= last) {
      s.pending_bytes -= s.pending.front().body.size();
      s.pending.pop_front();
    }
    s.counters.relayed += bodies.size();
    result.relayed += bodies.size();
    // Sent: even if the acknowledgement cannot be journalled they are not sent again by
    // this process (after a restart they would be, and the worker's idempotency keeps one).
    if (auto r = s.write_ack(last); !r) {
      result.error = r.error();
      break;
    }
    lock.release();
    s.maybe_compact();
    s.m.unlock();
  }
  return result;
}

Result<std::vector<Entry>> Outbox::discard_through(std::uint64_t seq) {
  State& s = *s_;
  std::lock_guard relay_lock(s.relay_m);
  std::unique_lock lock(s.m);
  std::vector<Entry> removed;
  for (const Entry& e : s.pending) {
    if (e.seq > seq) break;
    removed.push_back(e);
  }
  if (removed.empty()) return removed;
  if (auto r = s.write_ack(removed.back().seq); !r) return r.error();
  for (std::size_t i = 0; i < removed.size(); ++i) {
    s.pending_bytes -= s.pending.front().body.size();
    s.pending.pop_front();
  }
  lock.release();
  s.maybe_compact();
  s.m.unlock();
  return removed;
}

std::vector<Entry> Outbox::pending() const {
  std::lock_guard lock(s_->m);
  return {s_->pending.begin(), s_->pending.end()};
}

Stats Outbox::stats() const {
  std::lock_guard lock(s_->m);
  Stats st = s_->counters;
  st.depth = s_->pending.size();
  st.pending_bytes = s_->pending_bytes;
  st.file_bytes = s_->end;
  st.oldest_enqueued_ms = s_->pending.empty() ? -1 : s_->pending.front().enqueued_ms;
  return st;
}

Result<void> Outbox::compact() {
  std::unique_lock lock(s_->m);
  s_->cv.wait(lock, [&] { return !s_->syncing; });
  return s_->compact_locked();
}

void relay_loop(Outbox& box, const Sender& send, std::stop_token stop, const RelayLoopOptions& options,
                const std::function<void(const RelayResult&)>& on_result) {
  std::mutex m;
  std::condition_variable_any cv;
  auto backoff = options.interval;
  while (!stop.stop_requested()) {
    const RelayResult r = box.relay(send, options.max_batch);
    if (on_result && (r.relayed > 0 || r.error)) on_result(r);
    std::chrono::milliseconds wait = options.interval;
    if (r.error) {
      wait = backoff;
      backoff = std::min(backoff * 2, options.max_backoff);
    } else {
      backoff = options.interval;
    }
    std::unique_lock lock(m);
    cv.wait_for(lock, stop, wait, [] { return false; });
  }
}

}  // namespace notify::outbox
