// startCaptureTest(options, onEvent) -> {stop()}: runs a capture VideoSource
// (V4L2, or the slate) on a native thread for N frames, a duration, or until
// stop(), and reports what it saw — formats, capture times, mean luma, signal
// events — through a ThreadSafeFunction. Pictures never enter JS. Used by
// `fieldcast probe`-style checks and by the kernel V4L2 tests (test/vm).
#include <linux/videodev2.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "registry.h"
#include "slate_source.h"
#include "v4l2_source.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace fieldcast {

namespace {

struct CaptureEvent {
  std::string type;  // open | frame | no-signal | format-changed | error | end
  int64_t index = 0;
  VideoFormat format;
  int64_t capture_us = 0;
  double mean_luma = 0;
  Status status;
};

// Mean of a sparse grid of luma samples: cheap enough for 1080p60 under TCG,
// and enough to tell a picture from a slate or a black frame.
double MeanLuma(const AVFrame* f) {
  int offset = 0, step = 1;
  switch (f->format) {
    case AV_PIX_FMT_YUYV422: step = 2; break;
    case AV_PIX_FMT_UYVY422: step = 2; offset = 1; break;
    default: break;
  }
  uint64_t sum = 0, n = 0;
  for (int y = 0; y < f->height; y += 8) {
    const uint8_t* row = f->data[0] + static_cast<ptrdiff_t>(y) * f->linesize[0];
    for (int x = 0; x < f->width; x += 8) {
      sum += row[x * step + offset];
      ++n;
    }
  }
  return n ? static_cast<double>(sum) / n : 0;
}

class CaptureTest {
 public:
  CaptureTest(std::unique_ptr<VideoSource> source, int64_t max_frames, int64_t duration_ms, int read_timeout_ms)
      : source_(std::move(source)), max_frames_(max_frames), duration_ms_(duration_ms), read_timeout_ms_(read_timeout_ms) {}

