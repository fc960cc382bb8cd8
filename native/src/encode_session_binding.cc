// JS face of the encode session: new EncodeSession(options, onMessage),
// start(), setVideoBitrate(bps), forceKeyframe(), stats(), thumbnail(), close() -> Promise.
// Messages reach onMessage on the JS thread through one ThreadSafeFunction
// that drains the bounded queue (unit_queue.h); native threads never touch JS.
#include <napi.h>

#include <cctype>
#include <memory>
#include <vector>

#include "encode_session.h"
#include "registry.h"

namespace fieldcast {

namespace {

std::string Str(const Napi::Object& o, const char* key, const std::string& def) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return def;
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("session option ") + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

double Num(const Napi::Object& o, const char* key, double def, double min, double max) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return def;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("session option ") + key + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max)) {
    throw Napi::RangeError::New(o.Env(), std::string("session option ") + key + " is out of range (" + std::to_string(min) + " to " +
                                             std::to_string(max) + ")");
  }
  return d;
}

bool Bool(const Napi::Object& o, const char* key, bool def) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return def;
  if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), std::string("session option ") + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

void OneOf(const Napi::Object& o, const char* key, const std::string& value, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed) {
    if (value == a) return;
  }
  throw Napi::RangeError::New(o.Env(), std::string("session option ") + key + " \"" + value + "\" is not one of the known values");
}

