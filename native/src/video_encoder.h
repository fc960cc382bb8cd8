// H.264 through libavcodec: hardware encoders when the board has one, libx264
// otherwise. Bitrate changes live; a keyframe can be forced.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "av_ptr.h"
#include "common.h"

namespace fieldcast {

struct VideoEncoderOptions {
  std::string codec = "auto";  // "auto" or an encoder name (libx264, h264_v4l2m2m, ...)
  int width = 1280;
  int height = 720;
  int fps_num = 30;
  int fps_den = 1;
  int64_t bitrate = 4000000;         // bit/s
  int64_t maxrate = 0;               // 0: cbr = bitrate, vbr = 1.5 x bitrate
  int64_t bufsize = 0;               // 0: one second at maxrate (VBV)
  bool vbr = false;                  // false: CBR-like (maxrate = bitrate)
  double keyint_seconds = 2.0;       // IDR interval
  std::string profile = "high";      // baseline | main | high
  std::string level;                 // "4.1"; empty: the encoder picks
  int bframes = 0;                   // B-frames add a frame of latency each
  std::string preset = "superfast";  // libx264 only
  std::string tune = "zerolatency";  // libx264 only
};

// Encoders "auto" tries, in order, when the system's libavcodec has them.
const std::vector<std::string>& AutoVideoCodecs();

class VideoEncoder {
 public:
  // Opens options.codec, or for "auto" the first of AutoVideoCodecs() that opens.
  // Codes: ENCODER_UNAVAILABLE (not in this libavcodec), ENCODER_OPEN_FAILED.
  static Status Open(const VideoEncoderOptions& options, std::unique_ptr<VideoEncoder>* out);

  const std::string& codec_name() const { return name_; }
  AVPixelFormat pix_fmt() const { return ctx_->pix_fmt; }
  int width() const { return ctx_->width; }
  int height() const { return ctx_->height; }
  int64_t bitrate() const { return ctx_->bit_rate; }
  // True where the encoder applies a new bitrate mid-stream (libx264 through
  // x264_encoder_reconfig, called by libavcodec's wrapper when bit_rate,
  // rc_max_rate or rc_buffer_size change between frames).
  bool live_bitrate() const { return name_ == "libx264"; }

  // Takes effect from the next frame; maxrate and bufsize keep their ratios to it.
  void SetBitrate(int64_t bps);
  // frame->pts in 90 kHz; null flushes. Packets appended to *out (pts/dts 90 kHz).
  Status Encode(AVFrame* frame, bool force_key, std::vector<AVPacketPtr>* out);

 private:
  static Status OpenOne(const std::string& name, const VideoEncoderOptions& o, std::unique_ptr<VideoEncoder>* out);
  Status Drain(std::vector<AVPacketPtr>* out);

  std::string name_;
  AVCodecContextPtr ctx_;
};

}  // namespace fieldcast
