// The V4L2 capture source: negotiation, mmap streaming, signal loss and
// return (see v4l2_source.h for the Read() contract).
#include "v4l2_source.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "v4l2_device.h"
#include "v4l2_frame.h"
#include "v4l2_negotiate.h"

namespace fieldcast {

namespace {

constexpr const char* kModule = "v4l2";
constexpr int kSignalPollMs = 100;     // how often a lost signal is re-checked
constexpr int kRestartBackoffMs = 1000; // between attempts to restart a stalled device

bool SameFormat(const VideoFormat& a, const VideoFormat& b) {
  return a.width == b.width && a.height == b.height && a.pix_fmt == b.pix_fmt &&
         static_cast<int64_t>(a.fps_num) * b.fps_den == static_cast<int64_t>(b.fps_num) * a.fps_den;
}

std::string Describe(const VideoFormat& f) {
  return std::to_string(f.width) + "x" + std::to_string(f.height) + " at " +
         std::to_string(f.fps_den ? static_cast<double>(f.fps_num) / f.fps_den : 0.0).substr(0, 5) + " fps";
}

class V4l2Source final : public VideoSource {
 public:
  explicit V4l2Source(V4l2Options o) : opt_(std::move(o)) {
    opt_.buffers = std::clamp(opt_.buffers, 2, 32);
    if (opt_.stall_ms < 200) opt_.stall_ms = 200;
  }
  ~V4l2Source() override { StopStreaming(); }

  Status Open() override {
    if (Status s = dev_.Open(opt_.device); !s.ok()) return s;
    v4l2_capability cap{};
    if (Status s = dev_.QueryCap(&cap); !s.ok()) return s;
    card_ = reinterpret_cast<const char*>(cap.card);
    const uint32_t caps = V4l2Device::EffectiveCaps(cap);
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE)) {
      return Status::Error("INPUT_UNSUPPORTED",
                           opt_.device + " (" + card_ + ") is not a single-planar video capture device" +
                               ((caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE) ? " (multi-planar capture is not supported yet)" : ""));
    }
    if (!(caps & V4L2_CAP_STREAMING)) {
      return Status::Error("INPUT_UNSUPPORTED", opt_.device + " (" + card_ + ") cannot stream");
    }
    if (opt_.input >= 0) {
      if (Status s = dev_.SelectInput(opt_.input); !s.ok()) return s;
    }
    input_ = dev_.CurrentInput();
    dv_ = dev_.CurrentInputHasDvTimings();
    if (Status s = PickFourcc(); !s.ok()) return s;

    // Source-change events (V4L2_EVENT_SOURCE_CHANGE, id = input) tell us of a
    // new or lost signal at once; without them the periodic checks still do.
    v4l2_event_subscription sub{};
    sub.type = V4L2_EVENT_SOURCE_CHANGE;
    sub.id = input_ < 0 ? 0 : static_cast<uint32_t>(input_);
    events_ = dev_.Ioctl(VIDIOC_SUBSCRIBE_EVENT, &sub) == 0;

    wake_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!wake_.valid()) return Status::Error("INPUT_UNAVAILABLE", std::string("eventfd: ") + strerror(errno));

