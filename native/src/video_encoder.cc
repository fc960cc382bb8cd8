#include "video_encoder.h"

#include <cmath>

extern "C" {
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

namespace fieldcast {

namespace {

std::string AvError(int rc) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(rc, buf, sizeof buf);
  return buf;
}

int ProfileId(const std::string& p) {
  if (p == "baseline") return FF_PROFILE_H264_CONSTRAINED_BASELINE;
  if (p == "main") return FF_PROFILE_H264_MAIN;
  return FF_PROFILE_H264_HIGH;
}

// Software 4:2:0 input the encoder accepts, preferring the test pattern's own.
AVPixelFormat PickPixFmt(const AVCodec* codec) {
  if (!codec->pix_fmts) return AV_PIX_FMT_YUV420P;
  AVPixelFormat fallback = AV_PIX_FMT_NONE;
  for (const AVPixelFormat* p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; ++p) {
    if (*p == AV_PIX_FMT_YUV420P) return *p;
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(*p);
    if (fallback == AV_PIX_FMT_NONE && d && !(d->flags & AV_PIX_FMT_FLAG_HWACCEL)) fallback = *p;
  }
  return fallback;
}

}  // namespace

const std::vector<std::string>& AutoVideoCodecs() {
  static const std::vector<std::string> kCodecs = {"h264_v4l2m2m", "h264_vaapi", "h264_nvenc", "h264_rkmpp", "libx264"};
  return kCodecs;
}

Status VideoEncoder::Open(const VideoEncoderOptions& options, std::unique_ptr<VideoEncoder>* out) {
  if (options.codec != "auto") return OpenOne(options.codec, options, out);
  std::string tried;
  for (const auto& name : AutoVideoCodecs()) {
    if (!avcodec_find_encoder_by_name(name.c_str())) continue;
    Status s = OpenOne(name, options, out);
    if (s.ok()) return s;
    Log(LogLevel::kInfo, "encoder", name + " is present but did not open (" + s.message + "); trying the next");
    tried += (tried.empty() ? "" : ", ") + name;
  }
  return Status::Error("ENCODER_UNAVAILABLE", "no H.264 encoder could be opened (tried " + tried + ")");
}

Status VideoEncoder::OpenOne(const std::string& name, const VideoEncoderOptions& o, std::unique_ptr<VideoEncoder>* out) {
  const AVCodec* codec = avcodec_find_encoder_by_name(name.c_str());
  if (!codec || codec->type != AVMEDIA_TYPE_VIDEO || codec->id != AV_CODEC_ID_H264) {
    return Status::Error("ENCODER_UNAVAILABLE", "the H.264 encoder \"" + name + "\" is not available on this system (see fieldcast probe)");
  }
  const AVPixelFormat pix = PickPixFmt(codec);
  if (pix == AV_PIX_FMT_NONE) {
    return Status::Error("ENCODER_OPEN_FAILED", name + " takes only hardware frames, which this build does not upload");
  }
  AVCodecContextPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) return Status::Error("ENCODER_OPEN_FAILED", "out of memory opening " + name);
  ctx->width = o.width;
  ctx->height = o.height;
  ctx->pix_fmt = pix;
  ctx->time_base = AVRational{1, 90000};  // frames carry 90 kHz media-clock PTS
  ctx->framerate = AVRational{o.fps_num, o.fps_den};
  ctx->gop_size = std::max(1, static_cast<int>(std::lround(o.keyint_seconds * o.fps_num / o.fps_den)));
  ctx->max_b_frames = o.bframes;
  ctx->bit_rate = o.bitrate;
  ctx->rc_max_rate = o.maxrate > 0 ? o.maxrate : (o.vbr ? o.bitrate * 3 / 2 : o.bitrate);
  // VBV always on: x264 accepts a new bitrate mid-stream only with VBV set from the start.
  ctx->rc_buffer_size = static_cast<int>(std::min<int64_t>(INT32_MAX, o.bufsize > 0 ? o.bufsize : ctx->rc_max_rate));
  ctx->profile = ProfileId(o.profile);
  if (!o.level.empty()) ctx->level = static_cast<int>(std::lround(std::stod(o.level) * 10));
  ctx->color_primaries = AVCOL_PRI_BT709;
  ctx->color_trc = AVCOL_TRC_BT709;
  ctx->colorspace = AVCOL_SPC_BT709;
  ctx->color_range = AVCOL_RANGE_MPEG;
  // No AV_CODEC_FLAG_GLOBAL_HEADER: SPS/PPS then travel in-band before every IDR,
  // so a receiver joining mid-stream can decode (x264 repeat-headers).
  if (name == "libx264") {
    av_opt_set(ctx->priv_data, "preset", o.preset.c_str(), 0);
    if (!o.tune.empty()) av_opt_set(ctx->priv_data, "tune", o.tune.c_str(), 0);
    av_opt_set(ctx->priv_data, "profile", o.profile.c_str(), 0);
    av_opt_set_int(ctx->priv_data, "forced-idr", 1, 0);  // a forced keyframe is an IDR
    // Scene cuts would insert extra I-frames and spikes in a constrained uplink.
    av_opt_set(ctx->priv_data, "x264-params", "scenecut=0:repeat-headers=1", 0);
  }
  AVDictionary* opts = nullptr;
  const int rc = avcodec_open2(ctx.get(), codec, &opts);
  av_dict_free(&opts);
  if (rc < 0) return Status::Error("ENCODER_OPEN_FAILED", "the H.264 encoder " + name + " failed to open: " + AvError(rc));
  auto enc = std::unique_ptr<VideoEncoder>(new VideoEncoder());
  enc->name_ = name;
  enc->ctx_ = std::move(ctx);
  *out = std::move(enc);
  Log(LogLevel::kInfo, "encoder",
      "opened " + name + " " + std::to_string(o.width) + "x" + std::to_string(o.height) + " " + av_get_pix_fmt_name(pix) + " at " +
          std::to_string(o.bitrate / 1000) + " kbit/s");
  return Status::Ok();
}

void VideoEncoder::SetBitrate(int64_t bps) {
  if (bps <= 0 || bps == ctx_->bit_rate) return;
  const double ratio = static_cast<double>(bps) / static_cast<double>(ctx_->bit_rate);
  ctx_->rc_max_rate = static_cast<int64_t>(std::llround(static_cast<double>(ctx_->rc_max_rate) * ratio));
  ctx_->rc_buffer_size = static_cast<int>(std::min<double>(INT32_MAX, std::llround(ctx_->rc_buffer_size * ratio)));
  ctx_->bit_rate = bps;
}

Status VideoEncoder::Encode(AVFrame* frame, bool force_key, std::vector<AVPacketPtr>* out) {
  if (frame) {
    frame->pict_type = force_key ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    frame->key_frame = force_key ? 1 : 0;
  }
  const int rc = avcodec_send_frame(ctx_.get(), frame);
  if (rc < 0 && rc != AVERROR_EOF) return Status::Error("ENCODER_FAILED", "the H.264 encoder " + name_ + " rejected a picture: " + AvError(rc));
  return Drain(out);
}

Status VideoEncoder::Drain(std::vector<AVPacketPtr>* out) {
  for (;;) {
    AVPacketPtr pkt = MakePacket();
    const int rc = avcodec_receive_packet(ctx_.get(), pkt.get());
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status::Ok();
    if (rc < 0) return Status::Error("ENCODER_FAILED", "the H.264 encoder " + name_ + " failed: " + AvError(rc));
    out->push_back(std::move(pkt));
  }
}

}  // namespace fieldcast
