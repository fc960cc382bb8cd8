// One SRT connection (libsrt 1.5, live mode) served by its own native thread.
//
// The thread owns every libsrt call after construction: it resolves the
// address, connects (caller, rendezvous) or listens and accepts one peer at a
// time (listener), then sends from a bounded queue or receives, and samples
// srt_bstats on a timer. It reports through a Sink (the binding turns that
// into a ThreadSafeFunction), so nothing here touches JS.
#pragma once
#include <srt/srt.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fieldcast {

enum class SrtMode { kCaller, kListener, kRendezvous };
enum class SrtRole { kSend, kReceive };

// Flat, already validated in TypeScript (src/srt/options.ts). -1 = libsrt default.
struct SrtOptions {
  SrtMode mode = SrtMode::kCaller;
  SrtRole role = SrtRole::kSend;
  std::string host;        // remote host (caller/rendezvous) or bind address (listener); "" = any
  int port = 0;            // remote port, or the listening port
  std::string local_host;  // caller/rendezvous: local bind address ("" = any)
  int local_port = 0;      // caller/rendezvous: local port (0 = any; rendezvous defaults to port)
  bool ipv6 = false;       // prefer IPv6 when resolving (a [v6] literal in the URL)
  int latency_ms = -1;
  int rcv_latency_ms = -1;
  int peer_latency_ms = -1;
  std::string passphrase;  // "" = no encryption; never logged or reported
  int pbkeylen = 0;        // 0 = libsrt default; 16/24/32
  std::string stream_id;
  // listener: the stream ids it accepts (empty = any); others are refused with
  // SRT_REJX_NOTFOUND (access_control.h), which the caller sees as "stream id refused".
  std::vector<std::string> accept_stream_ids;
  int64_t max_bw = -2;  // bytes/s; -2 = libsrt default, -1 = unlimited, 0 = relative to input
  int64_t input_bw = -1;
  int overhead_bw = -1;  // percent
  int payload_size = 1316;
  int connect_timeout_ms = 3000;
  int peer_idle_timeout_ms = -1;
  int stats_interval_ms = 100;
  size_t send_queue_packets = 4096;
  size_t recv_pending_bytes = 8 << 20;  // data not yet taken by JS beyond this is dropped
};

// What the native thread reports. kind: "listening" | "connected" |
// "disconnected" | "failed" | "closed" | "stats" | "data".
struct SrtMessage {
  std::string kind;
  std::string code;     // disconnected/failed
  std::string message;  // disconnected/failed: words for an operator
  std::string peer;     // connected: "ip:port"
  std::string stream_id;
  int port = 0;  // listening
  int reject_reason = 0;
  SRT_TRACEBSTATS stats{};
  uint64_t queue_packets = 0, queue_bytes = 0, queue_dropped_packets = 0, queue_dropped_bytes = 0;
  uint64_t recv_dropped_bytes = 0;
  int interval_ms = 0;
  std::vector<uint8_t> data;
  // data: bytes handed to JS and not yet consumed; the binding subtracts once delivered.
  std::shared_ptr<std::atomic<size_t>> pending;
};

using SrtSink = std::function<void(std::unique_ptr<SrtMessage>)>;

class SrtConnection {
 public:
  SrtConnection(SrtOptions options, SrtSink sink);
  ~SrtConnection();
  SrtConnection(const SrtConnection&) = delete;
  SrtConnection& operator=(const SrtConnection&) = delete;

  void Start();
  // Queues `len` bytes as messages of at most payload_size. When the queue is
  // full the OLDEST messages are dropped and counted: live video wants the
  // newest data, and a stalled link must not grow memory or latency without
  // bound. Returns the number of messages dropped to make room.
  size_t Send(const uint8_t* data, size_t len);
  // Idempotent; returns once the thread has ended and every socket is closed.
  void Close();
  bool connected() const { return connected_.load(); }

 private:
  void Run();
  bool OpenSocket(SRTSOCKET* out);
  bool RunCaller();
  void RunListener();
  void Serve(SRTSOCKET s);
  // Both return true when the connection broke, false when asked to stop.
  bool SendLoop(SRTSOCKET s);
  bool RecvLoop(SRTSOCKET s);
  void EmitStats(SRTSOCKET s);
  void NotePeerCounters(const SRT_TRACEBSTATS& perf);
  void Emit(std::unique_ptr<SrtMessage> m);
  void Fail(const std::string& code, const std::string& message, int reason = 0);
  std::string DisconnectReason(SRTSOCKET s, std::string* code, const std::string& peer);
  std::string Target() const;
  static int ListenHook(void* opaque, SRTSOCKET ns, int hsversion, const sockaddr* peer, const char* streamid);

  SrtOptions opt_;
  SrtSink sink_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  std::shared_ptr<std::atomic<size_t>> recv_pending_;
  uint64_t recv_dropped_bytes_ = 0;
  std::mutex close_mutex_;
  bool closed_ = false;

  std::mutex q_mutex_;
  std::condition_variable q_cv_;
  std::deque<std::vector<uint8_t>> queue_;
  uint64_t queue_bytes_ = 0, dropped_packets_ = 0, dropped_bytes_ = 0;

  std::string remote_name_;  // caller/rendezvous: the resolved peer, "ip:port"
  int64_t next_stats_us_ = 0;
  int64_t last_heard_us_ = 0;  // last time the peer's ACKs/data counters moved
  int64_t last_peer_counter_ = -1;
};

// srt_startup once per process (idempotent, thread-safe).
void SrtStartupOnce();

}  // namespace fieldcast
