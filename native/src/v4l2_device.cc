#include "v4l2_device.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace fieldcast {

std::string FourccToString(uint32_t f) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const char c = static_cast<char>((f >> (8 * i)) & 0xff);
    s.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

double DvTimingsFps(const v4l2_bt_timings& bt) {
  const double total_w = bt.width + bt.hfrontporch + bt.hsync + bt.hbackporch;
  double total_h = bt.height + bt.vfrontporch + bt.vsync + bt.vbackporch;
  if (bt.interlaced) total_h += bt.il_vfrontporch + bt.il_vsync + bt.il_vbackporch;
  if (total_w <= 0 || total_h <= 0 || bt.pixelclock == 0) return 0;
  // For interlaced timings the totals span both fields, so this is frames/s.
  return static_cast<double>(bt.pixelclock) / (total_w * total_h);
}

void DvTimingsRate(const v4l2_bt_timings& bt, int* num, int* den) {
  const double fps = DvTimingsFps(bt);
  *num = 0;
  *den = 1;
  if (fps <= 0) return;
  // Broadcast rates are N or N*1000/1001 (CTA-861 "1/1.001" variants); snap to
  // the exact fraction so PTS never drift, else keep three decimals.
  const double n = std::round(fps);
  const double n1001 = std::round(fps * 1.001);
  if (std::fabs(fps - n) < n * 1e-4) {
    *num = static_cast<int>(n);
  } else if (std::fabs(fps - n1001 * 1000.0 / 1001.0) < n1001 * 1e-4) {
    *num = static_cast<int>(n1001) * 1000;
    *den = 1001;
  } else {
    *num = static_cast<int>(std::round(fps * 1000));
    *den = 1000;
  }
}

std::string DvTimingsLabel(const v4l2_bt_timings& bt) {
  char buf[64];
  snprintf(buf, sizeof(buf), "%ux%u%c%.2f", bt.width, bt.height, bt.interlaced ? 'i' : 'p', DvTimingsFps(bt));
  return buf;
}

bool SameDvTimings(const v4l2_bt_timings& a, const v4l2_bt_timings& b) {
  return a.width == b.width && a.height == b.height && a.interlaced == b.interlaced &&
         a.pixelclock == b.pixelclock && a.hfrontporch == b.hfrontporch && a.hsync == b.hsync &&
         a.hbackporch == b.hbackporch && a.vfrontporch == b.vfrontporch && a.vsync == b.vsync &&
         a.vbackporch == b.vbackporch;
}

Status V4l2Device::Open(const std::string& path) {
  path_ = path;
  const int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    std::string why = e == ENOENT   ? "it does not exist (is the capture card connected?)"
                      : e == EBUSY  ? "another program is using it"
                      : e == EACCES ? "permission denied (is the service in the video group?)"
                                    : strerror(e);
    return Status::Error("INPUT_UNAVAILABLE", "cannot open capture device " + path + ": " + why);
  }
  fd_.reset(fd);
  return Status::Ok();
}

