#include "silence_source.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>

namespace fieldcast {

namespace {

constexpr int kRate = 48000;
constexpr int kChannels = 2;
constexpr int kChunk = 1024;

class SilenceSource : public AudioSource {
 public:
  explicit SilenceSource(int64_t start_us) : start_us_(start_us) {}

  Status Open() override { return Status::Ok(); }
  int sample_rate() const override { return kRate; }
  int channels() const override { return kChannels; }

  ReadResult Read(int timeout_ms, AudioChunk* out) override {
    const int64_t t = start_us_ + (samples_ * 1000000) / kRate;
    const int64_t due = start_us_ + ((samples_ + kChunk) * 1000000) / kRate;
    {
      std::unique_lock<std::mutex> lock(mu_);
      const int64_t wait = due - MonotonicMicros();
      if (wait > 0) {
        cv_.wait_for(lock, std::chrono::microseconds(std::min<int64_t>(wait, timeout_ms * 1000LL)), [&] { return interrupted_; });
      }
      if (interrupted_ || MonotonicMicros() < due) return ReadResult::kTimeout;
    }
    AVFramePtr f = MakeFrame();
    f->format = AV_SAMPLE_FMT_S16;
    f->nb_samples = kChunk;
    f->sample_rate = kRate;
    av_channel_layout_default(&f->ch_layout, kChannels);
    if (av_frame_get_buffer(f.get(), 0) < 0) {
      status_ = Status::Error("AUDIO_FAILED", "out of memory for silence");
      return ReadResult::kError;
    }
    std::memset(f->data[0], 0, static_cast<size_t>(kChunk) * kChannels * sizeof(int16_t));
    out->frame = std::move(f);
    out->capture_us = t;
    samples_ += kChunk;
    return ReadResult::kFrame;
  }

  void Interrupt() override {
    std::lock_guard<std::mutex> lock(mu_);
    interrupted_ = true;
    cv_.notify_all();
  }
  Status last_status() const override { return status_; }
  std::string name() const override { return "silence"; }

 private:
  const int64_t start_us_;
  int64_t samples_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool interrupted_ = false;
  Status status_;
};

}  // namespace

std::unique_ptr<AudioSource> CreateSilenceSource(int64_t start_us) { return std::make_unique<SilenceSource>(start_us); }

}  // namespace fieldcast