  void Start(Napi::ThreadSafeFunction tsf) {
    tsf_ = std::move(tsf);
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    std::lock_guard<std::mutex> lock(source_mutex_);
    if (source_) source_->Interrupt();
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Emit(CaptureEvent ev) {
    auto owned = std::make_unique<CaptureEvent>(std::move(ev));
    // Blocks when JS lags (queue bounded): the test vehicle never drops its own reports.
    if (tsf_.BlockingCall(owned.get(), Deliver) == napi_ok) owned.release();
  }

  static void Deliver(Napi::Env env, Napi::Function fn, CaptureEvent* raw) {
    std::unique_ptr<CaptureEvent> ev(raw);
    if (env == nullptr || fn.IsEmpty()) return;
    auto o = Napi::Object::New(env);
    o.Set("type", ev->type);
    if (ev->type == "frame") {
      o.Set("index", static_cast<double>(ev->index));
      o.Set("captureUs", static_cast<double>(ev->capture_us));
      o.Set("meanLuma", ev->mean_luma);
    }
    if (ev->format.width > 0) {
      o.Set("width", ev->format.width);
      o.Set("height", ev->format.height);
      const char* pf = av_get_pix_fmt_name(ev->format.pix_fmt);
      o.Set("pixFmt", pf ? pf : "none");
      o.Set("fpsNum", ev->format.fps_num);
      o.Set("fpsDen", ev->format.fps_den);
    }
    if (!ev->status.ok()) {
      o.Set("code", ev->status.code);
      o.Set("message", ev->status.message);
    }
    if (ev->type == "end") o.Set("frames", static_cast<double>(ev->index));
    fn.Call({o});
  }

  void Run() {
    Status s = source_->Open();
    if (!s.ok()) {
      Emit({"error", 0, {}, 0, 0, s});
      CloseSource();
      Emit({"end", 0, {}, 0, 0, {}});
      tsf_.Release();
      return;
    }
    Emit({"open", 0, source_->format(), 0, 0, {}});
    const int64_t end_us = duration_ms_ > 0 ? MonotonicMicros() + duration_ms_ * 1000 : INT64_MAX;
    int64_t frames = 0;
    while (!stop_ && (max_frames_ <= 0 || frames < max_frames_) && MonotonicMicros() < end_us) {
      VideoFrame vf;
      switch (source_->Read(read_timeout_ms_, &vf)) {
        case ReadResult::kFrame: {
          CaptureEvent ev{"frame", frames++, {}, vf.capture_us, MeanLuma(vf.frame.get()), {}};
          ev.format = {vf.frame->width, vf.frame->height, static_cast<AVPixelFormat>(vf.frame->format),
                       source_->format().fps_num, source_->format().fps_den};
          Emit(std::move(ev));
          break;
        }
        case ReadResult::kTimeout: break;
        case ReadResult::kNoSignal:
          Emit({"no-signal", frames, {}, MonotonicMicros(), 0, source_->last_status()});
          break;
        case ReadResult::kFormatChanged:
          Emit({"format-changed", frames, source_->format(), MonotonicMicros(), 0, source_->last_status()});
          break;
        case ReadResult::kError:
          Emit({"error", frames, {}, 0, 0, source_->last_status()});
          stop_ = true;
          break;
      }
    }
    CloseSource();
    Emit({"end", frames, {}, 0, 0, {}});
    tsf_.Release();
  }

  // Closes the device before "end" reaches JS, so a caller may reconfigure it
  // (S_DV_TIMINGS is refused while another handle holds buffers).
  void CloseSource() {
    std::lock_guard<std::mutex> lock(source_mutex_);
    source_.reset();
  }

  std::mutex source_mutex_;  // guards source_ against Stop() from the JS thread while it closes
  std::unique_ptr<VideoSource> source_;
  int64_t max_frames_;
  int64_t duration_ms_;
  int read_timeout_ms_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  Napi::ThreadSafeFunction tsf_;
};

int IntField(const Napi::Object& o, const char* key, int fallback) {
  auto v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : fallback;
}
std::string StringField(const Napi::Object& o, const char* key) {
  auto v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

// Options are validated in src/media/v4l2.ts; this only reads the flat object.
std::unique_ptr<VideoSource> MakeSource(const Napi::Object& o) {
  if (StringField(o, "source") == "slate") {
    VideoFormat f;
    f.width = IntField(o, "width", 1280);
    f.height = IntField(o, "height", 720);
    f.fps_num = IntField(o, "fpsNum", 30);
    f.fps_den = IntField(o, "fpsDen", 1);
    const std::string pf = StringField(o, "pixFmt");
    f.pix_fmt = pf.empty() ? AV_PIX_FMT_YUV420P : av_get_pix_fmt(pf.c_str());
    return CreateSlateSource(f, StringField(o, "inputName"));
  }
  V4l2Options v;
  v.device = StringField(o, "device");
  v.input = IntField(o, "input", -1);
  v.buffers = IntField(o, "buffers", 4);
  const std::string fourcc = StringField(o, "pixelFormat");
  if (fourcc.size() == 4) v.pixel_format = v4l2_fourcc(fourcc[0], fourcc[1], fourcc[2], fourcc[3]);
  v.width = IntField(o, "width", 0);
  v.height = IntField(o, "height", 0);
  v.fps = IntField(o, "fps", 0);
  v.stall_ms = IntField(o, "stallMs", 2000);
  return CreateV4l2Source(v);
}

Napi::Value StartCaptureTestJs(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    ThrowStatus(env, Status::Error("INVALID_INPUT", "startCaptureTest(options, onEvent) needs both arguments"));
  }
  auto o = info[0].As<Napi::Object>();
  auto test = std::make_shared<CaptureTest>(MakeSource(o), IntField(o, "frames", 0), IntField(o, "durationMs", 0),
                                            IntField(o, "readTimeoutMs", 200));
  // The finalizer runs on the JS thread once the capture thread released the
  // function, i.e. after its last event: joining there never blocks for long.
  auto keep = std::make_unique<std::shared_ptr<CaptureTest>>(test);  // handed to the finalizer below
  auto tsf = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "fieldcast-capture-test", 64, 1, keep.release(),
                                           [](Napi::Env, std::shared_ptr<CaptureTest>* t) {
                                             (*t)->Join();
                                             std::unique_ptr<std::shared_ptr<CaptureTest>> owned(t);
                                           });
  test->Start(std::move(tsf));
  auto handle = Napi::Object::New(env);
  std::weak_ptr<CaptureTest> weak = test;
  handle.Set("stop", Napi::Function::New(env, [weak](const Napi::CallbackInfo& ci) {
               if (auto t = weak.lock()) t->Stop();
               return ci.Env().Undefined();
             }));
  return handle;
}

void InitCaptureTest(Napi::Env env, Napi::Object exports) {
  exports.Set("startCaptureTest", Napi::Function::New(env, StartCaptureTestJs));
}

}  // namespace

FIELDCAST_REGISTER(CaptureTest, InitCaptureTest);

}  // namespace fieldcast
