#include "v4l2_frame.h"

#include <linux/videodev2.h>

#include <cstring>

extern "C" {
#include <libavutil/imgutils.h>
}

namespace fieldcast {

namespace {
constexpr int kAlign = 32;  // what libavcodec's SIMD paths like
}

AVPixelFormat CapturedPixelFormat(uint32_t fourcc) {
  switch (fourcc) {
    case V4L2_PIX_FMT_NV12: return AV_PIX_FMT_NV12;
    case V4L2_PIX_FMT_YUYV: return AV_PIX_FMT_YUYV422;
    case V4L2_PIX_FMT_UYVY: return AV_PIX_FMT_UYVY422;
    case V4L2_PIX_FMT_MJPEG:
    case V4L2_PIX_FMT_JPEG: return AV_PIX_FMT_YUV420P;
    default: return AV_PIX_FMT_NONE;
  }
}

Status V4l2FrameConverter::Configure(uint32_t fourcc, int width, int height, int bytesperline) {
  fourcc_ = fourcc;
  width_ = width;
  height_ = height;
  bytesperline_ = bytesperline;
  out_fmt_ = CapturedPixelFormat(fourcc);
  if (out_fmt_ == AV_PIX_FMT_NONE) {
    return Status::Error("INPUT_UNSUPPORTED", "the capture format is not one Fieldcast reads (YUYV, UYVY, NV12, MJPEG)");
  }
  const int size = av_image_get_buffer_size(out_fmt_, width, height, kAlign);
  if (size <= 0) return Status::Error("INPUT_UNSUPPORTED", "the capture size is not usable");
  if (!pool_ || size != pool_size_) {
    pool_.reset(av_buffer_pool_init(static_cast<size_t>(size), nullptr));
    pool_size_ = size;
  }
  sws_.reset();
  if (fourcc == V4L2_PIX_FMT_MJPEG || fourcc == V4L2_PIX_FMT_JPEG) {
    const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
    if (codec == nullptr) return Status::Error("INPUT_UNSUPPORTED", "this system's libavcodec has no MJPEG decoder");
    decoder_.reset(avcodec_alloc_context3(codec));
    if (!decoder_ || avcodec_open2(decoder_.get(), codec, nullptr) < 0) {
      return Status::Error("INPUT_UNSUPPORTED", "cannot open the MJPEG decoder");
    }
    decoded_ = MakeFrame();
    packet_ = MakePacket();
  } else {
    decoder_.reset();
  }
  return Status::Ok();
}

Status V4l2FrameConverter::AllocFrame(AVPixelFormat fmt, AVFramePtr* out) {
  AVFramePtr f = MakeFrame();
  AVBufferRef* buf = pool_ ? av_buffer_pool_get(pool_.get()) : nullptr;
  if (!f || buf == nullptr) {
    av_buffer_unref(&buf);
    return Status::Error("OUT_OF_MEMORY", "out of memory for a captured picture");
  }
  f->buf[0] = buf;  // the frame owns the pool buffer; unref returns it to the pool
  f->width = width_;
  f->height = height_;
  f->format = fmt;
  av_image_fill_arrays(f->data, f->linesize, buf->data, fmt, width_, height_, kAlign);
  *out = std::move(f);
  return Status::Ok();
}

Status V4l2FrameConverter::Convert(const uint8_t* data, size_t size, AVFramePtr* out) {
  if (decoder_) return DecodeMjpeg(data, size, out);
  // Raw formats: bytesperline may exceed the visible row (driver padding).
  const int row_bytes = out_fmt_ == AV_PIX_FMT_NV12 ? width_ : width_ * 2;
  const size_t luma_bytes = static_cast<size_t>(bytesperline_) * height_;
  const size_t needed = out_fmt_ == AV_PIX_FMT_NV12 ? luma_bytes + luma_bytes / 2 : luma_bytes;
  if (size < needed) return Status::Error("INPUT_CORRUPT", "the capture device delivered a short picture");
  if (Status s = AllocFrame(out_fmt_, out); !s.ok()) return s;
  AVFrame* f = out->get();
  av_image_copy_plane(f->data[0], f->linesize[0], data, bytesperline_, row_bytes, height_);
  if (out_fmt_ == AV_PIX_FMT_NV12) {
    // Single-plane NV12: the interleaved CbCr rows follow the luma rows (V4L2 "NV12" layout).
    av_image_copy_plane(f->data[1], f->linesize[1], data + luma_bytes, bytesperline_, width_, height_ / 2);
  }
  return Status::Ok();
}

Status V4l2FrameConverter::DecodeMjpeg(const uint8_t* data, size_t size, AVFramePtr* out) {
  // The decoder reads past the end (AV_INPUT_BUFFER_PADDING_SIZE): copy into a padded packet.
  av_packet_unref(packet_.get());
  if (size == 0 || size > (1u << 28) || av_new_packet(packet_.get(), static_cast<int>(size)) < 0) {
    return Status::Error("INPUT_CORRUPT", "the capture device delivered an unusable MJPEG picture");
  }
  std::memcpy(packet_->data, data, size);
  if (avcodec_send_packet(decoder_.get(), packet_.get()) < 0 ||
      avcodec_receive_frame(decoder_.get(), decoded_.get()) < 0) {
    return Status::Error("INPUT_CORRUPT", "a picture from the capture device could not be decoded (MJPEG)");
  }
  AVFrame* d = decoded_.get();
  // yuvj420p and friends are full range; swscale converts them to the limited
  // range YUV420P the encoders expect, and rescales an unexpected size.
  sws_.reset(sws_getCachedContext(sws_.release(), d->width, d->height, static_cast<AVPixelFormat>(d->format), width_,
                                  height_, AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!sws_) return Status::Error("INPUT_UNSUPPORTED", "cannot convert the decoded MJPEG pictures");
  if (Status s = AllocFrame(AV_PIX_FMT_YUV420P, out); !s.ok()) return s;
  sws_scale(sws_.get(), d->data, d->linesize, 0, d->height, (*out)->data, (*out)->linesize);
  av_frame_unref(d);
  return Status::Ok();
}

}  // namespace fieldcast
