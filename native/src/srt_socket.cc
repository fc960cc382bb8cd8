#include "srt_socket.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <srt/access_control.h>
#include <srt/logging_api.h>
#include <sys/socket.h>
#include <syslog.h>

#include <algorithm>
#include <cstring>

#include "common.h"
#include "srt_reject.h"

namespace fieldcast {

namespace {

constexpr const char* kModule = "srt";
constexpr int kPollMs = 50;            // longest wait before the thread rechecks stop/state
constexpr size_t kRecvBatchBytes = 64 * 1024;  // data handed to JS per callback, at most

// libsrt's own lines (handshake problems, garbage packets) go to the logger,
// never to stderr. They carry addresses and reasons, never the passphrase.
// A flood of garbage datagrams makes one line each, so at most kLibLogBurst
// lines pass per second and the rest are counted.
constexpr int kLibLogBurst = 10;
std::mutex g_liblog_mutex;
int64_t g_liblog_window_us = 0;
int g_liblog_count = 0;
int g_liblog_suppressed = 0;

void LibLog(void*, int level, const char*, int, const char* area, const char* message) {
  int suppressed = 0;
  {
    std::lock_guard<std::mutex> lock(g_liblog_mutex);
    int64_t now = MonotonicMicros();
    if (now - g_liblog_window_us >= 1000000) {
      suppressed = g_liblog_suppressed;
      g_liblog_window_us = now;
      g_liblog_count = 0;
      g_liblog_suppressed = 0;
    }
    if (++g_liblog_count > kLibLogBurst) {
      g_liblog_suppressed++;
      return;
    }
  }
  if (suppressed > 0) {
    Log(LogLevel::kWarn, "srt.lib", std::to_string(suppressed) + " more lines suppressed in the last second");
  }
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  size_t lead = text.find_first_not_of(": ");
  text.erase(0, lead == std::string::npos ? text.size() : lead);
  Log(level <= LOG_ERR ? LogLevel::kWarn : LogLevel::kDebug, "srt.lib", text);
}

std::string FormatAddr(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
  }
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

int PortOf(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
  return 0;
}

// Resolves on this (native) thread: getaddrinfo may block on DNS.
bool Resolve(const std::string& host, int port, bool ipv6, bool passive, sockaddr_storage* out, socklen_t* len,
             std::string* err) {
  addrinfo hints{};
  hints.ai_family = ipv6 ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  std::string h = host;
  if (h.empty() && passive) h = ipv6 ? "::" : "0.0.0.0";
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(h.empty() ? nullptr : h.c_str(), service.c_str(), &hints, &res);
  if (rc != 0 || !res) {
    *err = "cannot resolve \"" + host + "\": " + gai_strerror(rc);
    return false;
  }
  // Prefer IPv4 unless IPv6 was asked for: most ingests listen on IPv4.
  addrinfo* pick = res;
  if (!ipv6) {
    for (addrinfo* a = res; a; a = a->ai_next) {
      if (a->ai_family == AF_INET) {
        pick = a;
        break;
      }
    }
  }
  std::memcpy(out, pick->ai_addr, pick->ai_addrlen);
  *len = pick->ai_addrlen;
  freeaddrinfo(res);
  return true;
}

template <typename T>
bool SetOpt(SRTSOCKET s, SRT_SOCKOPT opt, T value) {
  return srt_setsockflag(s, opt, &value, sizeof value) != SRT_ERROR;
}

std::string LastError() {
  const char* e = srt_getlasterror_str();
  return e ? e : "unknown error";
}

// One epoll set watching one socket for `events`; released on scope exit.
class Epoll {
 public:
  Epoll(SRTSOCKET s, int events) : eid_(srt_epoll_create()) {
    if (eid_ >= 0) srt_epoll_add_usock(eid_, s, &events);
  }
  ~Epoll() {
    if (eid_ >= 0) srt_epoll_release(eid_);
  }
  Epoll(const Epoll&) = delete;
  Epoll& operator=(const Epoll&) = delete;
  int get() const { return eid_; }
  // Waits up to `ms`; returns the events seen (0 on timeout).
  int Wait(int ms) const {
    SRT_EPOLL_EVENT ev[1];
    int n = srt_epoll_uwait(eid_, ev, 1, ms);
    return n > 0 ? ev[0].events : 0;
  }

