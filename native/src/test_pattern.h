// The built-in test pattern: a picture source (SMPTE bars, a moving box, the
// frame number, the capture time drawn as blocks, a white flash once a second
// carrying that second's code) and its test tone (a 100 ms beep starting at
// each flash's media time, its pitch the same second's code; silence
// otherwise). Both read one TestClock so they stay in step.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "source.h"

namespace fieldcast {

// Geometry of the capture-time code (read back by src/media/timecode.ts —
// change both together). The bottom band of the picture, rows from
// H*17/20 to H, is black; on it sit kTimecodeBlocks blocks of width W/72
// centred horizontally: white, black, white (start marks and the reader's
// luma references), 64 bits of capture_us MSB first (white = 1), an even
// parity bit over those 64, and a white end mark. Blocks are at least 16 px
// wide at 1280x720 so they survive encoding at 1 Mbit/s.
constexpr int kTimecodeDataBits = 64;
constexpr int kTimecodeBlocks = 3 + kTimecodeDataBits + 1 + 1;
constexpr int kTimecodeBlockDivisor = 72;  // block width = W / 72
constexpr int kTimecodeBandNum = 17;       // band top = H * 17 / 20
constexpr int kTimecodeBandDen = 20;

// Second code (read back by src/media/timecode.ts and src/media/far-end.ts —
// change all together). Whole second n of media time (counted from the
// clock's start) has code c = n mod kSecondCodes, marked in both halves so a
// far end pairs a beep with the flash of its own second and an A/V offset of
// whole seconds (up to kSecondCodes/2) shows instead of folding back to 0:
// - picture: on the flash frame of second n, rows H/10 to 2*H/10 hold a strip
//   of K = kSecondCodes cells across the full width, cell i from x = W*i/K to
//   W*(i+1)/K; cell c is black, the others stay flash white. One dark cell of
//   16 is self-checking (exactly one must read dark), is 40x36 px even at
//   640x360 so it survives encoding at 1 Mbit/s, and costs the flash only
//   about 1% of its mean luma.
// - sound: the beep of second n is a sine of kBeepBaseHz + kBeepStepHz * c
//   (500 ... 2000 Hz). Each pitch fits a whole number of cycles in 100 ms (the
//   beep ends at zero phase, without a click), pitches lie 10 bins of a
//   100 ms window apart, and all sit well inside what AAC at 128 kbit/s
//   carries cleanly.
constexpr int kSecondCodes = 16;
constexpr int kSecondStripDivisor = 10;  // strip rows H/10 .. 2*H/10
constexpr int kBeepBaseHz = 500;
constexpr int kBeepStepHz = 100;

constexpr int kToneRate = 48000;
constexpr int kToneChannels = 2;
constexpr int kToneChunk = 1024;      // samples per chunk: one AAC frame
constexpr int kBeepSamples = 4800;    // 100 ms

// The media time both halves of the pattern follow. Paced: frame k is due at
// start + k*den/num seconds of the monotonic clock. Unpaced: video runs as fast
// as it is read, its timestamps still on that cadence, and the tone waits for
// the video's media time so the two never drift apart.
class TestClock {
 public:
  TestClock(int fps_num, int fps_den, bool paced);

  int fps_num() const { return fps_num_; }
  int fps_den() const { return fps_den_; }
  bool paced() const { return paced_; }
  int64_t start_us() const { return start_us_; }
  int64_t FrameTimeUs(int64_t k) const;
  // The first frame at or after each whole second of media time flashes.
  bool IsFlashFrame(int64_t k) const;
  // Sample index (from start, 48 kHz) at which the beep of the flash in second n starts.
  int64_t BeepStartSample(int64_t n) const;
  // Whole seconds of media time at frame k: on a flash frame, the second it marks.
  int64_t SecondOfFrame(int64_t k) const { return k * fps_den_ / fps_num_; }
  static int SecondCode(int64_t n) { return static_cast<int>(n % kSecondCodes); }

  // Blocks until media_us is due (paced: the clock reaches it; unpaced audio:
  // the video has reached it). kTimeout after timeout_ms, false on Interrupt.
  // Unpaced video never waits: it advances the media time instead.
  ReadResult WaitVideo(int64_t media_us, int timeout_ms);
  ReadResult WaitAudio(int64_t media_us, int timeout_ms);
  // Unpaced: lets the tone run to the end once the video has stopped.
  void ReleaseAudio();
  void Interrupt();

 private:
  ReadResult WaitWall(int64_t media_us, int timeout_ms);

  const int fps_num_;
  const int fps_den_;
  const bool paced_;
  const int64_t start_us_;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t video_media_us_ = INT64_MIN;
  bool released_ = false;
  bool interrupted_ = false;
};

struct TestPatternOptions {
  int width = 1280;
  int height = 720;
};

// Picture source on `clock`, YUV420P, BT.709 limited range.
std::unique_ptr<VideoSource> CreateTestPatternVideo(const TestPatternOptions& options, std::shared_ptr<TestClock> clock);
// 48 kHz stereo S16 tone source on `clock`.
std::unique_ptr<AudioSource> CreateTestToneAudio(std::shared_ptr<TestClock> clock);

}  // namespace fieldcast
