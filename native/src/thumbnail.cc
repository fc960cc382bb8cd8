#include "thumbnail.h"

#include <algorithm>
#include <cmath>

namespace fieldcast {

namespace {

// mjpeg's quantiser scale (2 best .. 31 worst): 5 keeps the bars, the
// timecode blocks and text legible at 320x180 in under 10 kB.
constexpr int kJpegQuality = 5;

std::string AvError(int rc) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(rc, buf, sizeof buf);
  return buf;
}

}  // namespace

Status Thumbnailer::OpenEncoder(int width, int height) {
  jpeg_.reset();
  const AVCodec* codec = avcodec_find_encoder_by_name("mjpeg");
  if (!codec) return Status::Error("THUMBNAIL_UNAVAILABLE", "this system's libavcodec has no JPEG (mjpeg) encoder");
  AVCodecContextPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) return Status::Error("THUMBNAIL_UNAVAILABLE", "out of memory opening the JPEG encoder");
  ctx->width = width;
  ctx->height = height;
  // Plain YUV420P marked full range is what JPEG (JFIF) means; the deprecated
  // YUVJ420P would make libswscale warn on stderr.
  ctx->pix_fmt = AV_PIX_FMT_YUV420P;
  ctx->color_range = AVCOL_RANGE_JPEG;
  ctx->time_base = AVRational{1, 1000000};
  ctx->flags |= AV_CODEC_FLAG_QSCALE;
  ctx->global_quality = FF_QP2LAMBDA * kJpegQuality;
  // One small picture a second: worker threads would cost more than they save.
  ctx->thread_count = 1;
  const int rc = avcodec_open2(ctx.get(), codec, nullptr);
  if (rc < 0) return Status::Error("THUMBNAIL_UNAVAILABLE", "the JPEG encoder failed to open: " + AvError(rc));
  jpeg_ = std::move(ctx);
  scaled_ = MakeFrame();
  packet_ = MakePacket();
  if (!scaled_ || !packet_) return Status::Error("THUMBNAIL_UNAVAILABLE", "out of memory for thumbnails");
  scaled_->format = AV_PIX_FMT_YUV420P;
  scaled_->width = width;
  scaled_->height = height;
  scaled_->color_range = AVCOL_RANGE_JPEG;
  if (av_frame_get_buffer(scaled_.get(), 32) < 0) return Status::Error("THUMBNAIL_UNAVAILABLE", "out of memory for thumbnails");
  return Status::Ok();
}

// Cost, measured on a 2-core x86-64 build machine while libx264 kept both
// cores busy: 1280x720 -> 320x180 about 0.8 ms a thumbnail (0.3 ms scaling
// with SWS_AREA, 0.45 ms JPEG), 1920x1080 about 1.2 ms; at one a second, under
// 0.15% of one core. The JPEG is 5 to 10 kB.
Status Thumbnailer::Make(const AVFrame& frame, int64_t capture_us) {
  next_due_us_ = capture_us + kIntervalUs;
  if (frame.width <= 0 || frame.height <= 0) return Status::Error("THUMBNAIL_FAILED", "a picture without a size");
  const int width = std::max(2, width_ & ~1);
  const int height = std::max(2, static_cast<int>(std::lround(static_cast<double>(width) * frame.height / frame.width / 2.0)) * 2);
  if (!jpeg_ || jpeg_->width != width || jpeg_->height != height) {
    Status s = OpenEncoder(width, height);
    if (!s.ok()) return s;
  }
  const auto src_fmt = static_cast<AVPixelFormat>(frame.format);
  sws_.reset(sws_getCachedContext(sws_.release(), frame.width, frame.height, src_fmt, width, height, AV_PIX_FMT_YUV420P, SWS_AREA,
                                  nullptr, nullptr, nullptr));
  if (!sws_) return Status::Error("THUMBNAIL_FAILED", "cannot scale the picture for a thumbnail");
  // Limited-range video (what the encoders take) to JPEG's full range; the
  // matrix is left as it is (BT.709 read as BT.601 shifts hues slightly, which
  // a thumbnail can bear).
  const bool src_full = frame.color_range == AVCOL_RANGE_JPEG;
  int* inv = nullptr;
  int* table = nullptr;
  int src_range = 0, dst_range = 0, brightness = 0, contrast = 0, saturation = 0;
  if (sws_getColorspaceDetails(sws_.get(), &inv, &src_range, &table, &dst_range, &brightness, &contrast, &saturation) >= 0 &&
      (src_range != (src_full ? 1 : 0) || dst_range != 1)) {
    sws_setColorspaceDetails(sws_.get(), inv, src_full ? 1 : 0, table, 1, brightness, contrast, saturation);
  }
  if (av_frame_make_writable(scaled_.get()) < 0) return Status::Error("THUMBNAIL_FAILED", "out of memory for a thumbnail");
  sws_scale(sws_.get(), frame.data, frame.linesize, 0, frame.height, scaled_->data, scaled_->linesize);
  scaled_->pts = capture_us;
  int rc = avcodec_send_frame(jpeg_.get(), scaled_.get());
  if (rc < 0) return Status::Error("THUMBNAIL_FAILED", "the JPEG encoder rejected a picture: " + AvError(rc));
  rc = avcodec_receive_packet(jpeg_.get(), packet_.get());
  if (rc < 0) return Status::Error("THUMBNAIL_FAILED", "the JPEG encoder failed: " + AvError(rc));
  auto t = std::make_shared<Thumbnail>();
  t->jpeg.assign(packet_->data, packet_->data + packet_->size);
  t->capture_us = capture_us;
  t->width = width;
  t->height = height;
  av_packet_unref(packet_.get());
  std::lock_guard<std::mutex> lock(mu_);
  latest_ = std::move(t);
  return Status::Ok();
}

}  // namespace fieldcast
