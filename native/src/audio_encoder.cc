#include "audio_encoder.h"

#include <algorithm>

namespace fieldcast {

namespace {

std::string AvError(int rc) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(rc, buf, sizeof buf);
  return buf;
}

constexpr int kAdtsHeader = 7;

}  // namespace

Status AudioEncoder::Open(const AudioEncoderOptions& o, std::unique_ptr<AudioEncoder>* out) {
  const AVCodec* codec = avcodec_find_encoder_by_name("aac");
  if (!codec) return Status::Error("ENCODER_UNAVAILABLE", "the AAC encoder is missing from this system's libavcodec");
  AVCodecContextPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) return Status::Error("ENCODER_OPEN_FAILED", "out of memory opening the AAC encoder");
  ctx->sample_fmt = AV_SAMPLE_FMT_FLTP;
  ctx->sample_rate = o.sample_rate;
  av_channel_layout_default(&ctx->ch_layout, o.channels);
  ctx->bit_rate = o.bitrate;
  ctx->profile = FF_PROFILE_AAC_LOW;
  ctx->time_base = AVRational{1, o.sample_rate};
  // Global header on: extradata then holds the AudioSpecificConfig the ADTS
  // header is built from; ADTS itself travels in-band on every frame.
  ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  const int rc = avcodec_open2(ctx.get(), codec, nullptr);
  if (rc < 0) return Status::Error("ENCODER_OPEN_FAILED", "the AAC encoder failed to open: " + AvError(rc));
  auto enc = std::unique_ptr<AudioEncoder>(new AudioEncoder());
  // AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1): 5 bits object type, 4 bits
  // sampling frequency index, 4 bits channel configuration.
  if (ctx->extradata_size >= 2) {
    const uint8_t* e = ctx->extradata;
    enc->object_type_ = e[0] >> 3;
    enc->freq_index_ = ((e[0] & 7) << 1) | (e[1] >> 7);
    enc->channel_config_ = (e[1] >> 3) & 0xF;
  }
  enc->ctx_ = std::move(ctx);
  *out = std::move(enc);
  return Status::Ok();
}

void AudioEncoder::WriteAdts(const AVPacket& pkt, std::vector<uint8_t>* dst) const {
  // ADTS fixed + variable header (ISO/IEC 13818-7 §6.2, 14496-3 §1.A.2.2):
  // syncword 0xFFF, MPEG-4, layer 0, no CRC, profile = object type - 1.
  const int len = pkt.size + kAdtsHeader;
  dst->resize(len);
  uint8_t* h = dst->data();
  h[0] = 0xFF;
  h[1] = 0xF1;
  h[2] = static_cast<uint8_t>(((object_type_ - 1) << 6) | (freq_index_ << 2) | (channel_config_ >> 2));
  h[3] = static_cast<uint8_t>(((channel_config_ & 3) << 6) | (len >> 11));
  h[4] = static_cast<uint8_t>((len >> 3) & 0xFF);
  h[5] = static_cast<uint8_t>(((len & 7) << 5) | 0x1F);  // buffer fullness 0x7FF: variable rate
  h[6] = 0xFC;                                             // ... and one raw data block
  std::copy(pkt.data, pkt.data + pkt.size, h + kAdtsHeader);
}

Status AudioEncoder::Encode(const AVFrame* s16, int64_t pts_samples, std::vector<AdtsFrame>* out) {
  const int ch = channels();
  const int64_t pending_samples = static_cast<int64_t>(pending_.size()) / ch;
  const int64_t expected = pending_pts_ + pending_samples;
  if (pending_.empty()) {
    pending_pts_ = pts_samples;
  } else if (std::llabs(pts_samples - expected) > sample_rate() / 50) {
    Log(LogLevel::kDebug, "audio", "audio timeline gap of " + std::to_string((pts_samples - expected) * 1000 / sample_rate()) + " ms");
    Status s = EncodePending(true, out);
    if (!s.ok()) return s;
    pending_.clear();
    pending_pts_ = pts_samples;
  }
  const int src_ch = s16->ch_layout.nb_channels;
  const auto* pcm = reinterpret_cast<const int16_t*>(s16->data[0]);
  for (int i = 0; i < s16->nb_samples; ++i) {
    for (int c = 0; c < ch; ++c) pending_.push_back(pcm[i * src_ch + std::min(c, src_ch - 1)]);
  }
  return EncodePending(false, out);
}

Status AudioEncoder::EncodePending(bool pad, std::vector<AdtsFrame>* out) {
  const int ch = channels();
  const int n = ctx_->frame_size;
  while (static_cast<int>(pending_.size()) >= n * ch || (pad && !pending_.empty())) {
    AVFramePtr f = MakeFrame();
    f->format = AV_SAMPLE_FMT_FLTP;
    f->nb_samples = n;
    f->sample_rate = sample_rate();
    av_channel_layout_copy(&f->ch_layout, &ctx_->ch_layout);
    if (av_frame_get_buffer(f.get(), 0) < 0) return Status::Error("ENCODER_FAILED", "out of memory encoding audio");
    const int avail = std::min<int>(n, static_cast<int>(pending_.size()) / ch);
    for (int c = 0; c < ch; ++c) {
      auto* dst = reinterpret_cast<float*>(f->data[c]);
      for (int i = 0; i < n; ++i) dst[i] = i < avail ? pending_[i * ch + c] / 32768.0f : 0.0f;
    }
    if (meter_) {
      const float* planes[AV_NUM_DATA_POINTERS] = {};
      for (int c = 0; c < ch; ++c) planes[c] = reinterpret_cast<const float*>(f->data[c]);
      meter_->Add(planes, ch, avail);
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(avail) * ch);
    f->pts = pending_pts_;
    pending_pts_ += n;
    const int rc = avcodec_send_frame(ctx_.get(), f.get());
    if (rc < 0) return Status::Error("ENCODER_FAILED", "the AAC encoder rejected audio: " + AvError(rc));
    Status s = Drain(out);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status AudioEncoder::Flush(std::vector<AdtsFrame>* out) {
  Status s = EncodePending(true, out);
  if (!s.ok()) return s;
  avcodec_send_frame(ctx_.get(), nullptr);
  return Drain(out);
}

Status AudioEncoder::Drain(std::vector<AdtsFrame>* out) {
  for (;;) {
    AVPacketPtr pkt = MakePacket();
    const int rc = avcodec_receive_packet(ctx_.get(), pkt.get());
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status::Ok();
    if (rc < 0) return Status::Error("ENCODER_FAILED", "the AAC encoder failed: " + AvError(rc));
    AdtsFrame a;
    WriteAdts(*pkt, &a.data);
    a.pts_samples = pkt->pts;  // libavcodec already subtracts the encoder delay
    out->push_back(std::move(a));
  }
}

}  // namespace fieldcast
