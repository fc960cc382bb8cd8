#include "test_pattern.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <string>

#include "font.h"

namespace fieldcast {

TestClock::TestClock(int fps_num, int fps_den, bool paced)
    // Starting on a whole 100 µs (9 ticks of 90 kHz) makes every frame's PTS
    // exact: 3000 ticks apart at 30 fps, 3003 at 29.97, never 2999 or 3001.
    : fps_num_(fps_num), fps_den_(fps_den), paced_(paced), start_us_((MonotonicMicros() + 99) / 100 * 100) {}

int64_t TestClock::FrameTimeUs(int64_t k) const {
  // Exact for 1001 rates: rounded once from the rational, never accumulated.
  const int64_t num = k * 1000000 * fps_den_;
  return start_us_ + (num + fps_num_ / 2) / fps_num_;
}

bool TestClock::IsFlashFrame(int64_t k) const {
  if (k == 0) return true;
  // A whole second n lies in ((k-1)*den/num, k*den/num]: frame k is the first at or after it.
  return (k * fps_den_) / fps_num_ > ((k - 1) * fps_den_) / fps_num_ || (k * fps_den_) % fps_num_ == 0;
}

int64_t TestClock::BeepStartSample(int64_t n) const {
  const int64_t k = (n * fps_num_ + fps_den_ - 1) / fps_den_;  // first frame at or after second n
  const int64_t scaled = k * fps_den_ * kToneRate;
  return (scaled + fps_num_ / 2) / fps_num_;
}

ReadResult TestClock::WaitWall(int64_t media_us, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  const int64_t deadline = MonotonicMicros() + static_cast<int64_t>(timeout_ms) * 1000;
  for (;;) {
    if (interrupted_) return ReadResult::kTimeout;
    const int64_t now = MonotonicMicros();
    if (now >= media_us) return ReadResult::kFrame;
    if (now >= deadline) return ReadResult::kTimeout;
    const int64_t wake = std::min(media_us, deadline);
    cv_.wait_for(lock, std::chrono::microseconds(wake - now));
  }
}

ReadResult TestClock::WaitVideo(int64_t media_us, int timeout_ms) {
  if (paced_) return WaitWall(media_us, timeout_ms);
  std::lock_guard<std::mutex> lock(mu_);
  if (interrupted_) return ReadResult::kTimeout;
  video_media_us_ = media_us;
  cv_.notify_all();
  return ReadResult::kFrame;
}

ReadResult TestClock::WaitAudio(int64_t media_us, int timeout_ms) {
  if (paced_) return WaitWall(media_us, timeout_ms);
  std::unique_lock<std::mutex> lock(mu_);
  const bool due = cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                [&] { return interrupted_ || released_ || video_media_us_ >= media_us; });
  return due && !interrupted_ ? ReadResult::kFrame : ReadResult::kTimeout;
}

void TestClock::ReleaseAudio() {
  std::lock_guard<std::mutex> lock(mu_);
  released_ = true;
  cv_.notify_all();
}

void TestClock::Interrupt() {
  std::lock_guard<std::mutex> lock(mu_);
  interrupted_ = true;
  cv_.notify_all();
}

namespace {

struct Yuv {
  uint8_t y, u, v;
};

// 75% colour bars, ITU-R BT.709 limited range (SMPTE RP 219 top row order).
constexpr Yuv kBars[] = {{180, 128, 128}, {168, 44, 136}, {145, 147, 44}, {133, 63, 52},
                         {63, 193, 204},  {51, 109, 212}, {28, 212, 120}};
constexpr uint8_t kBlack = 16;
constexpr uint8_t kWhite = 235;

void FillRect(AVFrame* f, int x, int y, int w, int h, Yuv c) {
  x = std::max(0, x);
  y = std::max(0, y);
  w = std::min(w, f->width - x);
  h = std::min(h, f->height - y);
  if (w <= 0 || h <= 0) return;
  for (int r = y; r < y + h; ++r) std::memset(f->data[0] + r * f->linesize[0] + x, c.y, w);
  for (int r = y / 2; r < (y + h + 1) / 2; ++r) {
    std::memset(f->data[1] + r * f->linesize[1] + x / 2, c.u, (w + 1) / 2);
    std::memset(f->data[2] + r * f->linesize[2] + x / 2, c.v, (w + 1) / 2);
  }
}

class TestPatternVideo : public VideoSource {
 public:
  TestPatternVideo(const TestPatternOptions& o, std::shared_ptr<TestClock> clock) : options_(o), clock_(std::move(clock)) {}

  Status Open() override {
    base_ = MakeFrame();
    if (!base_) return Status::Error("ENCODER_OPEN_FAILED", "out of memory for the test pattern");
    base_->format = AV_PIX_FMT_YUV420P;
    base_->width = options_.width;
    base_->height = options_.height;
    if (av_frame_get_buffer(base_.get(), 32) < 0) return Status::Error("ENCODER_OPEN_FAILED", "out of memory for the test pattern");
    DrawBase(base_.get());
    return Status::Ok();
  }

