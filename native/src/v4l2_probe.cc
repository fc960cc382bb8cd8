// Probe exports: listCaptureDevices(), probeCaptureDevice(path),
// setCaptureDvTimings(path, request). Each returns a Promise; the ioctls run
// on libuv's pool (HDMI bridges answer over I2C and can take tens of ms).
#include "v4l2_probe.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "registry.h"
#include "v4l2_device.h"

namespace fieldcast {

std::vector<CaptureDeviceInfo> ListCaptureDevices() {
  std::vector<std::string> paths;
  if (DIR* d = opendir("/dev")) {
    while (dirent* e = readdir(d)) {
      if (strncmp(e->d_name, "video", 5) == 0) paths.push_back(std::string("/dev/") + e->d_name);
    }
    closedir(d);
  }
  std::sort(paths.begin(), paths.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;  // video2 before video10
  });
  std::vector<CaptureDeviceInfo> out;
  for (const auto& p : paths) {
    V4l2Device dev;
    v4l2_capability cap{};
    if (!dev.Open(p).ok() || !dev.QueryCap(&cap).ok()) continue;
    out.push_back({p, reinterpret_cast<const char*>(cap.driver), reinterpret_cast<const char*>(cap.card),
                   reinterpret_cast<const char*>(cap.bus_info), V4l2Device::EffectiveCaps(cap)});
  }
  return out;
}

Status ProbeCaptureDevice(const std::string& path, CaptureProbe* out) {
  V4l2Device dev;
  if (Status s = dev.Open(path); !s.ok()) return s;
  v4l2_capability cap{};
  if (Status s = dev.QueryCap(&cap); !s.ok()) return s;
  out->info = {path, reinterpret_cast<const char*>(cap.driver), reinterpret_cast<const char*>(cap.card),
               reinterpret_cast<const char*>(cap.bus_info), V4l2Device::EffectiveCaps(cap)};
  out->current_input = dev.CurrentInput();
  for (const auto& in : dev.EnumInputs()) {
    out->inputs.push_back({static_cast<int>(in.index), reinterpret_cast<const char*>(in.name), in.type, in.status,
                           (in.capabilities & V4L2_IN_CAP_DV_TIMINGS) != 0});
  }
  out->dv = dev.CurrentInputHasDvTimings();
  if (out->dv) {
    v4l2_dv_timings t{};
    if (dev.GetDvTimings(&t) == 0) out->dv_current = t;
    const int r = dev.QueryDvTimings(&t);
    if (r == 0) {
      out->dv_detected = t;
    } else {
      out->dv_detect_errno = -r;
    }
    out->dv_supported = dev.EnumDvTimings();
  }
  for (const auto& f : dev.EnumFormats()) {
    out->formats.push_back({f.pixelformat, reinterpret_cast<const char*>(f.description),
                            (f.flags & V4L2_FMT_FLAG_COMPRESSED) != 0, dev.EnumFrameSizes(f.pixelformat)});
  }
  return Status::Ok();
}

Status SetCaptureDvTimings(const std::string& path, const DvTimingsRequest& req, v4l2_dv_timings* set) {
  V4l2Device dev;
  if (Status s = dev.Open(path); !s.ok()) return s;
  v4l2_capability cap{};
  if (Status s = dev.QueryCap(&cap); !s.ok()) return s;
  if (req.input >= 0) {
    if (Status s = dev.SelectInput(req.input); !s.ok()) return s;
  }
  if (!dev.CurrentInputHasDvTimings()) {
    return Status::Error("INPUT_UNSUPPORTED", "the selected input of " + path + " has no DV timings (not an HDMI input)");
  }
  const auto all = dev.EnumDvTimings();
  const v4l2_dv_timings* pick = nullptr;
  if (req.index >= 0) {
    if (static_cast<size_t>(req.index) >= all.size()) {
      return Status::Error("INVALID_INPUT", path + " lists " + std::to_string(all.size()) + " timings; there is no index " +
                                                std::to_string(req.index));
    }
    pick = &all[static_cast<size_t>(req.index)];
  } else {
    // The closest rate among timings of that size and scan; within 0.5% (59.94 vs 60 differ by 0.1%,
    // so an exact 1001 request picks the reduced variant only when the driver lists it).
    double best = 1e9;
    for (const auto& t : all) {
      if (static_cast<int>(t.bt.width) != req.width || static_cast<int>(t.bt.height) != req.height ||
          (t.bt.interlaced != 0) != req.interlaced) {
        continue;
      }
      const double diff = std::fabs(DvTimingsFps(t.bt) - req.fps);
      if (diff < best && diff <= req.fps * 0.005) {
        best = diff;
        pick = &t;
      }
    }
    if (pick == nullptr) {
      char want[64];
      snprintf(want, sizeof(want), "%dx%d%c%.2f", req.width, req.height, req.interlaced ? 'i' : 'p', req.fps);
      return Status::Error("INPUT_UNSUPPORTED", path + " does not offer the timings " + std::string(want));
    }
  }
  if (Status s = dev.SetDvTimings(*pick); !s.ok()) return s;
  if (dev.GetDvTimings(set) != 0) *set = *pick;
  return Status::Ok();
}

