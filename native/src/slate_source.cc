#include "slate_source.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>

#include "font.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace fieldcast {

namespace {

constexpr uint8_t kBackgroundLuma = 32;  // dark grey: clearly "not black video" on a monitor
constexpr uint8_t kTitleLuma = 235;      // nominal white in limited range (BT.709)
constexpr uint8_t kTextLuma = 180;
constexpr uint8_t kNeutralChroma = 128;
constexpr int64_t kMaxCatchUpFrames = 6;  // about 200-250 ms at 24-30 fps: scheduling hiccups, not a stall

AVPixelFormat SlatePixelFormat(AVPixelFormat requested) {
  switch (requested) {
    case AV_PIX_FMT_YUV420P:
    case AV_PIX_FMT_YUV422P:
    case AV_PIX_FMT_YUV444P:
    case AV_PIX_FMT_NV12:
      return requested;
    default:
      return AV_PIX_FMT_YUV420P;
  }
}

// The name may come from config; keep what the font can show and bound its length.
std::string Printable(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (out.size() >= 48) break;
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

class SlateSource final : public VideoSource {
 public:
  SlateSource(const VideoFormat& format, std::string input_name)
      : input_name_(Printable(input_name)) {
    format_ = format;
    format_.pix_fmt = SlatePixelFormat(format.pix_fmt);
  }

  Status Open() override {
    if (format_.width < 16 || format_.height < 16 || format_.width > 8192 || format_.height > 8192 ||
        (format_.width & 1) || (format_.height & 1)) {
      return Status::Error("INVALID_INPUT", "the slate needs an even picture size between 16x16 and 8192x8192");
    }
    if (format_.fps_num <= 0 || format_.fps_den <= 0 || format_.fps_num > 240 * format_.fps_den) {
      return Status::Error("INVALID_INPUT", "the slate needs a frame rate between 0 and 240 fps");
    }
    frame_ = MakeFrame();
    if (!frame_) return Status::Error("OUT_OF_MEMORY", "out of memory allocating the slate picture");
    frame_->width = format_.width;
    frame_->height = format_.height;
    frame_->format = format_.pix_fmt;
    frame_->color_range = AVCOL_RANGE_MPEG;
    frame_->colorspace = format_.height >= 720 ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
    if (av_frame_get_buffer(frame_.get(), 0) < 0) {
      frame_.reset();
      return Status::Error("OUT_OF_MEMORY", "out of memory allocating the slate picture");
    }
    DrawStatic();
    shown_second_ = -1;
    start_us_ = (MonotonicMicros() + 99) / 100 * 100;
    next_index_ = 0;
    return Status::Ok();
  }

  VideoFormat format() const override { return format_; }

  ReadResult Read(int timeout_ms, VideoFrame* out) override {
    if (!frame_) {
      status_ = Status::Error("INVALID_INPUT", "the slate was read before it was opened");
      return ReadResult::kError;
    }
    int64_t now = MonotonicMicros();
    // A reader a few frames late (a busy scheduler) catches up without a hole in the
    // frame rate; one that stalled longer skips to the current slot, not a burst.
    const int64_t elapsed_slots = FrameIndexAt(now);
    if (elapsed_slots > next_index_ + kMaxCatchUpFrames) next_index_ = elapsed_slots;
    const int64_t due = SlotTime(next_index_);
    const int64_t deadline = now + static_cast<int64_t>(std::max(timeout_ms, 0)) * 1000;
    if (!WaitUntil(std::min(due, deadline))) return ReadResult::kTimeout;  // interrupted
    if (due > deadline) return ReadResult::kTimeout;

    UpdateClock();
    AVFramePtr copy(av_frame_clone(frame_.get()));  // shares the picture; UpdateClock copies on write
    if (!copy) {
      status_ = Status::Error("OUT_OF_MEMORY", "out of memory handing out a slate picture");
      return ReadResult::kError;
    }
    out->frame = std::move(copy);
    out->capture_us = due;
    ++next_index_;
    return ReadResult::kFrame;
  }

  void Interrupt() override {
    std::lock_guard<std::mutex> lock(mutex_);
    interrupted_ = true;
    cv_.notify_all();
  }

  Status last_status() const override { return status_; }
  std::string name() const override { return "slate"; }

 private:
  int64_t SlotTime(int64_t index) const {
    // index * den / num seconds, rounded once from the rational (no drift for 1001 rates).
    // With the start on a whole 100 µs, every frame's 90 kHz PTS is exact: 3750 ticks
    // apart at 24 fps, never 3749 or 3751.
    const int64_t num = index * 1000000LL * format_.fps_den;
    return start_us_ + (num + format_.fps_num / 2) / format_.fps_num;
  }
  int64_t FrameIndexAt(int64_t t) const {
    if (t <= start_us_) return 0;
    return (t - start_us_) * format_.fps_num / (1000000LL * format_.fps_den);
  }

  // Sleeps until `until_us` on the media clock; false when Interrupt() woke it.
  bool WaitUntil(int64_t until_us) {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (interrupted_) {
        interrupted_ = false;
        return false;
      }
      const int64_t now = MonotonicMicros();
      if (now >= until_us) return true;
      cv_.wait_for(lock, std::chrono::microseconds(until_us - now));
    }
  }

  int TitleScale() const {
    const int by_height = format_.height / (kGlyphHeight * 7);
    const int by_width = format_.width * 4 / 5 / std::max(TextWidth("NO SIGNAL", 1), 1);
    return std::max(1, std::min(by_height, by_width));
  }
  int TextScale() const { return std::max(1, TitleScale() * 2 / 5); }

  int TitleY() const { return format_.height * 3 / 10; }
  int NameY() const { return TitleY() + TextHeight(TitleScale()) + TextHeight(TextScale()) * 2; }
  int ClockY() const { return NameY() + TextHeight(TextScale()) * 2; }

  void DrawCentered(int y, int scale, const std::string& text, uint8_t luma) {
    DrawText(frame_.get(), (format_.width - TextWidth(text, scale)) / 2, y, scale, text, luma);
  }

  void DrawStatic() {
    AVFrame* f = frame_.get();
    for (int y = 0; y < f->height; ++y) std::memset(f->data[0] + static_cast<ptrdiff_t>(y) * f->linesize[0], kBackgroundLuma, f->width);
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(f->format));
    const int chroma_h = AV_CEIL_RSHIFT(f->height, d->log2_chroma_h);
    for (int p = 1; p < 4 && f->data[p] != nullptr; ++p) {
      for (int y = 0; y < chroma_h; ++y) {
        std::memset(f->data[p] + static_cast<ptrdiff_t>(y) * f->linesize[p], kNeutralChroma, f->linesize[p]);
      }
    }
    DrawCentered(TitleY(), TitleScale(), "NO SIGNAL", kTitleLuma);
    if (!input_name_.empty()) DrawCentered(NameY(), TextScale(), input_name_, kTextLuma);
  }

