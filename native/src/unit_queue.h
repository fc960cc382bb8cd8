// The bounded hand-over from the encode threads to JS. Under backpressure (JS
// busy or slow) it drops by this policy, counting every drop:
//   1. all queued non-key video goes first, incoming video is dropped until the
//      next keyframe (a P-frame after a gap cannot be decoded anyway), and a
//      keyframe is requested from the encoder so pictures recover at once;
//   2. then the oldest keyframe;
//   3. audio only when nothing but audio is left over the limit (a gap in the
//      sound is more noticeable than a frozen picture).
// Control messages (started, events, errors, ended) are never dropped but are
// capped in number, so memory stays bounded whatever JS does.
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace fieldcast {

struct OutItem {
  enum class Kind { kUnit, kStarted, kEvent, kError, kEnded };
  Kind kind = Kind::kUnit;
  // kUnit
  bool video = true;
  bool key = false;
  std::vector<uint8_t> data;
  double pts = 0, dts = 0, capture_us = 0;
  // kEvent / kError
  std::string code, message;
  // kStarted
  std::string codec;
  int width = 0, height = 0, fps_num = 0, fps_den = 0, sample_rate = 0, channels = 0;
  bool audio = false;
};

class UnitQueue {
 public:
  UnitQueue(size_t max_units, size_t max_bytes) : max_units_(max_units), max_bytes_(max_bytes) {}

  // Returns true when the caller should schedule a drain on the JS thread.
  bool PushUnit(OutItem&& item);
  bool PushControl(OutItem&& item);
  std::deque<OutItem> TakeAll();
  // The drain could not be scheduled (JS side closing): let the next push retry.
  void ScheduleFailed() {
    std::lock_guard<std::mutex> lock(mu_);
    drain_pending_ = false;
  }

  // True once after a video drop: the encoder should make the next picture an IDR.
  bool TakeKeyframeRequest() { return key_request_.exchange(false); }
  uint64_t dropped_video() const { return dropped_video_; }
  uint64_t dropped_audio() const { return dropped_audio_; }
  size_t depth() const;

 private:
  bool Schedule();  // under mu_
  void DropOldest(bool video);  // under mu_

  const size_t max_units_;
  const size_t max_bytes_;
  static constexpr size_t kMaxControl = 256;
  mutable std::mutex mu_;
  std::deque<OutItem> items_;
  size_t units_ = 0, bytes_ = 0, controls_ = 0;
  bool skip_video_until_key_ = false;
  bool drain_pending_ = false;
  std::atomic<bool> key_request_{false};
  std::atomic<uint64_t> dropped_video_{0}, dropped_audio_{0};
};

}  // namespace fieldcast
