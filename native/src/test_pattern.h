// The built-in test pattern: a picture source (SMPTE bars, a moving box, the
// frame number, the capture time drawn as blocks, a white flash once a second)
// and its test tone (a 100 ms 1 kHz beep starting at each flash's media time,
// silence otherwise). Both read one TestClock so they stay in step.
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

constexpr int kToneRate = 48000;
constexpr int kToneChannels = 2;
constexpr int kToneChunk = 1024;      // samples per chunk: one AAC frame
constexpr int kBeepSamples = 4800;    // 100 ms
constexpr int kBeepHz = 1000;

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
