// Thin RAII wrappers over the V4L2 ioctls the capture source and the probe use
// (Linux Media Infrastructure API, "Video for Linux API" part I).
#pragma once
#include <linux/videodev2.h>

#include <cstdint>
#include <string>
#include <vector>

#include "av_ptr.h"
#include "common.h"

namespace fieldcast {

std::string FourccToString(uint32_t fourcc);
// Frames per second of a BT.656/1120 timing (pixel clock / total frame size).
double DvTimingsFps(const v4l2_bt_timings& bt);
// The exact frame rate as a fraction (60/1, 60000/1001, ...); 0/1 when unknown.
void DvTimingsRate(const v4l2_bt_timings& bt, int* num, int* den);
// "1280x720p60" style label for logs and the probe.
std::string DvTimingsLabel(const v4l2_bt_timings& bt);
bool SameDvTimings(const v4l2_bt_timings& a, const v4l2_bt_timings& b);

// One open /dev/videoN.
class V4l2Device {
 public:
  // Opens non-blocking (reads are driven by poll). On failure the status says why.
  Status Open(const std::string& path);
  bool is_open() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

  // ioctl retried on EINTR; returns 0 or -errno.
  int Ioctl(unsigned long request, void* arg) const;

  Status QueryCap(v4l2_capability* cap) const;
  // The device's capabilities (device_caps when the driver fills it).
  static uint32_t EffectiveCaps(const v4l2_capability& cap);

  std::vector<v4l2_input> EnumInputs() const;
  int CurrentInput() const;  // -1 when the driver has no inputs
  Status SelectInput(int index) const;
  // Status flags (V4L2_IN_ST_*) of the current input; 0 when unknown.
  uint32_t CurrentInputStatus() const;
  bool CurrentInputHasDvTimings() const;

  // QUERY_DV_TIMINGS: 0 and *out when a signal is locked, else -errno
  // (-ENOLINK no signal, -ENOLCK unstable, -ERANGE out of range).
  int QueryDvTimings(v4l2_dv_timings* out) const;
  int GetDvTimings(v4l2_dv_timings* out) const;
  Status SetDvTimings(const v4l2_dv_timings& timings) const;
  std::vector<v4l2_dv_timings> EnumDvTimings() const;

  std::vector<v4l2_fmtdesc> EnumFormats() const;
  // Discrete sizes, or the min and max of a stepwise range.
  std::vector<v4l2_frmsizeenum> EnumFrameSizes(uint32_t fourcc) const;

 private:
  UniqueFd fd_;
  std::string path_;
};

// The mmap'ed streaming buffers of one capture session. Destroying it unmaps
// them and releases them to the driver (REQBUFS 0), so a new format can be set.
class MmapBuffers {
 public:
  MmapBuffers() = default;
  ~MmapBuffers();
  MmapBuffers(const MmapBuffers&) = delete;
  MmapBuffers& operator=(const MmapBuffers&) = delete;

  // REQBUFS(count), QUERYBUF + mmap each, QBUF all.
  Status Allocate(const V4l2Device& device, int count);
  void Release();
  size_t size() const { return maps_.size(); }
  const uint8_t* data(size_t index) const { return static_cast<const uint8_t*>(maps_[index].addr); }
  size_t length(size_t index) const { return maps_[index].length; }

 private:
  struct Map {
    void* addr = nullptr;
    size_t length = 0;
  };
  const V4l2Device* device_ = nullptr;
  std::vector<Map> maps_;
};

}  // namespace fieldcast
