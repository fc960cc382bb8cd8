// Choosing and setting a V4L2 capture format: the pixel format Fieldcast
// reads, the DV timings of an HDMI input, size, stride and frame rate.
#pragma once
#include <linux/videodev2.h>

#include <cstdint>
#include <string>

#include "source.h"
#include "v4l2_device.h"
#include "v4l2_source.h"

namespace fieldcast {

// opt.pixel_format when offered, else NV12, YUYV, UYVY, then MJPEG.
Status PickCaptureFourcc(const V4l2Device& dev, const V4l2Options& opt, uint32_t* fourcc);

struct NegotiatedFormat {
  VideoFormat format;        // as delivered to the reader
  int bytesperline = 0;      // the driver's stride
  uint32_t sizeimage = 0;
};

// DV inputs: sets `timings` (when given and different) else keeps the current
// ones; then S_FMT with `fourcc` at that size. Other devices: opt's size and
// rate when given. `name` is for messages.
Status NegotiateCapture(const V4l2Device& dev, const std::string& name, const V4l2Options& opt, uint32_t fourcc, bool dv,
                        const v4l2_dv_timings* timings, NegotiatedFormat* out);

}  // namespace fieldcast