int V4l2Device::Ioctl(unsigned long request, void* arg) const {
  int r;
  do {
    r = ::ioctl(fd_.get(), request, arg);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : 0;
}

Status V4l2Device::QueryCap(v4l2_capability* cap) const {
  *cap = {};
  if (int e = Ioctl(VIDIOC_QUERYCAP, cap); e < 0) {
    return Status::Error("INPUT_UNSUPPORTED", path_ + " is not a V4L2 device (" + strerror(-e) + ")");
  }
  return Status::Ok();
}

uint32_t V4l2Device::EffectiveCaps(const v4l2_capability& cap) {
  return (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
}

std::vector<v4l2_input> V4l2Device::EnumInputs() const {
  std::vector<v4l2_input> inputs;
  for (uint32_t i = 0; i < 64; ++i) {
    v4l2_input in{};
    in.index = i;
    if (Ioctl(VIDIOC_ENUMINPUT, &in) < 0) break;
    inputs.push_back(in);
  }
  return inputs;
}

int V4l2Device::CurrentInput() const {
  int index = -1;
  if (Ioctl(VIDIOC_G_INPUT, &index) < 0) return -1;
  return index;
}

Status V4l2Device::SelectInput(int index) const {
  int i = index;
  if (int e = Ioctl(VIDIOC_S_INPUT, &i); e < 0) {
    return Status::Error("INPUT_UNAVAILABLE", "cannot select input " + std::to_string(index) + " of " + path_ +
                                                  " (" + strerror(-e) + ")");
  }
  return Status::Ok();
}

uint32_t V4l2Device::CurrentInputStatus() const {
  v4l2_input in{};
  const int cur = CurrentInput();
  if (cur < 0) return 0;
  in.index = static_cast<uint32_t>(cur);
  if (Ioctl(VIDIOC_ENUMINPUT, &in) < 0) return 0;
  return in.status;
}

bool V4l2Device::CurrentInputHasDvTimings() const {
  v4l2_input in{};
  const int cur = CurrentInput();
  if (cur < 0) {
    // Bridges without an input list (subdevice-style drivers) still answer G_DV_TIMINGS.
    v4l2_dv_timings t{};
    return GetDvTimings(&t) == 0;
  }
  in.index = static_cast<uint32_t>(cur);
  if (Ioctl(VIDIOC_ENUMINPUT, &in) < 0) return false;
  return (in.capabilities & V4L2_IN_CAP_DV_TIMINGS) != 0;
}

int V4l2Device::QueryDvTimings(v4l2_dv_timings* out) const {
  *out = {};
  return Ioctl(VIDIOC_QUERY_DV_TIMINGS, out);
}

int V4l2Device::GetDvTimings(v4l2_dv_timings* out) const {
  *out = {};
  return Ioctl(VIDIOC_G_DV_TIMINGS, out);
}

Status V4l2Device::SetDvTimings(const v4l2_dv_timings& timings) const {
  v4l2_dv_timings t = timings;
  if (int e = Ioctl(VIDIOC_S_DV_TIMINGS, &t); e < 0) {
    return Status::Error(e == -EBUSY ? "INPUT_BUSY" : "INPUT_UNSUPPORTED",
                         "cannot set the video timings " + DvTimingsLabel(timings.bt) + " on " + path_ + " (" +
                             (e == -EBUSY ? std::string("the device is capturing") : std::string(strerror(-e))) + ")");
  }
  return Status::Ok();
}

std::vector<v4l2_dv_timings> V4l2Device::EnumDvTimings() const {
  std::vector<v4l2_dv_timings> out;
  for (uint32_t i = 0; i < 512; ++i) {
    v4l2_enum_dv_timings e{};
    e.index = i;
    if (Ioctl(VIDIOC_ENUM_DV_TIMINGS, &e) < 0) break;
    out.push_back(e.timings);
  }
  return out;
}

std::vector<v4l2_fmtdesc> V4l2Device::EnumFormats() const {
  std::vector<v4l2_fmtdesc> out;
  for (uint32_t i = 0; i < 256; ++i) {
    v4l2_fmtdesc d{};
    d.index = i;
    d.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (Ioctl(VIDIOC_ENUM_FMT, &d) < 0) break;
    out.push_back(d);
  }
  return out;
}

std::vector<v4l2_frmsizeenum> V4l2Device::EnumFrameSizes(uint32_t fourcc) const {
  std::vector<v4l2_frmsizeenum> out;
  for (uint32_t i = 0; i < 256; ++i) {
    v4l2_frmsizeenum s{};
    s.index = i;
    s.pixel_format = fourcc;
    if (Ioctl(VIDIOC_ENUM_FRAMESIZES, &s) < 0) break;
    out.push_back(s);
    if (s.type != V4L2_FRMSIZE_TYPE_DISCRETE) break;  // one stepwise/continuous range
  }
  return out;
}

MmapBuffers::~MmapBuffers() { Release(); }

Status MmapBuffers::Allocate(const V4l2Device& device, int count) {
  Release();
  device_ = &device;
  v4l2_requestbuffers req{};
  req.count = static_cast<uint32_t>(count);
  req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  req.memory = V4L2_MEMORY_MMAP;
  if (int e = device.Ioctl(VIDIOC_REQBUFS, &req); e < 0) {
    return Status::Error("INPUT_UNSUPPORTED", device.path() + " cannot stream through mmap buffers (" +
                                                  strerror(-e) + ")");
  }
  if (req.count < 2) {
    Release();
    return Status::Error("INPUT_UNSUPPORTED", device.path() + " gave fewer than 2 capture buffers");
  }
  for (uint32_t i = 0; i < req.count; ++i) {
    v4l2_buffer buf{};
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    buf.index = i;
    if (int e = device.Ioctl(VIDIOC_QUERYBUF, &buf); e < 0) {
      Release();
      return Status::Error("INPUT_UNSUPPORTED", "cannot query capture buffer " + std::to_string(i) + " (" +
                                                    strerror(-e) + ")");
    }
    void* addr = ::mmap(nullptr, buf.length, PROT_READ, MAP_SHARED, device.fd(), buf.m.offset);
    if (addr == MAP_FAILED) {
      const int e = errno;
      Release();
      return Status::Error("INPUT_UNSUPPORTED", std::string("cannot map a capture buffer (") + strerror(e) + ")");
    }
    maps_.push_back({addr, buf.length});
    if (int e = device.Ioctl(VIDIOC_QBUF, &buf); e < 0) {
      Release();
      return Status::Error("INPUT_UNSUPPORTED", std::string("cannot queue a capture buffer (") + strerror(-e) + ")");
    }
  }
  return Status::Ok();
}

void MmapBuffers::Release() {
  for (auto& m : maps_) ::munmap(m.addr, m.length);
  const bool had = device_ != nullptr;
  maps_.clear();
  if (had && device_->is_open()) {
    // The driver refuses a new format while buffers exist; all maps are gone now.
    v4l2_requestbuffers req{};
    req.count = 0;
    req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    req.memory = V4L2_MEMORY_MMAP;
    device_->Ioctl(VIDIOC_REQBUFS, &req);
  }
  device_ = nullptr;
}

}  // namespace fieldcast
