// AAC-LC through libavcodec's native `aac` encoder, framed as ADTS for the
// MPEG-TS muxer (ISO/IEC 13818-1 stream type 0x0F carries ADTS).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "audio_meter.h"
#include "av_ptr.h"
#include "common.h"

namespace fieldcast {

struct AudioEncoderOptions {
  int64_t bitrate = 128000;
  int sample_rate = 48000;
  int channels = 2;
};

// One ADTS frame (header + raw AAC) with its presentation time.
struct AdtsFrame {
  std::vector<uint8_t> data;
  int64_t pts_samples = 0;  // media clock in 1/sample_rate units
};

class AudioEncoder {
 public:
  // Codes: ENCODER_UNAVAILABLE, ENCODER_OPEN_FAILED.
  static Status Open(const AudioEncoderOptions& options, std::unique_ptr<AudioEncoder>* out);

  int sample_rate() const { return ctx_->sample_rate; }
  int channels() const { return ctx_->ch_layout.nb_channels; }
  // Measures every sample encoded from here on (not the padding of a gap or
  // the end). Set before audio flows; the meter outlives the encoder.
  void set_meter(AudioMeter* meter) { meter_ = meter; }

  // Interleaved S16 samples whose first sample is at pts_samples (media clock,
  // 1/sample_rate). Consecutive chunks are joined into 1024-sample AAC frames;
  // a chunk more than 20 ms off the running count starts afresh (a capture gap),
  // small jitter is absorbed so the audio timeline stays continuous.
  Status Encode(const AVFrame* s16, int64_t pts_samples, std::vector<AdtsFrame>* out);
  // Pads and encodes what is pending, then drains the encoder.
  Status Flush(std::vector<AdtsFrame>* out);

 private:
  Status EncodePending(bool pad, std::vector<AdtsFrame>* out);
  Status Drain(std::vector<AdtsFrame>* out);
  void WriteAdts(const AVPacket& pkt, std::vector<uint8_t>* dst) const;

  AVCodecContextPtr ctx_;
  AudioMeter* meter_ = nullptr;
  std::vector<int16_t> pending_;  // interleaved
  int64_t pending_pts_ = 0;
  int object_type_ = 2;  // AAC LC
  int freq_index_ = 3;   // 48 kHz
  int channel_config_ = 2;
};

}  // namespace fieldcast
