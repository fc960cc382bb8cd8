// The interface every picture and sound source implements: the test pattern,
// V4L2 capture, ALSA capture, and the slate. The encoder session pulls from
// a source on its own thread; sources never touch JS.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>

#include "av_ptr.h"
#include "common.h"

namespace fieldcast {

struct VideoFormat {
  int width = 0;
  int height = 0;
  AVPixelFormat pix_fmt = AV_PIX_FMT_NONE;
  int fps_num = 30;  // exact rates: 30000/1001 for 29.97
  int fps_den = 1;
};

// A picture with its capture time on the media clock (MonotonicMicros()).
struct VideoFrame {
  AVFramePtr frame;
  int64_t capture_us = 0;
};

// Interleaved signed 16-bit PCM at 48 kHz; capture_us is the first sample's time.
struct AudioChunk {
  AVFramePtr frame;  // format AV_SAMPLE_FMT_S16, nb_samples, channel layout set
  int64_t capture_us = 0;
};

enum class ReadResult {
  kFrame,          // *out holds a frame
  kTimeout,        // nothing within the timeout; call again
  kNoSignal,       // the input lost its signal (code INPUT_NO_SIGNAL); keep calling, frames resume
  kFormatChanged,  // new format; format() tells it (code INPUT_FORMAT_CHANGED)
  kError,          // unrecoverable; last_status() says why
};

class VideoSource {
 public:
  virtual ~VideoSource() = default;
  virtual Status Open() = 0;
  virtual VideoFormat format() const = 0;
  // Blocks up to timeout_ms. Must return promptly after Interrupt().
  virtual ReadResult Read(int timeout_ms, VideoFrame* out) = 0;
  // Called from another thread to wake a blocked Read().
  virtual void Interrupt() = 0;
  virtual Status last_status() const = 0;
  virtual std::string name() const = 0;
};

class AudioSource {
 public:
  virtual ~AudioSource() = default;
  virtual Status Open() = 0;
  virtual int sample_rate() const = 0;
  virtual int channels() const = 0;
  virtual ReadResult Read(int timeout_ms, AudioChunk* out) = 0;
  virtual void Interrupt() = 0;
  virtual Status last_status() const = 0;
  virtual std::string name() const = 0;
};

}  // namespace fieldcast