namespace {

// Runs `work` on the libuv pool and settles a Promise with `done`'s value or the Status.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, std::function<Status()> work, std::function<Napi::Value(Napi::Env)> done)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)),
        done_(std::move(done)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override { status_ = work_(); }
  void OnOK() override {
    auto env = Env();
    if (status_.ok()) {
      deferred_.Resolve(done_(env));
    } else {
      auto e = Napi::Error::New(env, status_.message);
      e.Set("code", Napi::String::New(env, status_.code));
      deferred_.Reject(e.Value());
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<Status()> work_;
  std::function<Napi::Value(Napi::Env)> done_;
  Status status_;
};

Napi::Promise Run(Napi::Env env, std::function<Status()> work, std::function<Napi::Value(Napi::Env)> done) {
  auto* w = new PromiseWorker(env, std::move(work), std::move(done));  // AsyncWorker deletes itself when done
  auto p = w->Promise();
  w->Queue();
  return p;
}

Napi::Array CapsToJs(Napi::Env env, uint32_t caps) {
  static const std::pair<uint32_t, const char*> kNames[] = {
      {V4L2_CAP_VIDEO_CAPTURE, "video-capture"}, {V4L2_CAP_VIDEO_CAPTURE_MPLANE, "video-capture-mplane"},
      {V4L2_CAP_VIDEO_OUTPUT, "video-output"},   {V4L2_CAP_VIDEO_M2M, "video-m2m"},
      {V4L2_CAP_VIDEO_M2M_MPLANE, "video-m2m-mplane"}, {V4L2_CAP_META_CAPTURE, "meta-capture"},
      {V4L2_CAP_READWRITE, "read-write"},        {V4L2_CAP_STREAMING, "streaming"},
      {V4L2_CAP_AUDIO, "audio"},                 {V4L2_CAP_TUNER, "tuner"}};
  auto a = Napi::Array::New(env);
  uint32_t n = 0;
  for (const auto& [bit, name] : kNames) {
    if (caps & bit) a.Set(n++, name);
  }
  return a;
}

Napi::Object DeviceToJs(Napi::Env env, const CaptureDeviceInfo& d) {
  auto o = Napi::Object::New(env);
  o.Set("path", d.path);
  o.Set("driver", d.driver);
  o.Set("card", d.card);
  o.Set("busInfo", d.bus_info);
  o.Set("capabilities", CapsToJs(env, d.caps));
  o.Set("capture", (d.caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE)) != 0 &&
                       (d.caps & V4L2_CAP_STREAMING) != 0);
  return o;
}

Napi::Value TimingsToJs(Napi::Env env, const v4l2_dv_timings& t) {
  auto o = Napi::Object::New(env);
  int num = 0, den = 1;
  DvTimingsRate(t.bt, &num, &den);
  o.Set("width", t.bt.width);
  o.Set("height", t.bt.height);
  o.Set("interlaced", t.bt.interlaced != 0);
  o.Set("fpsNum", num);
  o.Set("fpsDen", den);
  o.Set("pixelclock", static_cast<double>(t.bt.pixelclock));
  o.Set("label", DvTimingsLabel(t.bt));
  return o;
}

Napi::Array InputStatusToJs(Napi::Env env, uint32_t st) {
  static const std::pair<uint32_t, const char*> kNames[] = {
      {V4L2_IN_ST_NO_POWER, "no-power"}, {V4L2_IN_ST_NO_SIGNAL, "no-signal"}, {V4L2_IN_ST_NO_COLOR, "no-color"},
      {V4L2_IN_ST_NO_H_LOCK, "no-h-lock"}, {V4L2_IN_ST_NO_V_LOCK, "no-v-lock"}, {V4L2_IN_ST_NO_SYNC, "no-sync"}};
  auto a = Napi::Array::New(env);
  uint32_t n = 0;
  for (const auto& [bit, name] : kNames) {
    if (st & bit) a.Set(n++, name);
  }
  return a;
}

Napi::Value ProbeToJs(Napi::Env env, const CaptureProbe& p) {
  auto o = DeviceToJs(env, p.info);
  o.Set("currentInput", p.current_input);
  auto inputs = Napi::Array::New(env);
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    const auto& in = p.inputs[i];
    auto io = Napi::Object::New(env);
    io.Set("index", in.index);
    io.Set("name", in.name);
    io.Set("type", in.type == V4L2_INPUT_TYPE_CAMERA ? "camera" : in.type == V4L2_INPUT_TYPE_TUNER ? "tuner" : "other");
    io.Set("dvTimings", in.dv_timings);
    io.Set("status", InputStatusToJs(env, in.status));
    io.Set("signal", (in.status & (V4L2_IN_ST_NO_POWER | V4L2_IN_ST_NO_SIGNAL | V4L2_IN_ST_NO_SYNC)) == 0);
    inputs.Set(static_cast<uint32_t>(i), io);
  }
  o.Set("inputs", inputs);
  if (p.dv) {
    auto dv = Napi::Object::New(env);
    dv.Set("current", p.dv_current ? TimingsToJs(env, *p.dv_current) : env.Null());
    dv.Set("detected", p.dv_detected ? TimingsToJs(env, *p.dv_detected) : env.Null());
    const int e = p.dv_detect_errno;
    dv.Set("detectError", e == 0            ? env.Null()
                          : e == ENOLINK    ? Napi::String::New(env, "no-signal")
                          : e == ENOLCK     ? Napi::String::New(env, "no-lock")
                          : e == ERANGE     ? Napi::String::New(env, "out-of-range")
                                            : Napi::String::New(env, strerror(e)));
    auto sup = Napi::Array::New(env);
    for (size_t i = 0; i < p.dv_supported.size(); ++i) sup.Set(static_cast<uint32_t>(i), TimingsToJs(env, p.dv_supported[i]));
    dv.Set("supported", sup);
    o.Set("dv", dv);
  } else {
    o.Set("dv", env.Null());
  }
  auto formats = Napi::Array::New(env);
  for (size_t i = 0; i < p.formats.size(); ++i) {
    const auto& f = p.formats[i];
    auto fo = Napi::Object::New(env);
    fo.Set("fourcc", FourccToString(f.fourcc));
    fo.Set("description", f.description);
    fo.Set("compressed", f.compressed);
    auto sizes = Napi::Array::New(env);
    uint32_t n = 0;
    for (const auto& s : f.sizes) {
      auto so = Napi::Object::New(env);
      if (s.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
        so.Set("width", s.discrete.width);
        so.Set("height", s.discrete.height);
      } else {
        so.Set("minWidth", s.stepwise.min_width);
        so.Set("maxWidth", s.stepwise.max_width);
        so.Set("minHeight", s.stepwise.min_height);
        so.Set("maxHeight", s.stepwise.max_height);
      }
      sizes.Set(n++, so);
    }
    fo.Set("sizes", sizes);
    formats.Set(static_cast<uint32_t>(i), fo);
  }
  o.Set("formats", formats);
  return o;
}

std::string PathArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) {
    ThrowStatus(info.Env(), Status::Error("INVALID_INPUT", "expected a device path such as /dev/video0"));
  }
  return info[0].As<Napi::String>().Utf8Value();
}