  VideoFormat format() const override {
    return VideoFormat{options_.width, options_.height, AV_PIX_FMT_YUV420P, clock_->fps_num(), clock_->fps_den()};
  }

  ReadResult Read(int timeout_ms, VideoFrame* out) override {
    const int64_t t = clock_->FrameTimeUs(next_);
    const ReadResult r = clock_->WaitVideo(t, timeout_ms);
    if (r != ReadResult::kFrame) return r;
    AVFramePtr f = MakeFrame();
    if (!f || av_frame_ref(f.get(), base_.get()) < 0 || av_frame_make_writable(f.get()) < 0) {
      status_ = Status::Error("ENCODER_OPEN_FAILED", "out of memory drawing the test pattern");
      return ReadResult::kError;
    }
    DrawDynamic(f.get(), next_, t);
    out->frame = std::move(f);
    out->capture_us = t;
    ++next_;
    return ReadResult::kFrame;
  }

  void Interrupt() override { clock_->Interrupt(); }
  Status last_status() const override { return status_; }
  std::string name() const override { return "test pattern"; }

 private:
  int BandTop() const { return options_.height * kTimecodeBandNum / kTimecodeBandDen; }

  void DrawBase(AVFrame* f) {
    const int w = f->width, h = f->height;
    const int bars_h = h * 6 / 10;
    const int noise_top = h / 2;
    for (int i = 0; i < 7; ++i) {
      const int x0 = w * i / 7, x1 = w * (i + 1) / 7;
      FillRect(f, x0, 0, x1 - x0, noise_top, kBars[i]);
    }
    FillRect(f, 0, noise_top, w, bars_h - noise_top, {128, 128, 128});
    // A luma ramp under the bars: the moving box travels over it.
    const int ramp_h = h * 3 / 20;
    FillRect(f, 0, bars_h, w, ramp_h, {kBlack, 128, 128});
    for (int r = bars_h; r < bars_h + ramp_h; ++r) {
      uint8_t* row = f->data[0] + r * f->linesize[0];
      for (int x = 0; x < w; ++x) row[x] = static_cast<uint8_t>(kBlack + (kWhite - kBlack) * x / std::max(1, w - 1));
    }
    FillRect(f, 0, bars_h + ramp_h, w, h - bars_h - ramp_h, {kBlack, 128, 128});
  }

  void DrawDynamic(AVFrame* f, int64_t k, int64_t capture_us) {
    const int w = f->width, h = f->height;
    const int bars_h = h * 6 / 10, ramp_h = h * 3 / 20;
    const bool flash = clock_->IsFlashFrame(k);
    if (flash) {
      FillRect(f, 0, 0, w, BandTop(), {kWhite, 128, 128});
      DrawSecondCode(f, TestClock::SecondCode(clock_->SecondOfFrame(k)));
    } else {
      DrawNoise(f, h / 2, bars_h, k);
    }
    // Moving element: one pass across the ramp every 4 s at any rate.
    const int box = std::max(8, ramp_h - ramp_h / 4);
    const int64_t period = 4LL * clock_->fps_num() / clock_->fps_den();
    const int travel = std::max(1, w - box);
    const int x = static_cast<int>((k % std::max<int64_t>(1, period)) * travel / std::max<int64_t>(1, period));
    FillRect(f, x, bars_h + (ramp_h - box) / 2, box, box, flash ? Yuv{kBlack, 128, 128} : Yuv{kWhite, 90, 240});
    // Frame number and rate, human-readable.
    const int scale = std::max(1, h / 180);
    char rate[32];
    if (clock_->fps_den() == 1) snprintf(rate, sizeof rate, "%d", clock_->fps_num());
    else snprintf(rate, sizeof rate, "%.2f", static_cast<double>(clock_->fps_num()) / clock_->fps_den());
    const std::string caption = "FIELDCAST  FRAME " + std::to_string(k) + "  " + std::to_string(w) + "X" + std::to_string(h) + " " + rate;
    const int text_y = bars_h + ramp_h + (BandTop() - bars_h - ramp_h - TextHeight(scale)) / 2;
    DrawText(f, std::max(0, (w - TextWidth(caption, scale)) / 2), text_y, scale, caption, flash ? kBlack : kWhite);
    DrawTimecode(f, static_cast<uint64_t>(capture_us));
  }

  // Fresh grain every frame under the bars: like a camera's sensor noise it
  // costs real bits, so rate control and bitrate changes behave as they would
  // with pictures from a camera (static bars alone encode to almost nothing).
  void DrawNoise(AVFrame* f, int top, int bottom, int64_t k) {
    uint32_t x = static_cast<uint32_t>(k) * 2654435761u + 1u;
    for (int r = top; r < bottom; ++r) {
      uint8_t* row = f->data[0] + r * f->linesize[0];
      for (int c = 0; c < f->width; ++c) {
        x ^= x << 13;  // xorshift32
        x ^= x >> 17;
        x ^= x << 5;
        row[c] = static_cast<uint8_t>(128 - 40 + (x & 63) + ((x >> 8) & 15));
      }
    }
  }

