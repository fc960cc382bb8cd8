#include "v4l2_negotiate.h"

#include <string.h>

#include <algorithm>

#include "v4l2_frame.h"

namespace fieldcast {

namespace {

constexpr uint32_t kAutoOrder[] = {V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_UYVY, V4L2_PIX_FMT_MJPEG};

// Non-DV devices: the rate from S_PARM/G_PARM (timeperframe is seconds per frame).
void ReadStreamRate(const V4l2Device& dev, const V4l2Options& opt, VideoFormat* f) {
  v4l2_streamparm parm{};
  parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (opt.fps > 0) {
    parm.parm.capture.timeperframe = {1, static_cast<uint32_t>(opt.fps)};
    dev.Ioctl(VIDIOC_S_PARM, &parm);
  }
  if (dev.Ioctl(VIDIOC_G_PARM, &parm) == 0 && parm.parm.capture.timeperframe.numerator > 0) {
    f->fps_num = static_cast<int>(parm.parm.capture.timeperframe.denominator);
    f->fps_den = static_cast<int>(parm.parm.capture.timeperframe.numerator);
  }
}

}  // namespace

Status PickCaptureFourcc(const V4l2Device& dev, const V4l2Options& opt, uint32_t* fourcc) {
  const auto formats = dev.EnumFormats();
  auto offered = [&](uint32_t f) {
    return std::any_of(formats.begin(), formats.end(), [f](const v4l2_fmtdesc& d) { return d.pixelformat == f; });
  };
  if (opt.pixel_format != 0) {
    if (!offered(opt.pixel_format) || CapturedPixelFormat(opt.pixel_format) == AV_PIX_FMT_NONE) {
      return Status::Error("INPUT_UNSUPPORTED", opt.device + " cannot capture " + FourccToString(opt.pixel_format) +
                                                    " (Fieldcast reads YUYV, UYVY, NV12 and MJPEG)");
    }
    *fourcc = opt.pixel_format;
    return Status::Ok();
  }
  for (uint32_t f : kAutoOrder) {
    if (offered(f)) {
      *fourcc = f;
      return Status::Ok();
    }
  }
  std::string list;
  for (const auto& d : formats) list += (list.empty() ? "" : ", ") + FourccToString(d.pixelformat);
  return Status::Error("INPUT_UNSUPPORTED", opt.device + " offers none of YUYV, UYVY, NV12, MJPEG (it offers: " +
                                                (list.empty() ? "nothing" : list) + ")");
}

Status NegotiateCapture(const V4l2Device& dev, const std::string& name, const V4l2Options& opt, uint32_t fourcc, bool dv,
                        const v4l2_dv_timings* timings, NegotiatedFormat* out) {
  v4l2_dv_timings current{};
  if (dv) {
    if (timings != nullptr) {
      if (dev.GetDvTimings(&current) != 0 || !SameDvTimings(current.bt, timings->bt)) {
        if (Status s = dev.SetDvTimings(*timings); !s.ok()) return s;
      }
      current = *timings;
    } else {
      dev.GetDvTimings(&current);
    }
  }
  v4l2_format fmt{};
  fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (int e = dev.Ioctl(VIDIOC_G_FMT, &fmt); e < 0) {
    return Status::Error("INPUT_UNSUPPORTED", "cannot read the capture format of " + name + " (" + strerror(-e) + ")");
  }
  fmt.fmt.pix.pixelformat = fourcc;
  if (dv && current.bt.width > 0) {
    fmt.fmt.pix.width = current.bt.width;
    fmt.fmt.pix.height = current.bt.height;
    fmt.fmt.pix.field = current.bt.interlaced ? V4L2_FIELD_INTERLACED : V4L2_FIELD_NONE;
  } else if (opt.width > 0 && opt.height > 0) {
    fmt.fmt.pix.width = static_cast<uint32_t>(opt.width);
    fmt.fmt.pix.height = static_cast<uint32_t>(opt.height);
    fmt.fmt.pix.field = V4L2_FIELD_NONE;
  }
  fmt.fmt.pix.bytesperline = 0;  // let the driver choose its stride
  if (int e = dev.Ioctl(VIDIOC_S_FMT, &fmt); e < 0) {
    return Status::Error(e == -EBUSY ? "INPUT_BUSY" : "INPUT_UNSUPPORTED",
                         "cannot set the capture format of " + name + " (" + strerror(-e) + ")");
  }
  if (fmt.fmt.pix.pixelformat != fourcc) {
    return Status::Error("INPUT_UNSUPPORTED", name + " refused the pixel format " + FourccToString(fourcc));
  }
  VideoFormat f;
  f.width = static_cast<int>(fmt.fmt.pix.width);
  f.height = static_cast<int>(fmt.fmt.pix.height);
  f.pix_fmt = CapturedPixelFormat(fourcc);
  if (dv && current.bt.width > 0) {
    DvTimingsRate(current.bt, &f.fps_num, &f.fps_den);
  } else {
    ReadStreamRate(dev, opt, &f);
  }
  if (f.fps_num <= 0) {
    f.fps_num = 30;  // the driver says nothing; frames still carry their own capture times
    f.fps_den = 1;
  }
  out->format = f;
  out->bytesperline = static_cast<int>(fmt.fmt.pix.bytesperline);
  out->sizeimage = fmt.fmt.pix.sizeimage;
  return Status::Ok();
}

}  // namespace fieldcast