 private:
  int eid_;
};

}  // namespace

void SrtStartupOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    srt_startup();
    srt_setloghandler(nullptr, LibLog);
    srt_setlogflags(SRT_LOGF_DISABLE_TIME | SRT_LOGF_DISABLE_THREADNAME | SRT_LOGF_DISABLE_SEVERITY |
                    SRT_LOGF_DISABLE_EOL);
    srt_setloglevel(LOG_ERR);
  });
}

SrtConnection::SrtConnection(SrtOptions options, SrtSink sink)
    : opt_(std::move(options)), sink_(std::move(sink)), recv_pending_(std::make_shared<std::atomic<size_t>>(0)) {
  SrtStartupOnce();
}

SrtConnection::~SrtConnection() { Close(); }

void SrtConnection::Start() {
  std::lock_guard<std::mutex> lock(close_mutex_);
  if (closed_ || thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

size_t SrtConnection::Send(const uint8_t* data, size_t len) {
  const size_t chunk = static_cast<size_t>(opt_.payload_size);
  std::lock_guard<std::mutex> lock(q_mutex_);
  size_t dropped = 0;
  for (size_t off = 0; off < len; off += chunk) {
    size_t n = std::min(chunk, len - off);
    if (!connected_.load()) {
      // Nobody to send to: the pipeline keeps producing, we count what is lost.
      dropped_packets_++;
      dropped_bytes_ += n;
      dropped++;
      continue;
    }
    if (queue_.size() >= opt_.send_queue_packets) {
      queue_bytes_ -= queue_.front().size();
      dropped_bytes_ += queue_.front().size();
      dropped_packets_++;
      dropped++;
      queue_.pop_front();
    }
    queue_.emplace_back(data + off, data + off + n);
    queue_bytes_ += n;
  }
  q_cv_.notify_one();
  return dropped;
}

void SrtConnection::Close() {
  std::lock_guard<std::mutex> lock(close_mutex_);
  if (closed_) return;
  closed_ = true;
  stop_.store(true);
  {
    std::lock_guard<std::mutex> q(q_mutex_);
    q_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void SrtConnection::Emit(std::unique_ptr<SrtMessage> m) { sink_(std::move(m)); }

void SrtConnection::Fail(const std::string& code, const std::string& message, int reason) {
  Log(LogLevel::kWarn, kModule, code + ": " + message);
  auto m = std::make_unique<SrtMessage>();
  m->kind = "failed";
  m->code = code;
  m->message = message;
  m->reject_reason = reason;
  Emit(std::move(m));
}

std::string SrtConnection::Target() const {
  return (opt_.host.find(':') != std::string::npos ? "[" + opt_.host + "]" : opt_.host) + ":" +
         std::to_string(opt_.port);
}

void SrtConnection::Run() {
  // Named, so the box's CPU can be told apart per thread (top -H, /proc/PID/task).
  pthread_setname_np(pthread_self(), "fieldcast-srt");
  if (opt_.mode == SrtMode::kListener) {
    RunListener();
  } else {
    RunCaller();
  }
  auto m = std::make_unique<SrtMessage>();
  m->kind = "closed";
  Emit(std::move(m));
}

bool SrtConnection::OpenSocket(SRTSOCKET* out) {
  SRTSOCKET s = srt_create_socket();
  if (s == SRT_INVALID_SOCK) {
    Fail("SRT_SOCKET_FAILED", "could not create an SRT socket: " + LastError());
    return false;
  }
  bool ok = SetOpt<int>(s, SRTO_TRANSTYPE, SRTT_LIVE) && SetOpt<bool>(s, SRTO_SNDSYN, false) &&
            SetOpt<bool>(s, SRTO_RCVSYN, false) && SetOpt<int>(s, SRTO_PAYLOADSIZE, opt_.payload_size) &&
            SetOpt<int>(s, SRTO_CONNTIMEO, opt_.connect_timeout_ms);
  // SRTO_SENDER only matters to HSv4 peers, but says who carries the stream.
  ok = ok && SetOpt<int>(s, SRTO_SENDER, opt_.role == SrtRole::kSend ? 1 : 0);
  if (ok && opt_.latency_ms >= 0) ok = SetOpt<int>(s, SRTO_LATENCY, opt_.latency_ms);
  if (ok && opt_.rcv_latency_ms >= 0) ok = SetOpt<int>(s, SRTO_RCVLATENCY, opt_.rcv_latency_ms);
  if (ok && opt_.peer_latency_ms >= 0) ok = SetOpt<int>(s, SRTO_PEERLATENCY, opt_.peer_latency_ms);
  if (ok && opt_.pbkeylen > 0) ok = SetOpt<int>(s, SRTO_PBKEYLEN, opt_.pbkeylen);
  if (ok && !opt_.passphrase.empty()) {
    ok = srt_setsockflag(s, SRTO_PASSPHRASE, opt_.passphrase.data(), static_cast<int>(opt_.passphrase.size())) !=
         SRT_ERROR;
  }
  if (ok && !opt_.stream_id.empty() && opt_.mode != SrtMode::kListener) {
    ok = srt_setsockflag(s, SRTO_STREAMID, opt_.stream_id.data(), static_cast<int>(opt_.stream_id.size())) !=
         SRT_ERROR;
  }
  if (ok && opt_.max_bw >= -1) ok = SetOpt<int64_t>(s, SRTO_MAXBW, opt_.max_bw);
  if (ok && opt_.input_bw >= 0) ok = SetOpt<int64_t>(s, SRTO_INPUTBW, opt_.input_bw);
  if (ok && opt_.overhead_bw >= 0) ok = SetOpt<int>(s, SRTO_OHEADBW, opt_.overhead_bw);
  if (ok && opt_.peer_idle_timeout_ms >= 0) ok = SetOpt<int>(s, SRTO_PEERIDLETIMEO, opt_.peer_idle_timeout_ms);
  if (ok && opt_.mode == SrtMode::kRendezvous) ok = SetOpt<bool>(s, SRTO_RENDEZVOUS, true);
  if (!ok) {
    // Options were validated in TypeScript; libsrt refusing one is still reported, without its value.
    Fail("SRT_OPTION_REJECTED", "libsrt refused an option: " + LastError());
    srt_close(s);
    return false;
  }
  *out = s;
  return true;
}

bool SrtConnection::RunCaller() {
  sockaddr_storage remote{}, local{};
  socklen_t rlen = 0, llen = 0;
  std::string err;
  if (!Resolve(opt_.host, opt_.port, opt_.ipv6, false, &remote, &rlen, &err)) {
    Fail("SRT_RESOLVE_FAILED", err);
    return false;
  }
  const bool rendezvous = opt_.mode == SrtMode::kRendezvous;
  const bool bind_local = rendezvous || !opt_.local_host.empty() || opt_.local_port > 0;
  if (bind_local) {
    int lport = opt_.local_port > 0 ? opt_.local_port : (rendezvous ? opt_.port : 0);
    std::string lhost = opt_.local_host.empty() ? (remote.ss_family == AF_INET6 ? "::" : "0.0.0.0") : opt_.local_host;
    if (!Resolve(lhost, lport, remote.ss_family == AF_INET6, true, &local, &llen, &err)) {
      Fail("SRT_RESOLVE_FAILED", err);
      return false;
    }
  }
  remote_name_ = FormatAddr(reinterpret_cast<sockaddr*>(&remote));
  SRTSOCKET s;
  if (!OpenSocket(&s)) return false;
  int rc;
  if (rendezvous) {
    rc = srt_rendezvous(s, reinterpret_cast<sockaddr*>(&local), llen, reinterpret_cast<sockaddr*>(&remote), rlen);
  } else if (bind_local) {
    rc = srt_connect_bind(s, reinterpret_cast<sockaddr*>(&local), reinterpret_cast<sockaddr*>(&remote), rlen);
  } else {
    rc = srt_connect(s, reinterpret_cast<sockaddr*>(&remote), rlen);
  }
  if (rc == SRT_ERROR) {
    Fail("SRT_CONNECT_FAILED", "could not start connecting to " + Target() + ": " + LastError());
    srt_close(s);
    return false;
  }
  Log(LogLevel::kDebug, kModule, "connecting to " + Target());
  // Non-blocking connect (SRTO_RCVSYN off): epoll says when it is done.
  Epoll ep(s, SRT_EPOLL_OUT | SRT_EPOLL_ERR);
  SRT_SOCKSTATUS st = srt_getsockstate(s);
  while (!stop_.load() && (st == SRTS_CONNECTING || st == SRTS_OPENED || st == SRTS_INIT)) {
    ep.Wait(kPollMs);
    st = srt_getsockstate(s);
  }
  if (stop_.load()) {
    srt_close(s);
    return false;
  }
  if (st != SRTS_CONNECTED) {
    auto f = DescribeConnectFailure(srt_getrejectreason(s), Target(), !opt_.passphrase.empty(),
                                    !opt_.stream_id.empty(), opt_.connect_timeout_ms);
    Fail(f.code, f.message, srt_getrejectreason(s));
    srt_close(s);
    return false;
  }
  Serve(s);
  return true;
}

void SrtConnection::RunListener() {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string err;
  if (!Resolve(opt_.host, opt_.port, opt_.ipv6, true, &addr, &len, &err)) {
    Fail("SRT_RESOLVE_FAILED", err);
    return;
  }
  SRTSOCKET ls;
  if (!OpenSocket(&ls)) return;
  // A wildcard IPv6 listener also takes IPv4 (dual stack); libsrt needs this set before bind.
  if (addr.ss_family == AF_INET6) SetOpt<int>(ls, SRTO_IPV6ONLY, opt_.host.empty() || opt_.host == "::" ? 0 : 1);
  if (srt_bind(ls, reinterpret_cast<sockaddr*>(&addr), len) == SRT_ERROR) {
    Fail("SRT_BIND_FAILED", "cannot listen on port " + std::to_string(opt_.port) + ": " + LastError() +
                                " (is another program using it?)");
    srt_close(ls);
    return;
  }
  srt_listen_callback(ls, &SrtConnection::ListenHook, this);
  if (srt_listen(ls, 4) == SRT_ERROR) {
    Fail("SRT_BIND_FAILED", "cannot listen on port " + std::to_string(opt_.port) + ": " + LastError());
    srt_close(ls);
    return;
  }
  sockaddr_storage bound{};
  int blen = sizeof bound;
  srt_getsockname(ls, reinterpret_cast<sockaddr*>(&bound), &blen);
  {
    auto m = std::make_unique<SrtMessage>();
    m->kind = "listening";
    m->port = PortOf(bound);
    Emit(std::move(m));
  }
  Log(LogLevel::kInfo, kModule, "listening on port " + std::to_string(PortOf(bound)));
  Epoll ep(ls, SRT_EPOLL_IN | SRT_EPOLL_ERR);
  while (!stop_.load()) {
    if (!(ep.Wait(kPollMs) & SRT_EPOLL_IN)) continue;
    sockaddr_storage peer{};
    int plen = sizeof peer;
    SRTSOCKET s = srt_accept(ls, reinterpret_cast<sockaddr*>(&peer), &plen);
    if (s == SRT_INVALID_SOCK) continue;
    Serve(s);
  }
  srt_close(ls);
}

// Accept one peer at a time: while one is connected, others are refused with
// SRT_REJX_CONFLICT (access_control.h: "resource already locked"), so a
// second sender learns at once instead of timing out.
int SrtConnection::ListenHook(void* opaque, SRTSOCKET ns, int, const sockaddr* peer, const char* streamid) {
  auto* self = static_cast<SrtConnection*>(opaque);
  const auto& allowed = self->opt_.accept_stream_ids;  // set before the thread started; read-only since
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), std::string(streamid ? streamid : "")) ==
                              allowed.end()) {
    Log(LogLevel::kWarn, kModule, "refused a caller from " + FormatAddr(peer) + ": unknown stream id");
    srt_setrejectreason(ns, SRT_REJX_NOTFOUND);
    return -1;
  }
  if (self->connected_.load()) {
    srt_setrejectreason(ns, SRT_REJX_CONFLICT);
    return -1;
  }
  return 0;
}

void SrtConnection::Serve(SRTSOCKET s) {
  auto m = std::make_unique<SrtMessage>();
  m->kind = "connected";
  sockaddr_storage peer{};
  int plen = sizeof peer;
  if (srt_getpeername(s, reinterpret_cast<sockaddr*>(&peer), &plen) != SRT_ERROR &&
      (peer.ss_family == AF_INET || peer.ss_family == AF_INET6)) {
    m->peer = FormatAddr(reinterpret_cast<sockaddr*>(&peer));
  } else {
    m->peer = remote_name_;  // a caller's own socket may not report it; we know whom we called
  }
  char sid[600] = {0};
  int sidlen = sizeof sid - 1;
  if (srt_getsockflag(s, SRTO_STREAMID, sid, &sidlen) != SRT_ERROR && sidlen > 0) m->stream_id.assign(sid, sidlen);
  Log(LogLevel::kInfo, kModule, "connected to " + m->peer);
  std::string peer_name = m->peer;
  last_heard_us_ = MonotonicMicros();
  last_peer_counter_ = -1;
  next_stats_us_ = MonotonicMicros() + opt_.stats_interval_ms * 1000;
  connected_.store(true);
  Emit(std::move(m));

  bool broken = opt_.role == SrtRole::kSend ? SendLoop(s) : RecvLoop(s);

  connected_.store(false);
  {
    std::lock_guard<std::mutex> lock(q_mutex_);
    for (auto& c : queue_) dropped_bytes_ += c.size();
    dropped_packets_ += queue_.size();
    queue_.clear();
    queue_bytes_ = 0;
  }
  if (broken && !stop_.load()) {
    auto d = std::make_unique<SrtMessage>();
    d->kind = "disconnected";
    d->message = DisconnectReason(s, &d->code, peer_name);
    Log(LogLevel::kWarn, kModule, d->code + ": " + d->message);
    Emit(std::move(d));
  }
  srt_close(s);
}

// libsrt marks a socket broken both when the peer sends SHUTDOWN and when it
// goes silent for SRTO_PEERIDLETIMEO (default 5 s); the two differ in how
// long ago we last heard from it.
std::string SrtConnection::DisconnectReason(SRTSOCKET s, std::string* code, const std::string& peer) {
  SRT_TRACEBSTATS perf{};
  if (srt_bstats(s, &perf, 0) != SRT_ERROR) NotePeerCounters(perf);
  int64_t silent_ms = (MonotonicMicros() - last_heard_us_) / 1000;
  int idle_ms = opt_.peer_idle_timeout_ms > 0 ? opt_.peer_idle_timeout_ms : 5000;
  if (silent_ms >= idle_ms * 3 / 4) {
    *code = "SRT_CONNECTION_LOST";
    return "no answer from " + peer + " for " + std::to_string(silent_ms / 1000) + " s; the connection was dropped";
  }
  *code = "SRT_PEER_CLOSED";
  return peer + " closed the connection";
}

void SrtConnection::NotePeerCounters(const SRT_TRACEBSTATS& perf) {
  int64_t heard = perf.pktRecvTotal + perf.pktRecvACKTotal + perf.pktRecvNAKTotal;
  if (heard != last_peer_counter_) {
    last_peer_counter_ = heard;
    last_heard_us_ = MonotonicMicros();
  }
}

bool SrtConnection::SendLoop(SRTSOCKET s) {
  Epoll ep(s, SRT_EPOLL_OUT | SRT_EPOLL_ERR);
  std::vector<uint8_t> pending;
  bool have = false;
  while (!stop_.load()) {
    int64_t now = MonotonicMicros();
    if (now >= next_stats_us_) EmitStats(s);
    if (srt_getsockstate(s) != SRTS_CONNECTED) return true;
    int wait_ms = static_cast<int>(std::clamp<int64_t>((next_stats_us_ - now) / 1000, 1, kPollMs));
    if (!have) {
      std::unique_lock<std::mutex> lock(q_mutex_);
      if (queue_.empty()) {
        q_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return !queue_.empty() || stop_.load(); });
      }
      if (queue_.empty()) continue;
      pending = std::move(queue_.front());
      queue_.pop_front();
      queue_bytes_ -= pending.size();
      have = true;
    }
    int rc = srt_sendmsg2(s, reinterpret_cast<const char*>(pending.data()), static_cast<int>(pending.size()), nullptr);
    if (rc != SRT_ERROR) {
      have = false;
      continue;
    }
    int err = srt_getlasterror(nullptr);
    if (err == SRT_EASYNCSND) {
      ep.Wait(wait_ms);  // libsrt's send buffer is full: wait until it is writable
      continue;
    }
    return true;  // SRT_ECONNLOST and friends
  }
  return false;
}