int IntField(const Napi::Object& o, const char* key, int fallback) {
  auto v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : fallback;
}

Napi::Value ListJs(const Napi::CallbackInfo& info) {
  auto result = std::make_shared<std::vector<CaptureDeviceInfo>>();
  return Run(
      info.Env(),
      [result] {
        *result = ListCaptureDevices();
        return Status::Ok();
      },
      [result](Napi::Env env) -> Napi::Value {
        auto a = Napi::Array::New(env);
        for (size_t i = 0; i < result->size(); ++i) a.Set(static_cast<uint32_t>(i), DeviceToJs(env, (*result)[i]));
        return a;
      });
}

Napi::Value ProbeJs(const Napi::CallbackInfo& info) {
  const std::string path = PathArg(info);
  auto result = std::make_shared<CaptureProbe>();
  return Run(
      info.Env(), [path, result] { return ProbeCaptureDevice(path, result.get()); },
      [result](Napi::Env env) { return ProbeToJs(env, *result); });
}

// setCaptureDvTimings(path, {input?, index?} | {input?, width, height, fps, interlaced?})
Napi::Value SetDvTimingsJs(const Napi::CallbackInfo& info) {
  const std::string path = PathArg(info);
  if (info.Length() < 2 || !info[1].IsObject()) {
    ThrowStatus(info.Env(), Status::Error("INVALID_INPUT", "expected the timings to set"));
  }
  auto o = info[1].As<Napi::Object>();
  DvTimingsRequest req;
  req.input = IntField(o, "input", -1);
  req.index = IntField(o, "index", -1);
  req.width = IntField(o, "width", 0);
  req.height = IntField(o, "height", 0);
  req.fps = o.Get("fps").IsNumber() ? o.Get("fps").As<Napi::Number>().DoubleValue() : 0;
  req.interlaced = o.Get("interlaced").IsBoolean() && o.Get("interlaced").As<Napi::Boolean>().Value();
  auto set = std::make_shared<v4l2_dv_timings>();
  return Run(
      info.Env(), [path, req, set] { return SetCaptureDvTimings(path, req, set.get()); },
      [set](Napi::Env env) { return TimingsToJs(env, *set); });
}

void InitV4l2Probe(Napi::Env env, Napi::Object exports) {
  exports.Set("listCaptureDevices", Napi::Function::New(env, ListJs));
  exports.Set("probeCaptureDevice", Napi::Function::New(env, ProbeJs));
  exports.Set("setCaptureDvTimings", Napi::Function::New(env, SetDvTimingsJs));
}

}  // namespace

FIELDCAST_REGISTER(V4l2Probe, InitV4l2Probe);

}  // namespace fieldcast