SessionOptions ParseOptions(const Napi::Object& o) {
  SessionOptions s;
  s.video_source = Str(o, "videoSource", "testpattern");
  s.v4l2_input = static_cast<int>(Num(o, "v4l2Input", -1, -1, 255));
  s.audio_source = Str(o, "audioSource", "testtone");
  s.input_name = Str(o, "inputName", "");
  s.paced = Bool(o, "paced", true);
  s.max_frames = static_cast<int64_t>(Num(o, "maxFrames", 0, 0, 1e12));
  auto& v = s.video;
  v.codec = Str(o, "codec", "auto");
  v.width = static_cast<int>(Num(o, "width", 0, 0, 8192));
  v.height = static_cast<int>(Num(o, "height", 0, 0, 8192));
  v.fps_num = static_cast<int>(Num(o, "fpsNum", 0, 0, 240000));
  v.fps_den = static_cast<int>(Num(o, "fpsDen", 1, 1, 1001));
  v.bitrate = static_cast<int64_t>(Num(o, "bitrate", 4e6, 1e4, 2e8));
  v.maxrate = static_cast<int64_t>(Num(o, "maxrate", 0, 0, 4e8));
  v.bufsize = static_cast<int64_t>(Num(o, "bufsize", 0, 0, 8e8));
  v.vbr = Str(o, "rateControl", "cbr") == "vbr";
  v.keyint_seconds = Num(o, "keyintSeconds", 2, 0.1, 60);
  v.profile = Str(o, "profile", "high");
  v.level = Str(o, "level", "");
  if (!v.level.empty() && !(v.level.size() == 3 && isdigit(v.level[0]) && v.level[1] == '.' && isdigit(v.level[2]))) {
    throw Napi::RangeError::New(o.Env(), "session option level must look like 4.1");
  }
  v.bframes = static_cast<int>(Num(o, "bframes", 0, 0, 4));
  v.preset = Str(o, "preset", "superfast");
  v.tune = Str(o, "tune", "zerolatency");
  // Checked here too: x264 reports a bad name on stderr before libavcodec's log hook is in place.
  OneOf(o, "preset", v.preset, {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"});
  OneOf(o, "tune", v.tune, {"", "zerolatency", "film", "animation", "grain", "stillimage", "fastdecode"});
  OneOf(o, "profile", v.profile, {"baseline", "main", "high"});
  s.audio_bitrate = static_cast<int64_t>(Num(o, "audioBitrate", 128000, 32000, 512000));
  s.audio_channels = static_cast<int>(Num(o, "audioChannels", 2, 1, 2));
  s.queue_units = static_cast<size_t>(Num(o, "queueUnits", 512, 16, 1e5));
  s.queue_bytes = static_cast<size_t>(Num(o, "queueBytes", 32 << 20, 1 << 20, 1 << 30));
  s.thumbnail_width = static_cast<int>(Num(o, "thumbnailWidth", 0, 0, 1920));
  if ((v.width == 0) != (v.height == 0)) throw Napi::RangeError::New(o.Env(), "session options width and height go together");
  if (s.video_source == "testpattern" && (v.width == 0 || v.fps_num == 0)) {
    throw Napi::RangeError::New(o.Env(), "the test pattern needs a width, height and frame rate");
  }
  return s;
}

Napi::Object ToJs(Napi::Env env, OutItem& item) {
  auto o = Napi::Object::New(env);
  switch (item.kind) {
    case OutItem::Kind::kUnit:
      o.Set("type", "unit");
      o.Set("stream", item.video ? "video" : "audio");
      o.Set("data", Napi::Buffer<uint8_t>::Copy(env, item.data.data(), item.data.size()));
      o.Set("pts", item.pts);
      o.Set("dts", item.dts);
      o.Set("key", item.key);
      o.Set("captureUs", item.capture_us);
      break;
    case OutItem::Kind::kStarted:
      o.Set("type", "started");
      o.Set("videoCodec", item.codec);
      o.Set("width", item.width);
      o.Set("height", item.height);
      o.Set("fpsNum", item.fps_num);
      o.Set("fpsDen", item.fps_den);
      if (item.audio) {
        auto a = Napi::Object::New(env);
        a.Set("sampleRate", item.sample_rate);
        a.Set("channels", item.channels);
        o.Set("audio", a);
      } else {
        o.Set("audio", env.Null());
      }
      break;
    case OutItem::Kind::kEvent:
    case OutItem::Kind::kError:
      o.Set("type", item.kind == OutItem::Kind::kEvent ? "event" : "error");
      o.Set("code", item.code);
      o.Set("message", item.message);
      break;
    case OutItem::Kind::kEnded:
      o.Set("type", "ended");
      break;
  }
  return o;
}

class EncodeSessionWrap;

class CloseWorker : public Napi::AsyncWorker {
 public:
  CloseWorker(Napi::Env env, EncodeSessionWrap* wrap) : Napi::AsyncWorker(env), wrap_(wrap) {}
  void Execute() override;
  void OnOK() override;

 private:
  EncodeSessionWrap* wrap_;
};

class EncodeSessionWrap : public Napi::ObjectWrap<EncodeSessionWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "EncodeSession",
                       {InstanceMethod<&EncodeSessionWrap::Start>("start"),
                        InstanceMethod<&EncodeSessionWrap::SetVideoBitrate>("setVideoBitrate"),
                        InstanceMethod<&EncodeSessionWrap::ForceKeyframe>("forceKeyframe"),
                        InstanceMethod<&EncodeSessionWrap::Stats>("stats"), InstanceMethod<&EncodeSessionWrap::Thumbnail>("thumbnail"),
                        InstanceMethod<&EncodeSessionWrap::Close>("close")});
  }

  explicit EncodeSessionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EncodeSessionWrap>(info) {
    auto env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      throw Napi::TypeError::New(env, "new EncodeSession(options, onMessage): an options object and a function are required");
    }
    options_ = ParseOptions(info[0].As<Napi::Object>());
    on_message_ = Napi::Persistent(info[1].As<Napi::Function>());
    final_stats_.bitrate = static_cast<double>(options_.video.bitrate);
  }

  ~EncodeSessionWrap() override {
    // Reached only when never started or fully closed (Ref() holds it meanwhile).
    session_.reset();
  }

  void JoinSession() { session_->Join(); }

  void FinishClose(Napi::Env env) {
    Drain(env, on_message_.Value());
    tsfn_.Release();
    closed_ = true;
    // Free the encoders, sources and queue now rather than when GC gets to
    // this object: a supervisor restarting pipelines must not pile them up.
    final_stats_ = StatsSnapshot();
    final_thumbnail_ = session_->thumbnail();
    session_.reset();
    for (auto& d : close_waiters_) d.Resolve(env.Undefined());
    close_waiters_.clear();
  }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    if (started_ || closing_) throw Napi::Error::New(env, "this encode session has already been started");
    started_ = true;
    tsfn_ = Napi::ThreadSafeFunction::New(env, on_message_.Value(), "fieldcast-encode", 0, 1, this,
                                          [](Napi::Env, EncodeSessionWrap* self) { self->Unref(); });
    Ref();  // alive until the last queued call has run (the finalizer above)
    session_ = std::make_unique<EncodeSession>(options_, [this] {
      const napi_status st = tsfn_.NonBlockingCall([this](Napi::Env env, Napi::Function fn) {
        if (env != nullptr && !closed_) Drain(env, fn);
      });
      if (st != napi_ok) session_->queue().ScheduleFailed();
    });
    session_->Start();
    return env.Undefined();
  }

  void Drain(Napi::Env env, Napi::Function fn) {
    if (!session_) return;
    auto items = session_->queue().TakeAll();
    Napi::HandleScope scope(env);
    for (auto& item : items) {
      try {
        fn.Call({ToJs(env, item)});
      } catch (const Napi::Error& e) {
        Log(LogLevel::kError, "session", std::string("the session's message handler threw: ") + e.Message());
      }
    }
  }

  Napi::Value SetVideoBitrate(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "setVideoBitrate(bps): a number is required");
    const double bps = info[0].As<Napi::Number>().DoubleValue();
    if (!(bps >= 1e4 && bps <= 2e8)) throw Napi::RangeError::New(env, "setVideoBitrate: bps must be from 10000 to 200000000");
    if (session_) session_->SetVideoBitrate(static_cast<int64_t>(bps));
    else if (!started_) {
      options_.video.bitrate = static_cast<int64_t>(bps);
      final_stats_.bitrate = bps;
    }
    return env.Undefined();
  }

  Napi::Value ForceKeyframe(const Napi::CallbackInfo& info) {
    if (session_) session_->ForceKeyframe();
    return info.Env().Undefined();
  }

  struct StatsValues {
    double video_frames = 0, video_bytes = 0, keyframes = 0, audio_frames = 0, audio_bytes = 0, late_frames = 0, slate_frames = 0,
           signal_losses = 0, bitrate = 0, dropped_video = 0, dropped_audio = 0, queue_depth = 0;
    bool on_slate = false, audio_silence = false;
    AudioLevels levels;
  };

  StatsValues StatsSnapshot() const {
    if (!session_) return final_stats_;
    const SessionCounters& c = session_->counters();
    StatsValues v;
    v.video_frames = static_cast<double>(c.video_frames);
    v.video_bytes = static_cast<double>(c.video_bytes);
    v.keyframes = static_cast<double>(c.keyframes);
    v.audio_frames = static_cast<double>(c.audio_frames);
    v.audio_bytes = static_cast<double>(c.audio_bytes);
    v.late_frames = static_cast<double>(c.late_frames);
    v.slate_frames = static_cast<double>(c.slate_frames);
    v.signal_losses = static_cast<double>(c.signal_losses);
    v.bitrate = static_cast<double>(c.bitrate.load());
    v.on_slate = c.on_slate.load();
    v.audio_silence = c.audio_silence.load();
    v.dropped_video = static_cast<double>(session_->queue().dropped_video());
    v.dropped_audio = static_cast<double>(session_->queue().dropped_audio());
    v.queue_depth = static_cast<double>(session_->queue().depth());
    v.levels = session_->audio_levels();
    return v;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    const StatsValues v = StatsSnapshot();
    auto o = Napi::Object::New(env);
    o.Set("videoFrames", v.video_frames);
    o.Set("videoBytes", v.video_bytes);
    o.Set("keyframes", v.keyframes);
    o.Set("audioFrames", v.audio_frames);
    o.Set("audioBytes", v.audio_bytes);
    o.Set("lateFrames", v.late_frames);
    o.Set("slateFrames", v.slate_frames);
    o.Set("signalLosses", v.signal_losses);
    o.Set("videoBitrate", v.bitrate);
    o.Set("onSlate", v.on_slate);
    o.Set("audioSilence", v.audio_silence);
    o.Set("droppedVideo", v.dropped_video);
    o.Set("droppedAudio", v.dropped_audio);
    o.Set("queueDepth", v.queue_depth);
    o.Set("audioPeakDbfs", Numbers(env, v.levels.peak_dbfs));
    o.Set("audioRmsDbfs", Numbers(env, v.levels.rms_dbfs));
    return o;
  }

  static Napi::Array Numbers(Napi::Env env, const std::vector<double>& values) {
    auto a = Napi::Array::New(env, values.size());
    for (size_t i = 0; i < values.size(); ++i) a.Set(static_cast<uint32_t>(i), values[i]);
    return a;
  }

  // { jpeg: Buffer (a copy), captureUs, width, height } or undefined.
  Napi::Value Thumbnail(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    const std::shared_ptr<const fieldcast::Thumbnail> t = session_ ? session_->thumbnail() : final_thumbnail_;
    if (!t) return env.Undefined();
    auto o = Napi::Object::New(env);
    o.Set("jpeg", Napi::Buffer<uint8_t>::Copy(env, t->jpeg.data(), t->jpeg.size()));
    o.Set("captureUs", static_cast<double>(t->capture_us));
    o.Set("width", t->width);
    o.Set("height", t->height);
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    auto deferred = Napi::Promise::Deferred::New(env);
    auto promise = deferred.Promise();
    if (!started_ || closed_) {
      closed_ = true;
      deferred.Resolve(env.Undefined());
      return promise;
    }
    close_waiters_.push_back(std::move(deferred));
    if (!closing_) {
      closing_ = true;
      session_->RequestStop();
      (new CloseWorker(env, this))->Queue();  // AsyncWorker deletes itself after OnOK
    }
    return promise;
  }

  SessionOptions options_;
  Napi::FunctionReference on_message_;
  Napi::ThreadSafeFunction tsfn_;
  std::unique_ptr<EncodeSession> session_;
  std::vector<Napi::Promise::Deferred> close_waiters_;
  StatsValues final_stats_;
  std::shared_ptr<const fieldcast::Thumbnail> final_thumbnail_;
  bool started_ = false, closing_ = false, closed_ = false;
};

void CloseWorker::Execute() { wrap_->JoinSession(); }
void CloseWorker::OnOK() { wrap_->FinishClose(Env()); }

void InitEncodeSession(Napi::Env env, Napi::Object exports) { exports.Set("EncodeSession", EncodeSessionWrap::Define(env)); }

}  // namespace

FIELDCAST_REGISTER(EncodeSession, InitEncodeSession);

}  // namespace fieldcast
