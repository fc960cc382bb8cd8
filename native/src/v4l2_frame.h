// Turns a dequeued V4L2 buffer into an owned AVFrame: a copy for raw formats
// (YUYV, UYVY, NV12), a decode for MJPEG.
//
// Why copy rather than lend the mmap buffer to the encoder: at 1080p a raw
// frame is 3-4 MB, i.e. ~100-250 MB/s at 30-60 fps, a few percent of one core
// for memcpy; in return the driver gets its buffer back at once, so an encoder
// that holds frames (lookahead, a slow hardware queue) can never starve
// capture of buffers and make the driver drop frames. The copies come from a
// buffer pool, so steady state allocates nothing.
#pragma once
#include <cstdint>
#include <memory>

#include "av_ptr.h"
#include "common.h"

extern "C" {
#include <libavutil/buffer.h>
}

namespace fieldcast {

struct AVBufferPoolDeleter {
  void operator()(AVBufferPool* p) const { av_buffer_pool_uninit(&p); }  // frees once all frames return
};
using AVBufferPoolPtr = std::unique_ptr<AVBufferPool, AVBufferPoolDeleter>;

// The AVPixelFormat a V4L2 fourcc is delivered as (MJPEG: decoded to YUV420P);
// AV_PIX_FMT_NONE when Fieldcast does not capture that fourcc.
AVPixelFormat CapturedPixelFormat(uint32_t fourcc);

class V4l2FrameConverter {
 public:
  // width/height/bytesperline from the negotiated V4L2 format.
  Status Configure(uint32_t fourcc, int width, int height, int bytesperline);
  // Copies or decodes `size` bytes of a filled buffer into *out.
  Status Convert(const uint8_t* data, size_t size, AVFramePtr* out);

 private:
  Status AllocFrame(AVPixelFormat fmt, AVFramePtr* out);
  Status DecodeMjpeg(const uint8_t* data, size_t size, AVFramePtr* out);

  uint32_t fourcc_ = 0;
  int width_ = 0;
  int height_ = 0;
  int bytesperline_ = 0;
  AVPixelFormat out_fmt_ = AV_PIX_FMT_NONE;
  AVBufferPoolPtr pool_;
  int pool_size_ = 0;
  AVCodecContextPtr decoder_;
  AVFramePtr decoded_;
  AVPacketPtr packet_;
  SwsContextPtr sws_;
};

}  // namespace fieldcast
