// What `fieldcast probe` and the tests learn about V4L2 capture devices, as
// plain data filled off the JS thread (v4l2_probe.cc converts it for JS).
#pragma once
#include <linux/videodev2.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common.h"

namespace fieldcast {

struct CaptureDeviceInfo {
  std::string path;
  std::string driver;
  std::string card;
  std::string bus_info;
  uint32_t caps = 0;
};

struct CaptureInputInfo {
  int index = 0;
  std::string name;
  uint32_t type = 0;
  uint32_t status = 0;  // V4L2_IN_ST_*
  bool dv_timings = false;
};

struct CaptureFormatInfo {
  uint32_t fourcc = 0;
  std::string description;
  bool compressed = false;
  std::vector<v4l2_frmsizeenum> sizes;
};

struct CaptureProbe {
  CaptureDeviceInfo info;
  int current_input = -1;
  std::vector<CaptureInputInfo> inputs;
  bool dv = false;  // the current input takes DV timings
  std::optional<v4l2_dv_timings> dv_current;
  std::optional<v4l2_dv_timings> dv_detected;
  int dv_detect_errno = 0;
  std::vector<v4l2_dv_timings> dv_supported;
  std::vector<CaptureFormatInfo> formats;
};

// Every /dev/video* that answers QUERYCAP (sorted by path).
std::vector<CaptureDeviceInfo> ListCaptureDevices();
Status ProbeCaptureDevice(const std::string& path, CaptureProbe* out);

// Which DV timings to set: an index from ENUM_DV_TIMINGS, or a size and rate.
struct DvTimingsRequest {
  int input = -1;
  int index = -1;
  int width = 0;
  int height = 0;
  double fps = 0;
  bool interlaced = false;
};
Status SetCaptureDvTimings(const std::string& path, const DvTimingsRequest& req, v4l2_dv_timings* set);

}  // namespace fieldcast
