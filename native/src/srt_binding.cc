// JS face of SrtConnection: the `SrtSocket` class (declared in src/native/srt.ts).
//
//   new SrtSocket(options, onMessage)  options are flat and already validated
//   .start()                           starts the native thread
//   .send(buf) -> number               messages dropped to make room (or because not connected)
//   .close()                           idempotent; joins the thread
//   .connected                         boolean
//
// Every report (listening, connected, disconnected, failed, closed, stats,
// data) reaches `onMessage` through one ThreadSafeFunction, so they arrive in
// the order the native thread produced them.
#include <napi.h>

#include <memory>

#include "common.h"
#include "registry.h"
#include "srt_socket.h"

namespace fieldcast {

namespace {

int IntOpt(const Napi::Object& o, const char* key, int def) {
  auto v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : def;
}

int64_t Int64Opt(const Napi::Object& o, const char* key, int64_t def) {
  auto v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : def;
}

std::string StrOpt(const Napi::Object& o, const char* key) {
  auto v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

SrtOptions ReadOptions(const Napi::Object& o) {
  SrtOptions opt;
  std::string mode = StrOpt(o, "mode");
  if (mode == "listener") {
    opt.mode = SrtMode::kListener;
  } else if (mode == "rendezvous") {
    opt.mode = SrtMode::kRendezvous;
  } else if (mode == "caller") {
    opt.mode = SrtMode::kCaller;
  } else {
    throw Napi::TypeError::New(o.Env(), "SrtSocket: mode must be caller, listener or rendezvous");
  }
  opt.role = StrOpt(o, "role") == "receive" ? SrtRole::kReceive : SrtRole::kSend;
  opt.host = StrOpt(o, "host");
  opt.port = IntOpt(o, "port", 0);
  opt.local_host = StrOpt(o, "localHost");
  opt.local_port = IntOpt(o, "localPort", 0);
  opt.ipv6 = o.Get("ipv6").ToBoolean().Value();
  opt.latency_ms = IntOpt(o, "latencyMs", -1);
  opt.rcv_latency_ms = IntOpt(o, "rcvLatencyMs", -1);
  opt.peer_latency_ms = IntOpt(o, "peerLatencyMs", -1);
  opt.passphrase = StrOpt(o, "passphrase");
  opt.pbkeylen = IntOpt(o, "pbkeylen", 0);
  opt.stream_id = StrOpt(o, "streamId");
  auto accept = o.Get("acceptStreamIds");
  if (accept.IsArray()) {
    auto arr = accept.As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) {
      auto v = arr.Get(i);
      if (v.IsString()) opt.accept_stream_ids.push_back(v.As<Napi::String>().Utf8Value());
    }
  }
  opt.max_bw = Int64Opt(o, "maxBw", -2);
  opt.input_bw = Int64Opt(o, "inputBw", -1);
  opt.overhead_bw = IntOpt(o, "overheadBw", -1);
  opt.payload_size = IntOpt(o, "payloadSize", 1316);
  opt.connect_timeout_ms = IntOpt(o, "connectTimeoutMs", 3000);
  opt.peer_idle_timeout_ms = IntOpt(o, "peerIdleTimeoutMs", -1);
  opt.stats_interval_ms = IntOpt(o, "statsIntervalMs", 100);
  opt.send_queue_packets = static_cast<size_t>(IntOpt(o, "sendQueuePackets", 4096));
  if (opt.port < 0 || opt.port > 65535 || opt.payload_size < 188 || opt.payload_size > 1456 ||
      opt.stats_interval_ms < 10 || opt.send_queue_packets < 1) {
    throw Napi::RangeError::New(o.Env(), "SrtSocket: options out of range (validate them in src/srt first)");
  }
  return opt;
}

Napi::Object StatsToJs(Napi::Env env, const SrtMessage& m) {
  const SRT_TRACEBSTATS& s = m.stats;
  auto o = Napi::Object::New(env);
  auto num = [&](const char* k, double v) { o.Set(k, Napi::Number::New(env, v)); };
  num("intervalMs", m.interval_ms);
  num("msRTT", s.msRTT);
  num("mbpsBandwidth", s.mbpsBandwidth);
  num("mbpsSendRate", s.mbpsSendRate);
  num("mbpsRecvRate", s.mbpsRecvRate);
  num("mbpsMaxBW", s.mbpsMaxBW);
  num("byteAvailSndBuf", s.byteAvailSndBuf);
  num("byteAvailRcvBuf", s.byteAvailRcvBuf);
  num("msSndBuf", s.msSndBuf);
  num("pktSndBuf", s.pktSndBuf);
  num("byteSndBuf", s.byteSndBuf);
  num("msRcvBuf", s.msRcvBuf);
  num("pktRcvBuf", s.pktRcvBuf);
  num("msSndTsbPdDelay", s.msSndTsbPdDelay);
  num("msRcvTsbPdDelay", s.msRcvTsbPdDelay);
  num("pktFlightSize", s.pktFlightSize);
  num("pktSent", static_cast<double>(s.pktSent));
  num("pktSentUnique", static_cast<double>(s.pktSentUnique));
  num("pktRecv", static_cast<double>(s.pktRecv));
  num("pktSndLoss", s.pktSndLoss);
  num("pktRcvLoss", s.pktRcvLoss);
  num("pktRetrans", s.pktRetrans);
  num("pktSndDrop", s.pktSndDrop);
  num("pktRcvDrop", s.pktRcvDrop);
  num("byteSent", static_cast<double>(s.byteSent));
  num("byteRecv", static_cast<double>(s.byteRecv));
  num("pktSentTotal", static_cast<double>(s.pktSentTotal));
  num("pktSentUniqueTotal", static_cast<double>(s.pktSentUniqueTotal));
  num("pktRecvTotal", static_cast<double>(s.pktRecvTotal));
  num("pktSndLossTotal", s.pktSndLossTotal);
  num("pktRcvLossTotal", s.pktRcvLossTotal);
  num("pktRetransTotal", s.pktRetransTotal);
  num("pktRecvACKTotal", s.pktRecvACKTotal);
  num("pktRecvNAKTotal", s.pktRecvNAKTotal);
  num("pktSndDropTotal", s.pktSndDropTotal);
  num("pktRcvDropTotal", s.pktRcvDropTotal);
  num("pktRcvUndecryptTotal", s.pktRcvUndecryptTotal);
  num("byteSentTotal", static_cast<double>(s.byteSentTotal));
  num("byteRecvTotal", static_cast<double>(s.byteRecvTotal));
  num("queuePackets", static_cast<double>(m.queue_packets));
  num("queueBytes", static_cast<double>(m.queue_bytes));
  num("queueDroppedPackets", static_cast<double>(m.queue_dropped_packets));
  num("queueDroppedBytes", static_cast<double>(m.queue_dropped_bytes));
  num("recvDroppedBytes", static_cast<double>(m.recv_dropped_bytes));
  return o;
}

Napi::Object MessageToJs(Napi::Env env, SrtMessage& m) {
  auto o = Napi::Object::New(env);
  o.Set("type", m.kind);
  if (m.kind == "data") {
    o.Set("data", Napi::Buffer<uint8_t>::Copy(env, m.data.data(), m.data.size()));
  } else if (m.kind == "stats") {
    o.Set("stats", StatsToJs(env, m));
  } else if (m.kind == "listening") {
    o.Set("port", m.port);
  } else if (m.kind == "connected") {
    o.Set("peer", m.peer);
    o.Set("streamId", m.stream_id);
  } else if (m.kind == "failed" || m.kind == "disconnected") {
    o.Set("code", m.code);
    o.Set("message", m.message);
    if (m.kind == "failed") o.Set("rejectReason", m.reject_reason);
  }
  return o;
}

class SrtSocketWrap : public Napi::ObjectWrap<SrtSocketWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "SrtSocket",
                       {InstanceMethod("start", &SrtSocketWrap::Start), InstanceMethod("send", &SrtSocketWrap::Send),
                        InstanceMethod("close", &SrtSocketWrap::Close),
                        InstanceAccessor("connected", &SrtSocketWrap::Connected, nullptr)});
  }

  explicit SrtSocketWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SrtSocketWrap>(info) {
    auto env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      throw Napi::TypeError::New(env, "SrtSocket(options, onMessage)");
    }
    SrtOptions opt = ReadOptions(info[0].As<Napi::Object>());
    auto tsfn = std::make_shared<Napi::ThreadSafeFunction>();
    conn_ = std::make_shared<SrtConnection>(std::move(opt), [tsfn](std::unique_ptr<SrtMessage> m) {
      // Unbounded TSFN queue and NonBlockingCall: the native thread never waits
      // on JS (close() joins it from the JS thread). Data is bounded upstream.
      auto st = tsfn->NonBlockingCall(m.get(), [](Napi::Env env, Napi::Function fn, SrtMessage* raw) {
        std::unique_ptr<SrtMessage> owned(raw);
        if (owned->pending) owned->pending->fetch_sub(owned->data.size());
        if (env == nullptr || fn == nullptr) return;
        try {
          fn.Call({MessageToJs(env, *owned)});
        } catch (const Napi::Error& e) {
          e.ThrowAsJavaScriptException();  // surfaces as an uncaught exception, as from any socket callback
        }
      });
      if (st == napi_ok) {
        m.release();
      } else if (m->pending) {
        m->pending->fetch_sub(m->data.size());
      }
    });
    // The thread only calls the TSFN after start(), so filling it in now is safe.
    // Its finalizer also runs when Node tears the environment down with the
    // socket still open: it stops the native thread before the TSFN is freed.
    auto gone = tsfn_gone_;
    *tsfn = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "fieldcast-srt", 0, 1,
                                          [conn = conn_, gone](Napi::Env) {
                                            conn->Close();
                                            *gone = true;
                                          });
    // An unstarted socket must not keep the process alive; start() takes a reference.
    tsfn->Unref(env);
    tsfn_ = tsfn;
  }

  ~SrtSocketWrap() override { Shutdown(); }

 private:
  void Shutdown() {
    if (!conn_) return;
    conn_->Close();  // joins: no more calls into the TSFN after this
    conn_.reset();
    if (!*tsfn_gone_) tsfn_->Release();
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (!conn_) throw Napi::Error::New(info.Env(), "SrtSocket: closed");
    if (!started_) tsfn_->Ref(info.Env());
    started_ = true;
    conn_->Start();
    return info.Env().Undefined();
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray()) throw Napi::TypeError::New(env, "SrtSocket.send(Uint8Array)");
    auto arr = info[0].As<Napi::Uint8Array>();
    if (!conn_) return Napi::Number::New(env, 0);
    size_t dropped = conn_->Send(arr.Data(), arr.ByteLength());
    return Napi::Number::New(env, static_cast<double>(dropped));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  Napi::Value Connected(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), conn_ && conn_->connected());
  }

  std::shared_ptr<Napi::ThreadSafeFunction> tsfn_;
  std::shared_ptr<bool> tsfn_gone_ = std::make_shared<bool>(false);  // set by the TSFN finalizer (JS thread)
  std::shared_ptr<SrtConnection> conn_;
  bool started_ = false;
};

Napi::Value SrtVersion(const Napi::CallbackInfo& info) {
  uint32_t v = srt_getversion();
  return Napi::String::New(info.Env(), std::to_string(v >> 16) + "." + std::to_string((v >> 8) & 0xff) + "." +
                                           std::to_string(v & 0xff));
}

void InitSrt(Napi::Env env, Napi::Object exports) {
  exports.Set("SrtSocket", SrtSocketWrap::Define(env));
  exports.Set("srtVersion", Napi::Function::New(env, SrtVersion));
}

}  // namespace

FIELDCAST_REGISTER(Srt, InitSrt);

}  // namespace fieldcast