    v4l2_dv_timings timings{};
    std::string why;
    if (!SignalPresent(&timings, &why)) {
      // Start in no-signal: report the configured format so a slate can match it.
      if (Status s = Negotiate(nullptr); !s.ok()) return s;
      reported_ = format_;
      EnterNoSignal(why);
      pending_no_signal_ = true;
      return Status::Ok();
    }
    if (Status s = Negotiate(dv_ ? &timings : nullptr); !s.ok()) return s;
    reported_ = format_;
    if (Status s = StartStreaming(); !s.ok()) return s;
    Log(LogLevel::kInfo, kModule, name() + ": capturing " + Describe(format_) + " as " + FourccToString(fourcc_));
    return Status::Ok();
  }

  VideoFormat format() const override { return reported_; }
  Status last_status() const override { return status_; }
  std::string name() const override {
    return card_.empty() ? opt_.device : opt_.device + " (" + card_ + ")";
  }

  void Interrupt() override {
    if (!wake_.valid()) return;
    const uint64_t one = 1;
    ssize_t r = write(wake_.get(), &one, sizeof(one));
    (void)r;
  }

  ReadResult Read(int timeout_ms, VideoFrame* out) override {
    if (!dev_.is_open()) {
      status_ = Status::Error("INPUT_UNAVAILABLE", "the capture device is not open");
      return ReadResult::kError;
    }
    if (pending_no_signal_) {
      pending_no_signal_ = false;
      return ReadResult::kNoSignal;
    }
    const int64_t deadline = MonotonicMicros() + static_cast<int64_t>(std::max(timeout_ms, 0)) * 1000;
    if (!streaming_) {
      const ReadResult r = WaitForSignal(deadline);
      if (r != ReadResult::kFrame) return r;  // kFrame here means "streaming again, go on"
    }
    if (!SameFormat(format_, reported_)) {
      reported_ = format_;
      status_ = Status::Error("INPUT_FORMAT_CHANGED", name() + ": the input is now " + Describe(format_));
      Log(LogLevel::kInfo, kModule, status_.message);
      return ReadResult::kFormatChanged;
    }
    return ReadStreaming(deadline, out);
  }

 private:
  Status PickFourcc() { return PickCaptureFourcc(dev_, opt_, &fourcc_); }

  // True when the input has a usable signal; *timings filled for DV inputs.
  bool SignalPresent(v4l2_dv_timings* timings, std::string* why) {
    if (dv_) {
      const int r = dev_.QueryDvTimings(timings);
      if (r == 0 && timings->bt.width > 0 && timings->bt.height > 0) return true;
      if (r == -ENOLINK || r == 0) {
        *why = "no signal on " + name() + " (check the HDMI cable and that the camera is on)";
        return false;
      }
      if (r == -ENOLCK) {
        *why = "the signal on " + name() + " is unstable (no lock); check the cable";
        return false;
      }
      if (r == -ERANGE) {
        *why = "the camera's output format is out of range for " + name() + "; set the camera to 720p or 1080p";
        return false;
      }
      // Other errors (ENOTTY, ENODATA): fall back to the input status flags.
    }
    const uint32_t st = dev_.CurrentInputStatus();
    if (st & (V4L2_IN_ST_NO_POWER | V4L2_IN_ST_NO_SIGNAL)) {
      *why = "no signal on " + name() + " (check the cable and that the camera is on)";
      return false;
    }
    if (st & (V4L2_IN_ST_NO_SYNC | V4L2_IN_ST_NO_H_LOCK | V4L2_IN_ST_NO_V_LOCK)) {
      *why = "the signal on " + name() + " is unstable (no sync); check the cable";
      return false;
    }
    if (dv_) dev_.GetDvTimings(timings);
    return true;
  }

  // Sets timings (DV inputs), the pixel format and size; computes format_.
  Status Negotiate(const v4l2_dv_timings* timings) {
    NegotiatedFormat n;
    if (Status s = NegotiateCapture(dev_, name(), opt_, fourcc_, dv_, timings, &n); !s.ok()) return s;
    if (Status s = converter_.Configure(fourcc_, n.format.width, n.format.height, n.bytesperline); !s.ok()) return s;
    sizeimage_ = n.sizeimage;
    format_ = n.format;
    return Status::Ok();
  }

  Status StartStreaming() {
    if (Status s = buffers_.Allocate(dev_, opt_.buffers); !s.ok()) return s;
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (int e = dev_.Ioctl(VIDIOC_STREAMON, &type); e < 0) {
      buffers_.Release();
      return Status::Error("INPUT_UNAVAILABLE", "cannot start capturing from " + name() + " (" + strerror(-e) + ")");
    }
    streaming_ = true;
    last_frame_us_ = MonotonicMicros();
    return Status::Ok();
  }

  void StopStreaming() {
    if (!streaming_) return;
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    dev_.Ioctl(VIDIOC_STREAMOFF, &type);
    buffers_.Release();
    streaming_ = false;
  }

  void EnterNoSignal(const std::string& why) {
    StopStreaming();
    last_check_us_ = MonotonicMicros();  // the caller just looked
    status_ = Status::Error("INPUT_NO_SIGNAL", why);
    Log(LogLevel::kWarn, kModule, why);
  }

  // Drains pending V4L2 events; true when one says the source changed.
  bool DrainEvents() {
    bool changed = false;
    for (int i = 0; i < 64; ++i) {
      v4l2_event ev{};
      if (dev_.Ioctl(VIDIOC_DQEVENT, &ev) < 0) break;
      if (ev.type == V4L2_EVENT_SOURCE_CHANGE) changed = true;
    }
    return changed;
  }

  bool DrainWake() {
    uint64_t v = 0;
    return read(wake_.get(), &v, sizeof(v)) == static_cast<ssize_t>(sizeof(v));
  }

  // Not streaming: waits for the signal until deadline. kFrame = streaming again.
  ReadResult WaitForSignal(int64_t deadline) {
    for (;;) {
      // Query the input on a source-change event, else every kSignalPollMs: a
      // caller polling with short timeouts (the encoder while on the slate)
      // must not turn into a stream of I2C transactions to the HDMI bridge.
      const bool changed = DrainEvents();
      v4l2_dv_timings timings{};
      std::string why;
      const int64_t now = MonotonicMicros();
      const bool check = now >= next_restart_us_ && (changed || now - last_check_us_ >= kSignalPollMs * 1000LL);
      if (check) last_check_us_ = now;
      if (check && SignalPresent(&timings, &why)) {
        Status s = Negotiate(dv_ ? &timings : nullptr);
        if (s.ok()) s = StartStreaming();
        if (s.ok()) {
          Log(LogLevel::kInfo, kModule, name() + ": signal back, " + Describe(format_));
          return ReadResult::kFrame;
        }
        next_restart_us_ = now + kRestartBackoffMs * 1000LL;
        status_ = Status::Error("INPUT_NO_SIGNAL", name() + ": signal seen but capture could not restart: " + s.message);
        Log(LogLevel::kWarn, kModule, status_.message);
      } else if (!why.empty() && why != status_.message) {
        status_ = Status::Error("INPUT_NO_SIGNAL", why);
      }
      if (now >= deadline) return ReadResult::kNoSignal;
      // The device fd reports POLLERR while not streaming, so only the wake fd is polled.
      pollfd p{wake_.get(), POLLIN, 0};
      const int64_t next_check = std::max<int64_t>(last_check_us_ + kSignalPollMs * 1000LL, next_restart_us_);
      const int wait_ms = static_cast<int>(std::clamp<int64_t>((std::min<int64_t>(deadline, next_check) - now + 999) / 1000, 1, kSignalPollMs));
      if (poll(&p, 1, wait_ms) > 0 && DrainWake()) return ReadResult::kTimeout;
    }
  }

  ReadResult ReadStreaming(int64_t deadline, VideoFrame* out) {
    for (;;) {
      const int64_t now = MonotonicMicros();
      const int64_t stall_at = last_frame_us_ + opt_.stall_ms * 1000LL;
      if (now >= stall_at) return OnStall();
      const int64_t until = std::min(deadline, stall_at);
      pollfd p[2] = {{dev_.fd(), POLLIN | POLLPRI, 0}, {wake_.get(), POLLIN, 0}};
      const int wait_ms = static_cast<int>(std::max<int64_t>((until - now + 999) / 1000, 0));
      const int n = poll(p, 2, wait_ms);
      if (n < 0 && errno != EINTR) {
        status_ = Status::Error("INPUT_UNAVAILABLE", std::string("waiting for the capture device: ") + strerror(errno));
        return ReadResult::kError;
      }
      if (n > 0 && (p[1].revents & POLLIN) && DrainWake()) return ReadResult::kTimeout;
      if (n > 0 && (p[0].revents & POLLPRI) && DrainEvents()) {
        const ReadResult r = OnSourceChange();
        if (r != ReadResult::kFrame) return r;
        continue;
      }
      if (n > 0 && (p[0].revents & (POLLIN | POLLERR))) {
        const ReadResult r = Dequeue(out);
        if (r != ReadResult::kTimeout) return r;
      }
      if (MonotonicMicros() >= deadline) return ReadResult::kTimeout;
    }
  }

  // A source-change event: lost signal, or new timings. kFrame = carry on streaming.
  ReadResult OnSourceChange() {
    v4l2_dv_timings timings{};
    std::string why;
    if (!SignalPresent(&timings, &why)) {
      EnterNoSignal(why);
      return ReadResult::kNoSignal;
    }
    v4l2_dv_timings current{};
    if (!dv_ || (dev_.GetDvTimings(&current) == 0 && SameDvTimings(current.bt, timings.bt))) {
      return ReadResult::kFrame;
    }
    StopStreaming();
    Status s = Negotiate(&timings);
    if (s.ok()) s = StartStreaming();
    if (!s.ok()) {
      EnterNoSignal(name() + ": the input changed to " + DvTimingsLabel(timings.bt) + " but capture could not restart: " +
                    s.message);
      next_restart_us_ = MonotonicMicros() + kRestartBackoffMs * 1000LL;
      return ReadResult::kNoSignal;
    }
    reported_ = format_;
    status_ = Status::Error("INPUT_FORMAT_CHANGED", name() + ": the input is now " + Describe(format_));
    Log(LogLevel::kInfo, kModule, status_.message);
    return ReadResult::kFormatChanged;
  }

  // No frame for stall_ms: either the signal went without an event, or the device hung.
  ReadResult OnStall() {
    v4l2_dv_timings timings{};
    std::string why;
    if (!SignalPresent(&timings, &why)) {
      EnterNoSignal(why);
    } else {
      EnterNoSignal(name() + " delivered no picture for " + std::to_string(opt_.stall_ms / 1000.0).substr(0, 3) +
                    " s; restarting capture");
      next_restart_us_ = MonotonicMicros() + kRestartBackoffMs * 1000LL;
    }
    return ReadResult::kNoSignal;
  }

  ReadResult Dequeue(VideoFrame* out) {
    v4l2_buffer buf{};
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    if (int e = dev_.Ioctl(VIDIOC_DQBUF, &buf); e < 0) {
      if (e == -EAGAIN) return ReadResult::kTimeout;
      // EPIPE/EIO: the driver stopped the stream (unplugged bridge, fatal error).
      EnterNoSignal(name() + " stopped delivering pictures (" + strerror(-e) + ")");
      return ReadResult::kNoSignal;
    }
    const int64_t now = MonotonicMicros();
    last_frame_us_ = now;
    // V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC stamps are CLOCK_MONOTONIC, i.e. the media
    // clock; anything else (or an implausible value) is stamped at dequeue.
    int64_t ts = now;
    if ((buf.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) == V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC) {
      const int64_t t = static_cast<int64_t>(buf.timestamp.tv_sec) * 1000000 + buf.timestamp.tv_usec;
      if (t > 0 && t <= now + 1000 && now - t < 1000000) ts = t;
    }
    ReadResult result = ReadResult::kTimeout;
    if (!(buf.flags & V4L2_BUF_FLAG_ERROR) && buf.index < buffers_.size()) {
      AVFramePtr frame;
      const size_t used = std::min<size_t>(buf.bytesused ? buf.bytesused : sizeimage_, buffers_.length(buf.index));
      Status s = converter_.Convert(buffers_.data(buf.index), used, &frame);
      if (s.ok()) {
        out->frame = std::move(frame);
        out->capture_us = ts;
        result = ReadResult::kFrame;
      } else if (++bad_frames_ % 100 == 1) {
        Log(LogLevel::kWarn, kModule, name() + ": " + s.message);
      }
    }
    if (int e = dev_.Ioctl(VIDIOC_QBUF, &buf); e < 0) {
      Log(LogLevel::kWarn, kModule, name() + ": cannot requeue a capture buffer (" + strerror(-e) + ")");
    }
    return result;
  }

  V4l2Options opt_;
  V4l2Device dev_;
  MmapBuffers buffers_;
  V4l2FrameConverter converter_;
  UniqueFd wake_;
  std::string card_;
  int input_ = -1;
  bool dv_ = false;
  bool events_ = false;
  uint32_t fourcc_ = 0;
  uint32_t sizeimage_ = 0;
  VideoFormat format_;    // what the device is set to now
  VideoFormat reported_;  // what format() told the reader
  Status status_;
  bool streaming_ = false;
  bool pending_no_signal_ = false;
  int64_t last_frame_us_ = 0;
  int64_t next_restart_us_ = 0;
  int64_t last_check_us_ = 0;  // last signal query while not streaming
  uint64_t bad_frames_ = 0;
};

}  // namespace

std::unique_ptr<VideoSource> CreateV4l2Source(const V4l2Options& options) {
  return std::make_unique<V4l2Source>(options);
}

}  // namespace fieldcast
