// V4L2 capture (HDMI-CSI bridges, HDMI receivers, UVC) as a VideoSource.
#pragma once
#include <memory>
#include <string>

#include "source.h"

namespace fieldcast {

struct V4l2Options {
  std::string device;  // /dev/videoN
  int input = -1;      // VIDIOC_S_INPUT index; -1 keeps the current input
  int buffers = 4;     // mmap buffers
};

// Returns a source ready to Open(); never null.
std::unique_ptr<VideoSource> CreateV4l2Source(const V4l2Options& options);

}  // namespace fieldcast
