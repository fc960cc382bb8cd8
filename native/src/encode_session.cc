#include "encode_session.h"

#include <cmath>
#include <map>

#include "alsa_source.h"
#include "silence_source.h"
#include "slate_source.h"
#include "v4l2_source.h"

extern "C" {
#include <libavutil/samplefmt.h>
#include <libavutil/pixdesc.h>
}

namespace fieldcast {

namespace {

constexpr int kReadTimeoutMs = 200;
// A capture input that delivers nothing for this long is treated as signal
// loss even if the driver never said so: the slate keeps the stream alive.
constexpr int64_t kStallUs = 1000000;
// When JS stops reading after the video ended, audio gives up after this.
constexpr int64_t kAudioTailUs = 2000000;
// How often a lost or missing audio device is tried again while silence is sent.
constexpr int64_t kAudioRetryUs = 5000000;
// Audio timestamps may wobble this much (the encoder absorbs it); more overlap is dropped.
constexpr int64_t kAudioOverlapUs = 20000;

int64_t UsToPts(int64_t us) { return (us * 9 + 50) / 100; }  // src/lib/clock.ts microsToPts

std::string FormatText(const VideoFormat& f) {
  const char* pix = av_get_pix_fmt_name(f.pix_fmt);
  char rate[32];
  snprintf(rate, sizeof rate, "%.2f", f.fps_den ? static_cast<double>(f.fps_num) / f.fps_den : 0.0);
  return std::to_string(f.width) + "x" + std::to_string(f.height) + " " + (pix ? pix : "?") + " " + rate + " fps";
}

}  // namespace

EncodeSession::EncodeSession(SessionOptions options, std::function<void()> wake)
    : options_(std::move(options)),
      wake_(std::move(wake)),
      queue_(options_.queue_units, options_.queue_bytes),
      thumbnails_(options_.thumbnail_width > 0 ? std::make_unique<Thumbnailer>(options_.thumbnail_width) : nullptr) {}

EncodeSession::~EncodeSession() {
  RequestStop();
  Join();
}

void EncodeSession::Start() { video_thread_ = std::thread([this] { VideoThread(); }); }

void EncodeSession::RequestStop() {
  stop_ = true;
  InterruptSources();
}

void EncodeSession::InterruptSources() {
  std::lock_guard<std::mutex> lock(sources_mu_);
  if (primary_) primary_->Interrupt();
  if (slate_) slate_->Interrupt();
  if (audio_) audio_->Interrupt();
  if (clock_) clock_->Interrupt();
}

void EncodeSession::Join() {
  if (video_thread_.joinable()) video_thread_.join();
}

void EncodeSession::Post(OutItem&& item, bool control) {
  const bool wake = control ? queue_.PushControl(std::move(item)) : queue_.PushUnit(std::move(item));
  if (wake) wake_();
}

void EncodeSession::PostEvent(const std::string& code, const std::string& message) {
  Log(LogLevel::kInfo, "session", code + ": " + message);
  OutItem e;
  e.kind = OutItem::Kind::kEvent;
  e.code = code;
  e.message = message;
  Post(std::move(e), true);
}

void EncodeSession::PostError(const Status& s) {
  OutItem e;
  e.kind = OutItem::Kind::kError;
  e.code = s.code;
  e.message = s.message;
  Post(std::move(e), true);
}

Status EncodeSession::OpenAll() {
  const bool pattern = options_.video_source == "testpattern";
  VideoEncoderOptions vopt = options_.video;
  std::unique_ptr<VideoSource> primary;
  if (pattern) {
    clock_ = std::make_shared<TestClock>(vopt.fps_num, vopt.fps_den, options_.paced);
    primary = CreateTestPatternVideo({vopt.width, vopt.height}, clock_);
  } else {
    primary = CreateV4l2Source({options_.video_source, options_.v4l2_input, 4});
  }
  Status s = primary->Open();
  if (!s.ok()) return s;
  const VideoFormat in = primary->format();
  // Zero means "as the input": the output keeps that size and rate from then on.
  if (vopt.width == 0 || vopt.height == 0) {
    vopt.width = in.width;
    vopt.height = in.height;
  }
  if (vopt.fps_num == 0) {
    vopt.fps_num = in.fps_num;
    vopt.fps_den = in.fps_den;
  }
  s = VideoEncoder::Open(vopt, &video_enc_);
  if (!s.ok()) return s;
  video_codec_ = video_enc_->codec_name();
  out_format_ = VideoFormat{vopt.width, vopt.height, video_enc_->pix_fmt(), vopt.fps_num, vopt.fps_den};
  counters_.bitrate = vopt.bitrate;
  {
    std::lock_guard<std::mutex> lock(sources_mu_);
    primary_ = std::move(primary);
  }
  Log(LogLevel::kInfo, "session", "video: " + primary_->name() + " " + FormatText(in) + " -> " + video_codec_ + " " + FormatText(out_format_));

  AudioEncoderOptions aopt;
  aopt.bitrate = options_.audio_bitrate;
  aopt.channels = options_.audio_channels;
  s = AudioEncoder::Open(aopt, &audio_enc_);
  if (!s.ok()) return s;
  // Whole seconds: each stats read (about one a second) shows the last one.
  meter_.Configure(audio_enc_->channels(), audio_enc_->sample_rate());
  audio_enc_->set_meter(&meter_);
  std::unique_ptr<AudioSource> audio;
  if (options_.audio_source == "testtone") {
    if (!clock_) clock_ = std::make_shared<TestClock>(vopt.fps_num, vopt.fps_den, true);
    audio = CreateTestToneAudio(clock_);
  } else if (options_.audio_source == "none") {
    // No sound wanted: the stream still carries a silent track (ingests alarm on missing audio).
    audio = CreateSilenceSource(MonotonicMicros());
    counters_.audio_silence = true;
  } else {
    audio = CreateAlsaSource({options_.audio_source});
  }
  s = audio->Open();
  if (!s.ok()) {
    // No device: the stream still carries audio (silence), and says why.
    PostEvent("AUDIO_SILENCE", s.message + "; sending silence instead");
    audio = CreateSilenceSource(MonotonicMicros());
    audio->Open();
    counters_.audio_silence = true;
  }
  std::lock_guard<std::mutex> lock(sources_mu_);
  audio_ = std::move(audio);
  return Status::Ok();
}

void EncodeSession::VideoThread() {
  Status s = OpenAll();
  if (!s.ok() || stop_) {
    if (!s.ok()) PostError(s);
    OutItem end;
    end.kind = OutItem::Kind::kEnded;
    Post(std::move(end), true);
    return;
  }
  OutItem started;
  started.kind = OutItem::Kind::kStarted;
  started.codec = video_codec_;
  started.width = out_format_.width;
  started.height = out_format_.height;
  started.fps_num = out_format_.fps_num;
  started.fps_den = out_format_.fps_den;
  started.audio = audio_enc_ != nullptr;
  started.sample_rate = audio_enc_ ? audio_enc_->sample_rate() : 0;
  started.channels = audio_enc_ ? audio_enc_->channels() : 0;
  Post(std::move(started), true);
  if (audio_enc_) audio_thread_ = std::thread([this] { AudioThread(); });

  const int64_t frame_us = 1000000LL * out_format_.fps_den / out_format_.fps_num;
  int64_t last_frame_wall = MonotonicMicros();
  int64_t last_capture_us = 0;
  uint64_t encoded = 0;
  bool ok = true;
  while (!stop_ && ok) {
    if (options_.max_frames > 0 && encoded >= static_cast<uint64_t>(options_.max_frames)) break;
    VideoFrame vf;
    ReadResult r;
    if (counters_.on_slate) {
      // Poll the input briefly; while it is still dark, show the slate.
      r = primary_->Read(5, &vf);
      if (r == ReadResult::kFrame || r == ReadResult::kFormatChanged) {
        counters_.on_slate = false;
        PostEvent("INPUT_SIGNAL_RESTORED", "the input " + primary_->name() + " has a picture again (" + FormatText(primary_->format()) + ")");
      } else if (r == ReadResult::kError) {
        PostError(primary_->last_status());
        break;
      } else {
        r = slate_->Read(kReadTimeoutMs, &vf);
        if (r == ReadResult::kFrame) ++counters_.slate_frames;
      }
    } else {
      r = primary_->Read(kReadTimeoutMs, &vf);
    }
    switch (r) {
      case ReadResult::kFrame:
        last_frame_wall = MonotonicMicros();
        last_capture_us = vf.capture_us;
        ok = EncodeVideo(vf);
        ++encoded;
        break;
      case ReadResult::kTimeout:
        if (!counters_.on_slate && options_.video_source != "testpattern" && MonotonicMicros() - last_frame_wall > kStallUs) HandleNoSignal("delivers no pictures");
        break;
      case ReadResult::kNoSignal:
        if (!counters_.on_slate) HandleNoSignal("has no signal");
        break;
      case ReadResult::kFormatChanged:
        // The scaler follows each frame's format; the encoder keeps its size so
        // the ingest sees one continuous stream.
        PostEvent("INPUT_FORMAT_CHANGED", "the input " + primary_->name() + " changed to " + FormatText(primary_->format()) +
                                              "; scaling to " + FormatText(out_format_));
        last_frame_wall = MonotonicMicros();
        break;
      case ReadResult::kError:
        PostError(primary_->last_status());
        ok = false;
        break;
    }
  }
  std::vector<AVPacketPtr> tail;
  if (ok && video_enc_->Encode(nullptr, false, &tail).ok()) {
    for (auto& p : tail) PostVideoPacket(*p);
  }
  // The audio stops where the pictures stopped.
  end_us_ = last_capture_us > 0 ? last_capture_us + frame_us : MonotonicMicros();
  video_done_ = true;
  if (clock_) clock_->ReleaseAudio();
  if (audio_thread_.joinable()) audio_thread_.join();
  OutItem end;
  end.kind = OutItem::Kind::kEnded;
  Post(std::move(end), true);
}

void EncodeSession::HandleNoSignal(const std::string& why) {
  ++counters_.signal_losses;
  if (!slate_) {
    auto slate = CreateSlateSource(out_format_, options_.input_name.empty() ? primary_->name() : options_.input_name);
    Status s = slate->Open();
    if (!s.ok()) {
      Log(LogLevel::kError, "session", "the slate failed to open: " + s.message);
      return;
    }
    std::lock_guard<std::mutex> lock(sources_mu_);
    slate_ = std::move(slate);
  }
  counters_.on_slate = true;
  PostEvent("INPUT_NO_SIGNAL", "the input " + primary_->name() + " " + why + "; sending the NO SIGNAL slate");
}

bool EncodeSession::EncodeVideo(VideoFrame& vf) {
  AVFrame* src = vf.frame.get();
  const int64_t pts = UsToPts(vf.capture_us);
  if (pts <= last_video_pts_) {
    ++counters_.late_frames;  // never send time backwards (e.g. slate to input hand-over)
    return true;
  }
  last_video_pts_ = pts;
  AVFrame* in = src;
  if (src->width != out_format_.width || src->height != out_format_.height || src->format != out_format_.pix_fmt) {
    // libswscale only when the formats differ.
    sws_.reset(sws_getCachedContext(sws_.release(), src->width, src->height, static_cast<AVPixelFormat>(src->format), out_format_.width,
                                    out_format_.height, out_format_.pix_fmt, SWS_BILINEAR, nullptr, nullptr, nullptr));
    if (!scaled_) {
      scaled_ = MakeFrame();
      scaled_->format = out_format_.pix_fmt;
      scaled_->width = out_format_.width;
      scaled_->height = out_format_.height;
      if (av_frame_get_buffer(scaled_.get(), 32) < 0) scaled_.reset();
    }
    if (!sws_ || !scaled_ || av_frame_make_writable(scaled_.get()) < 0) {
      PostError(Status::Error("ENCODER_FAILED", "cannot convert " + primary_->name() + " pictures for the encoder"));
      return false;
    }
    sws_scale(sws_.get(), src->data, src->linesize, 0, src->height, scaled_->data, scaled_->linesize);
    in = scaled_.get();
  }
  in->pts = pts;
  MaybeThumbnail(*in, vf.capture_us);
  const int64_t want = pending_bitrate_.exchange(0);
  if (want > 0) {
    video_enc_->SetBitrate(want);
    counters_.bitrate = want;
  }
  const bool key = force_key_.exchange(false) | queue_.TakeKeyframeRequest();
  std::vector<AVPacketPtr> packets;
  Status s = video_enc_->Encode(in, key, &packets);
  if (!s.ok()) {
    PostError(s);
    return false;
  }
  ++counters_.video_frames;
  capture_by_pts_[pts] = vf.capture_us;
  for (auto& p : packets) PostVideoPacket(*p);
  if (capture_by_pts_.size() > 256) capture_by_pts_.erase(capture_by_pts_.begin());  // bounded whatever the encoder does
  return true;
}

void EncodeSession::MaybeThumbnail(const AVFrame& picture, int64_t capture_us) {
  if (!thumbnails_ || thumbnails_off_ || !thumbnails_->Due(capture_us)) return;
  const Status s = thumbnails_->Make(picture, capture_us);
  if (s.ok()) {
    thumbnail_failing_ = false;
  } else if (s.code == "THUMBNAIL_UNAVAILABLE") {
    // Said once; the stream itself never depends on its thumbnail.
    thumbnails_off_ = true;
    PostEvent(s.code, s.message + "; the stream goes on without thumbnails");
  } else if (!thumbnail_failing_) {
    thumbnail_failing_ = true;  // once per run of failures, not every second
    Log(LogLevel::kWarn, "session", "no thumbnail: " + s.message);
  }
}

void EncodeSession::PostVideoPacket(const AVPacket& p) {
  OutItem u;
  u.video = true;
  u.key = (p.flags & AV_PKT_FLAG_KEY) != 0;
  u.data.assign(p.data, p.data + p.size);
  u.pts = static_cast<double>(p.pts);
  u.dts = static_cast<double>(p.dts);
  auto it = capture_by_pts_.find(p.pts);
  u.capture_us = it != capture_by_pts_.end() ? static_cast<double>(it->second) : u.pts * 100.0 / 9.0;
  capture_by_pts_.erase(capture_by_pts_.begin(), capture_by_pts_.upper_bound(p.pts));
  counters_.video_bytes += p.size;
  if (u.key) ++counters_.keyframes;
  Post(std::move(u), false);
}

void EncodeSession::SwitchToSilence(const Status& why, int64_t from_us) {
  PostEvent("AUDIO_SILENCE", why.message + "; sending silence instead");
  auto silence = CreateSilenceSource(from_us > 0 ? from_us : MonotonicMicros());
  silence->Open();
  std::lock_guard<std::mutex> lock(sources_mu_);
  audio_ = std::move(silence);
  counters_.audio_silence = true;
  if (stop_) audio_->Interrupt();
}

bool EncodeSession::EncodeAudio(AudioChunk& chunk) {
  const int rate = audio_enc_->sample_rate();
  if (chunk.capture_us + kAudioOverlapUs < last_audio_end_us_) {
    // Sound from before what was already sent (a source hand-over): time never runs backwards.
    return true;
  }
  const auto pts_samples = static_cast<int64_t>(std::llround(static_cast<double>(chunk.capture_us) * rate / 1e6));
  std::vector<AdtsFrame> frames;
  Status s = audio_enc_->Encode(chunk.frame.get(), pts_samples, &frames);
  if (!s.ok()) {
    PostError(s);
    return false;
  }
  last_audio_end_us_ = chunk.capture_us + static_cast<int64_t>(chunk.frame->nb_samples) * 1000000 / rate;
  for (auto& f : frames) {
    OutItem u;
    u.video = false;
    u.key = true;
    u.capture_us = static_cast<double>(f.pts_samples) * 1e6 / rate;
    u.pts = std::round(static_cast<double>(f.pts_samples) * 90000.0 / rate);
    u.dts = u.pts;
    counters_.audio_bytes += f.data.size();
    ++counters_.audio_frames;
    u.data = std::move(f.data);
    Post(std::move(u), false);
  }
  return true;
}

void EncodeSession::AudioThread() {
  const bool device_wanted = options_.audio_source != "testtone" && options_.audio_source != "none";
  int64_t next_retry = MonotonicMicros() + kAudioRetryUs;
  bool ok = true;
  while (!stop_ && ok) {
    if (video_done_ && (last_audio_end_us_ >= end_us_ || MonotonicMicros() > end_us_ + kAudioTailUs)) break;
    if (device_wanted && counters_.audio_silence && MonotonicMicros() >= next_retry) {
      // A USB interface replugged, an HDMI bridge's audio back: try the device again.
      next_retry = MonotonicMicros() + kAudioRetryUs;
      auto device = CreateAlsaSource({options_.audio_source});
      if (device->Open().ok()) {
        {
          std::lock_guard<std::mutex> lock(sources_mu_);
          audio_ = std::move(device);
          if (stop_) audio_->Interrupt();
        }
        counters_.audio_silence = false;
        PostEvent("AUDIO_RESTORED", "audio input " + options_.audio_source + " is back");
      }
    }
    AudioChunk chunk;
    const ReadResult r = audio_->Read(kReadTimeoutMs, &chunk);
    if (r == ReadResult::kFrame) {
      if (chunk.capture_us >= end_us_) break;
      // The slate is "NO SIGNAL" and silence: the camera's sound went with its
      // picture, and whatever the audio source still hears is not the show.
      if (counters_.on_slate && chunk.frame) {
        AVFrame* f = chunk.frame.get();
        av_samples_set_silence(f->data, 0, f->nb_samples, f->ch_layout.nb_channels, static_cast<AVSampleFormat>(f->format));
      }
      ok = EncodeAudio(chunk);
    } else if (r == ReadResult::kError) {
      SwitchToSilence(audio_->last_status(), last_audio_end_us_);
    }
  }
  std::vector<AdtsFrame> tail;
  if (ok && audio_enc_->Flush(&tail).ok()) {
    const int rate = audio_enc_->sample_rate();
    for (auto& f : tail) {
      OutItem u;
      u.video = false;
      u.key = true;
      u.capture_us = static_cast<double>(f.pts_samples) * 1e6 / rate;
      u.pts = u.dts = std::round(static_cast<double>(f.pts_samples) * 90000.0 / rate);
      u.data = std::move(f.data);
      Post(std::move(u), false);
    }
  }
}

}  // namespace fieldcast