  // The flash's second code: one black cell in a strip of kSecondCodes (layout in test_pattern.h).
  void DrawSecondCode(AVFrame* f, int code) {
    const int w = f->width, h = f->height;
    const int top = h / kSecondStripDivisor, bottom = 2 * h / kSecondStripDivisor;
    const int x0 = w * code / kSecondCodes, x1 = w * (code + 1) / kSecondCodes;
    FillRect(f, x0, top, x1 - x0, bottom - top, {kBlack, 128, 128});
  }

  void DrawTimecode(AVFrame* f, uint64_t value) {
    const int w = f->width, h = f->height;
    const int top = BandTop(), band = h - top;
    FillRect(f, 0, top, w, band, {kBlack, 128, 128});
    const int bw = w / kTimecodeBlockDivisor;
    const int x0 = (w - kTimecodeBlocks * bw) / 2;
    const int margin = band / 8;
    int parity = 0;
    for (int i = 0; i < kTimecodeBlocks; ++i) {
      bool white;
      if (i < 3) white = i != 1;
      else if (i < 3 + kTimecodeDataBits) {
        white = (value >> (kTimecodeDataBits - 1 - (i - 3))) & 1;
        parity ^= white ? 1 : 0;
      } else if (i == 3 + kTimecodeDataBits) white = parity != 0;
      else white = true;
      if (white) FillRect(f, x0 + i * bw, top + margin, bw, band - 2 * margin, {kWhite, 128, 128});
    }
  }

  const TestPatternOptions options_;
  std::shared_ptr<TestClock> clock_;
  AVFramePtr base_;
  int64_t next_ = 0;
  Status status_;
};

class TestToneAudio : public AudioSource {
 public:
  explicit TestToneAudio(std::shared_ptr<TestClock> clock) : clock_(std::move(clock)) {}

  Status Open() override { return Status::Ok(); }
  int sample_rate() const override { return kToneRate; }
  int channels() const override { return kToneChannels; }

  ReadResult Read(int timeout_ms, AudioChunk* out) override {
    const int64_t first = next_sample_;
    const int64_t t = clock_->start_us() + (first * 1000000 + kToneRate / 2) / kToneRate;
    // A chunk is complete once its last sample's time has come.
    const int64_t due = clock_->start_us() + ((first + kToneChunk) * 1000000) / kToneRate;
    const ReadResult r = clock_->WaitAudio(due, timeout_ms);
    if (r != ReadResult::kFrame) return r;
    AVFramePtr f = MakeFrame();
    f->format = AV_SAMPLE_FMT_S16;
    f->nb_samples = kToneChunk;
    f->sample_rate = kToneRate;
    av_channel_layout_default(&f->ch_layout, kToneChannels);
    if (av_frame_get_buffer(f.get(), 0) < 0) {
      status_ = Status::Error("AUDIO_FAILED", "out of memory for the test tone");
      return ReadResult::kError;
    }
    auto* pcm = reinterpret_cast<int16_t*>(f->data[0]);
    for (int i = 0; i < kToneChunk; ++i) {
      const int64_t s = first + i;
      const int64_t second = s / kToneRate;
      const int64_t beep = clock_->BeepStartSample(second);
      int16_t v = 0;
      if (s >= beep && s < beep + kBeepSamples) {
        // -6 dBFS sine at the second's pitch, phase zero at the flash's media time.
        const double hz = kBeepBaseHz + kBeepStepHz * TestClock::SecondCode(second);
        v = static_cast<int16_t>(16384.0 * std::sin(2.0 * M_PI * hz * static_cast<double>(s - beep) / kToneRate));
      }
      for (int c = 0; c < kToneChannels; ++c) pcm[i * kToneChannels + c] = v;
    }
    out->frame = std::move(f);
    out->capture_us = t;
    next_sample_ += kToneChunk;
    return ReadResult::kFrame;
  }

  void Interrupt() override { clock_->Interrupt(); }
  Status last_status() const override { return status_; }
  std::string name() const override { return "test tone"; }

 private:
  std::shared_ptr<TestClock> clock_;
  int64_t next_sample_ = 0;
  Status status_;
};

}  // namespace

std::unique_ptr<VideoSource> CreateTestPatternVideo(const TestPatternOptions& options, std::shared_ptr<TestClock> clock) {
  return std::make_unique<TestPatternVideo>(options, std::move(clock));
}

std::unique_ptr<AudioSource> CreateTestToneAudio(std::shared_ptr<TestClock> clock) {
  return std::make_unique<TestToneAudio>(std::move(clock));
}

}  // namespace fieldcast
