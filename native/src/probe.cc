#include "probe.h"

#include <alsa/asoundlib.h>
#include <napi.h>

#include <memory>

#include "alsa_source.h"
#include "audio_encoder.h"
#include "registry.h"
#include "video_encoder.h"

extern "C" {
#include <libavutil/log.h>
}

namespace fieldcast {

namespace {

struct CtlCloser {
  void operator()(snd_ctl_t* c) const { snd_ctl_close(c); }
};

std::vector<AlsaDeviceProbe> ProbeAlsa() {
  RouteAlsaErrorsToLog();
  std::vector<AlsaDeviceProbe> out;
  int card = -1;
  while (snd_card_next(&card) == 0 && card >= 0) {
    const std::string hw = "hw:" + std::to_string(card);
    snd_ctl_t* raw = nullptr;
    if (snd_ctl_open(&raw, hw.c_str(), 0) < 0) continue;
    std::unique_ptr<snd_ctl_t, CtlCloser> ctl(raw);
    char* card_name = nullptr;
    snd_card_get_name(card, &card_name);
    const std::string cname = card_name ? card_name : hw;
    free(card_name);  // allocated by alsa-lib with malloc
    int dev = -1;
    while (snd_ctl_pcm_next_device(ctl.get(), &dev) == 0 && dev >= 0) {
      snd_pcm_info_t* info = nullptr;
      snd_pcm_info_alloca(&info);
      snd_pcm_info_set_device(info, dev);
      snd_pcm_info_set_subdevice(info, 0);
      snd_pcm_info_set_stream(info, SND_PCM_STREAM_CAPTURE);
      if (snd_ctl_pcm_info(ctl.get(), info) < 0) continue;  // no capture on this device
      out.push_back({hw + "," + std::to_string(dev), cname, snd_pcm_info_get_name(info)});
    }
  }
  return out;
}

}  // namespace

MediaProbe ProbeMedia() {
  MediaProbe p;
  for (const auto& name : AutoVideoCodecs()) {
    EncoderProbe e;
    e.name = name;
    e.present = avcodec_find_encoder_by_name(name.c_str()) != nullptr;
    if (e.present) {
      VideoEncoderOptions o;
      o.codec = name;
      o.width = 320;
      o.height = 240;
      o.bitrate = 500000;
      std::unique_ptr<VideoEncoder> enc;
      Status s = VideoEncoder::Open(o, &enc);
      e.opens = s.ok();
      e.error = s.message;
    } else {
      e.error = "not in this system's libavcodec";
    }
    p.video_encoders.push_back(e);
  }
  p.audio_encoder.name = "aac";
  p.audio_encoder.present = avcodec_find_encoder_by_name("aac") != nullptr;
  std::unique_ptr<AudioEncoder> aenc;
  Status s = AudioEncoder::Open({}, &aenc);
  p.audio_encoder.opens = s.ok();
  p.audio_encoder.error = s.message;
  p.audio_inputs = ProbeAlsa();
  return p;
}

namespace {

Napi::Object EncoderToJs(Napi::Env env, const EncoderProbe& e) {
  auto o = Napi::Object::New(env);
  o.Set("name", e.name);
  o.Set("present", e.present);
  o.Set("opens", e.opens);
  if (!e.error.empty()) o.Set("error", e.error);
  return o;
}

class ProbeWorker : public Napi::AsyncWorker {
 public:
  explicit ProbeWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override { result_ = ProbeMedia(); }
  void OnOK() override {
    auto env = Env();
    auto o = Napi::Object::New(env);
    auto v = Napi::Array::New(env, result_.video_encoders.size());
    for (size_t i = 0; i < result_.video_encoders.size(); ++i) v.Set(i, EncoderToJs(env, result_.video_encoders[i]));
    o.Set("videoEncoders", v);
    o.Set("audioEncoder", EncoderToJs(env, result_.audio_encoder));
    auto a = Napi::Array::New(env, result_.audio_inputs.size());
    for (size_t i = 0; i < result_.audio_inputs.size(); ++i) {
      auto d = Napi::Object::New(env);
      d.Set("device", result_.audio_inputs[i].device);
      d.Set("card", result_.audio_inputs[i].card);
      d.Set("name", result_.audio_inputs[i].name);
      a.Set(i, d);
    }
    o.Set("audioInputs", a);
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  MediaProbe result_;
};

// probeMedia(): Promise<{videoEncoders, audioEncoder, audioInputs}>
Napi::Value ProbeMediaJs(const Napi::CallbackInfo& info) {
  auto* worker = new ProbeWorker(info.Env());  // AsyncWorker owns and deletes itself after OnOK
  auto promise = worker->Promise();
  worker->Queue();
  return promise;
}

void InitProbe(Napi::Env env, Napi::Object exports) {
  // libavcodec's own stderr chatter (hardware probing) is not ours to print.
  av_log_set_level(AV_LOG_QUIET);
  exports.Set("probeMedia", Napi::Function::New(env, ProbeMediaJs));
}

}  // namespace

FIELDCAST_REGISTER(Probe, InitProbe);

}  // namespace fieldcast
