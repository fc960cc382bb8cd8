// A small JPEG of the picture on air, for the status page: at most one a
// second, made on the video encode thread from the frame about to be encoded
// (the slate included), scaled with libswscale and encoded with libavcodec's
// `mjpeg`. Raw video never reaches JS; only these few kilobytes do.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "av_ptr.h"
#include "common.h"

namespace fieldcast {

struct Thumbnail {
  std::vector<uint8_t> jpeg;
  int64_t capture_us = 0;  // the picture's capture time, media clock
  int width = 0, height = 0;
};

class Thumbnailer {
 public:
  static constexpr int64_t kIntervalUs = 1000000;
  static constexpr int64_t kFirstDelayUs = 500000;

  // `width`: the thumbnail's width in pixels (even); its height follows the
  // picture's aspect, rounded to even.
  explicit Thumbnailer(int width) : width_(width) {}

  // The video thread: whether the picture taken at capture_us is due one:
  // half a second into the stream, then one a second of media time. The
  // half second keeps them off the test pattern's once-a-second white flash
  // (test_pattern.h), which a whole-second cadence would catch every time.
  bool Due(int64_t capture_us) {
    if (next_due_us_ == INT64_MIN) next_due_us_ = capture_us + kFirstDelayUs;
    return capture_us >= next_due_us_;
  }

  // The video thread: scales and encodes `frame`; the result replaces the
  // latest. Codes: THUMBNAIL_UNAVAILABLE (no mjpeg encoder in this
  // libavcodec, or it would not open), THUMBNAIL_FAILED (this one failed).
  Status Make(const AVFrame& frame, int64_t capture_us);

  // Any thread: the latest thumbnail, or null before the first.
  std::shared_ptr<const Thumbnail> Latest() const {
    std::lock_guard<std::mutex> lock(mu_);
    return latest_;
  }

 private:
  Status OpenEncoder(int width, int height);

  const int width_;
  int64_t next_due_us_ = INT64_MIN;
  // The video thread's own: kept from one thumbnail to the next.
  SwsContextPtr sws_;
  AVFramePtr scaled_;
  AVCodecContextPtr jpeg_;
  AVPacketPtr packet_;

  mutable std::mutex mu_;
  std::shared_ptr<const Thumbnail> latest_;  // under mu_; readers copy out of it without the lock
};

}  // namespace fieldcast