bool SrtConnection::RecvLoop(SRTSOCKET s) {
  Epoll ep(s, SRT_EPOLL_IN | SRT_EPOLL_ERR);
  std::vector<uint8_t> batch;
  char buf[1500];
  while (!stop_.load()) {
    int64_t now = MonotonicMicros();
    if (now >= next_stats_us_) EmitStats(s);
    int wait_ms = static_cast<int>(std::clamp<int64_t>((next_stats_us_ - now) / 1000, 1, kPollMs));
    int ev = ep.Wait(wait_ms);
    if (ev & SRT_EPOLL_IN) {
      for (;;) {
        int n = srt_recvmsg2(s, buf, sizeof buf, nullptr);
        if (n > 0) {
          batch.insert(batch.end(), buf, buf + n);
          if (batch.size() < kRecvBatchBytes) continue;
        }
        if (!batch.empty()) {
          if (recv_pending_->load() + batch.size() > opt_.recv_pending_bytes) {
            recv_dropped_bytes_ += batch.size();  // JS is not keeping up: drop rather than grow
          } else {
            recv_pending_->fetch_add(batch.size());
            auto m = std::make_unique<SrtMessage>();
            m->kind = "data";
            m->data = std::move(batch);
            m->pending = recv_pending_;
            Emit(std::move(m));
          }
          batch = {};
        }
        if (n <= 0) break;
      }
    }
    SRT_SOCKSTATUS st = srt_getsockstate(s);
    if (st != SRTS_CONNECTED) return true;
  }
  return false;
}

void SrtConnection::EmitStats(SRTSOCKET s) {
  auto m = std::make_unique<SrtMessage>();
  m->kind = "stats";
  // clear=1: the interval counters (pktSent, pktSndLoss, ...) cover the time since the last sample.
  if (srt_bstats(s, &m->stats, 1) == SRT_ERROR) return;
  NotePeerCounters(m->stats);
  int64_t now = MonotonicMicros();
  m->interval_ms = static_cast<int>((now - (next_stats_us_ - opt_.stats_interval_ms * 1000)) / 1000);
  next_stats_us_ = now + opt_.stats_interval_ms * 1000;
  {
    std::lock_guard<std::mutex> lock(q_mutex_);
    m->queue_packets = queue_.size();
    m->queue_bytes = queue_bytes_;
    m->queue_dropped_packets = dropped_packets_;
    m->queue_dropped_bytes = dropped_bytes_;
  }
  m->recv_dropped_bytes = recv_dropped_bytes_;
  Emit(std::move(m));
}

}  // namespace fieldcast
