#include "alsa_source.h"

#include <alsa/asoundlib.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace fieldcast {

namespace {

constexpr unsigned kRate = 48000;
constexpr int kChannels = 2;
constexpr snd_pcm_uframes_t kPeriod = 1024;  // one AAC frame
constexpr int kPeriods = 4;
constexpr int kWaitSliceMs = 50;  // Interrupt() is noticed within this

struct PcmCloser {
  void operator()(snd_pcm_t* p) const { snd_pcm_close(p); }
};
using PcmPtr = std::unique_ptr<snd_pcm_t, PcmCloser>;

struct HwParamsFree {
  void operator()(snd_pcm_hw_params_t* p) const { snd_pcm_hw_params_free(p); }
};

class AlsaSource : public AudioSource {
 public:
  explicit AlsaSource(AlsaOptions o) : options_(std::move(o)) {}

  Status Open() override {
    snd_pcm_t* raw = nullptr;
    int rc = snd_pcm_open(&raw, options_.device.c_str(), SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK);
    if (rc < 0) return Fail("AUDIO_DEVICE_UNAVAILABLE", "cannot open audio input " + options_.device, rc);
    pcm_.reset(raw);
    snd_pcm_hw_params_t* hw_raw = nullptr;
    snd_pcm_hw_params_malloc(&hw_raw);
    std::unique_ptr<snd_pcm_hw_params_t, HwParamsFree> hw(hw_raw);
    unsigned rate = kRate;
    snd_pcm_uframes_t period = kPeriod;
    snd_pcm_uframes_t buffer = kPeriod * kPeriods;
    int dir = 0;
    if ((rc = snd_pcm_hw_params_any(pcm_.get(), hw.get())) < 0 ||
        (rc = snd_pcm_hw_params_set_access(pcm_.get(), hw.get(), SND_PCM_ACCESS_RW_INTERLEAVED)) < 0 ||
        (rc = snd_pcm_hw_params_set_format(pcm_.get(), hw.get(), SND_PCM_FORMAT_S16_LE)) < 0 ||
        (rc = snd_pcm_hw_params_set_channels(pcm_.get(), hw.get(), kChannels)) < 0 ||
        (rc = snd_pcm_hw_params_set_rate(pcm_.get(), hw.get(), rate, 0)) < 0 ||
        (rc = snd_pcm_hw_params_set_period_size_near(pcm_.get(), hw.get(), &period, &dir)) < 0 ||
        (rc = snd_pcm_hw_params_set_buffer_size_near(pcm_.get(), hw.get(), &buffer)) < 0 ||
        (rc = snd_pcm_hw_params(pcm_.get(), hw.get())) < 0) {
      pcm_.reset();
      return Fail("AUDIO_DEVICE_UNAVAILABLE",
                  "audio input " + options_.device + " does not offer 48 kHz stereo 16-bit capture (try plughw:)", rc);
    }
    if ((rc = snd_pcm_start(pcm_.get())) < 0) {
      pcm_.reset();
      return Fail("AUDIO_DEVICE_UNAVAILABLE", "cannot start audio input " + options_.device, rc);
    }
    Log(LogLevel::kInfo, "alsa", "capturing from " + options_.device + " (48 kHz stereo)");
    return Status::Ok();
  }

  int sample_rate() const override { return kRate; }
  int channels() const override { return kChannels; }

  ReadResult Read(int timeout_ms, AudioChunk* out) override {
    if (!pcm_) return ReadResult::kError;
    int waited = 0;
    for (;;) {
      if (interrupted_) return ReadResult::kTimeout;
      AVFramePtr f = MakeFrame();
      f->format = AV_SAMPLE_FMT_S16;
      f->nb_samples = static_cast<int>(kPeriod);
      f->sample_rate = kRate;
      av_channel_layout_default(&f->ch_layout, kChannels);
      if (av_frame_get_buffer(f.get(), 0) < 0) return Error("AUDIO_FAILED", "out of memory for audio capture", -ENOMEM);
      snd_pcm_sframes_t n = snd_pcm_readi(pcm_.get(), f->data[0], kPeriod);
      if (n > 0) {
        // The first sample was captured (samples still queued + n) before now.
        snd_pcm_sframes_t delay = 0;
        if (snd_pcm_delay(pcm_.get(), &delay) < 0) delay = 0;
        const int64_t now = MonotonicMicros();
        f->nb_samples = static_cast<int>(n);
        out->frame = std::move(f);
        out->capture_us = now - (static_cast<int64_t>(delay) + n) * 1000000 / kRate;
        return ReadResult::kFrame;
      }
      if (n == -EAGAIN) {
        if (waited >= timeout_ms) return ReadResult::kTimeout;
        const int slice = std::min(kWaitSliceMs, timeout_ms - waited);
        snd_pcm_wait(pcm_.get(), slice);
        waited += slice;
        continue;
      }
      if (n == -EPIPE || n == -ESTRPIPE) {
        // Overrun (the reader fell behind) or suspend: recover and carry on;
        // the next chunk's timestamp shows the gap.
        ++xruns_;
        Log(LogLevel::kWarn, "alsa", "audio overrun on " + options_.device + ", recovering (" + std::to_string(xruns_) + " so far)");
        if (snd_pcm_recover(pcm_.get(), static_cast<int>(n), 1) < 0 || snd_pcm_start(pcm_.get()) < 0) {
          if (snd_pcm_prepare(pcm_.get()) < 0) return Error("AUDIO_DEVICE_LOST", "audio input " + options_.device + " stopped", static_cast<int>(n));
          snd_pcm_start(pcm_.get());
        }
        continue;
      }
      return Error("AUDIO_DEVICE_LOST", "audio input " + options_.device + " stopped working", static_cast<int>(n));
    }
  }

  void Interrupt() override { interrupted_ = true; }
  Status last_status() const override { return status_; }
  std::string name() const override { return options_.device; }

 private:
  Status Fail(const char* code, const std::string& what, int rc) {
    status_ = Status::Error(code, what + ": " + snd_strerror(rc));
    return status_;
  }
  ReadResult Error(const char* code, const std::string& what, int rc) {
    Fail(code, what, rc);
    return ReadResult::kError;
  }

  const AlsaOptions options_;
  PcmPtr pcm_;
  std::atomic<bool> interrupted_{false};
  int xruns_ = 0;
  Status status_;
};

}  // namespace

namespace {

void AlsaErrorToLog(const char* file, int line, const char* function, int err, const char* fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  Log(LogLevel::kDebug, "alsa", std::string(function ? function : "?") + ": " + msg + (err ? std::string(" (") + snd_strerror(err) + ")" : ""));
}

}  // namespace

void RouteAlsaErrorsToLog() {
  static std::once_flag once;
  std::call_once(once, [] { snd_lib_error_set_handler(&AlsaErrorToLog); });
}

std::unique_ptr<AudioSource> CreateAlsaSource(const AlsaOptions& options) {
  RouteAlsaErrorsToLog();
  return std::make_unique<AlsaSource>(options);
}

}  // namespace fieldcast
