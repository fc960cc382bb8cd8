// V4L2 capture (HDMI-CSI bridges, HDMI receivers, UVC) as a VideoSource.
//
// Read() behaviour beyond source.h:
// - No signal (QUERY_DV_TIMINGS says ENOLINK/ENOLCK/ERANGE, the input reports
//   V4L2_IN_ST_NO_SIGNAL/NO_SYNC/NO_H_LOCK, or no frame for stall_ms): streaming
//   stops and Read returns kNoSignal (code INPUT_NO_SIGNAL) at once, then again
//   after each timeout while the signal stays away. Open() succeeds with no
//   signal: format() is then the device's configured format.
// - Signal back: the timings it detects are set, the format renegotiated and
//   buffers rebuilt; Read returns kFormatChanged (INPUT_FORMAT_CHANGED) when
//   size, pixel format or rate differ from the last format(), then frames.
// - Interrupt() wakes one blocked Read (or makes the next one return) with kTimeout.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "source.h"

namespace fieldcast {

struct V4l2Options {
  std::string device;        // /dev/videoN
  int input = -1;            // VIDIOC_S_INPUT index; -1 keeps the current input
  int buffers = 4;           // mmap buffers (2..32)
  uint32_t pixel_format = 0; // V4L2 fourcc to insist on; 0 picks NV12, YUYV, UYVY, then MJPEG
  // Devices without DV timings (UVC): the size and rate to ask for; 0 keeps the device's.
  int width = 0;
  int height = 0;
  int fps = 0;
  int stall_ms = 2000;       // no frame for this long while streaming counts as signal loss
};

// Returns a source ready to Open(); never null.
std::unique_ptr<VideoSource> CreateV4l2Source(const V4l2Options& options);

}  // namespace fieldcast