  // Redraws the clock line when the wall-clock second changed.
  void UpdateClock() {
    const time_t now = time(nullptr);
    if (now == shown_second_) return;
    // Frames handed out earlier still reference this picture: copy before writing.
    if (av_frame_make_writable(frame_.get()) < 0) return;
    shown_second_ = now;
    tm parts{};
    gmtime_r(&now, &parts);
    char text[32];
    snprintf(text, sizeof(text), "%02d:%02d:%02d UTC", parts.tm_hour, parts.tm_min, parts.tm_sec);
    const int scale = TextScale();
    AVFrame* f = frame_.get();
    const int y0 = std::max(ClockY(), 0);
    const int y1 = std::min(ClockY() + TextHeight(scale), f->height);
    for (int y = y0; y < y1; ++y) std::memset(f->data[0] + static_cast<ptrdiff_t>(y) * f->linesize[0], kBackgroundLuma, f->width);
    DrawCentered(ClockY(), scale, text, kTextLuma);
  }

  VideoFormat format_;
  std::string input_name_;
  AVFramePtr frame_;
  time_t shown_second_ = -1;
  int64_t start_us_ = 0;
  int64_t next_index_ = 0;
  Status status_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool interrupted_ = false;
};

}  // namespace

std::unique_ptr<VideoSource> CreateSlateSource(const VideoFormat& format, const std::string& input_name) {
  return std::make_unique<SlateSource>(format, input_name);
}

}  // namespace fieldcast
