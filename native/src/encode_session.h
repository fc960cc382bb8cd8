// The encode session: a picture source and a sound source, each read and
// encoded on its own native thread, their access units handed to JS through a
// bounded queue (unit_queue.h). Signal loss switches to the slate with the
// timeline unbroken; the encoder outlives input format changes.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "audio_encoder.h"
#include "audio_meter.h"
#include "source.h"
#include "test_pattern.h"
#include "thumbnail.h"
#include "unit_queue.h"
#include "video_encoder.h"

namespace fieldcast {

// Flat and already checked in TypeScript (src/media/session.ts).
struct SessionOptions {
  std::string video_source = "testpattern";  // "testpattern" or a V4L2 device path
  int v4l2_input = -1;
  std::string input_name;                  // shown on the slate; empty: the device's own name
  std::string audio_source = "testtone";  // "testtone", "none" (silence), or an ALSA device
  bool paced = true;                       // test pattern only: false runs as fast as the encoder
  int64_t max_frames = 0;                  // 0: until closed
  VideoEncoderOptions video;               // width/height/fps: the output; 0 = the source's
  int64_t audio_bitrate = 128000;
  int audio_channels = 2;
  size_t queue_units = 512;
  size_t queue_bytes = 32u << 20;
  int thumbnail_width = 0;                 // 0: no thumbnails (benchmarks, encode tests)
};

struct SessionCounters {
  std::atomic<uint64_t> video_frames{0}, video_bytes{0}, keyframes{0}, audio_frames{0}, audio_bytes{0};
  std::atomic<uint64_t> late_frames{0}, slate_frames{0}, signal_losses{0};
  std::atomic<int64_t> bitrate{0};
  std::atomic<bool> on_slate{false}, audio_silence{false};
};

class EncodeSession {
 public:
  // `wake` is called (from any thread) when the queue has items for JS.
  EncodeSession(SessionOptions options, std::function<void()> wake);
  ~EncodeSession();

  void Start();                 // spawns the threads; a kStarted or kError item follows
  void RequestStop();           // non-blocking; threads wind down
  void Join();                  // blocks until the threads have ended
  void SetVideoBitrate(int64_t bps) { pending_bitrate_ = bps; }
  void ForceKeyframe() { force_key_ = true; }

  UnitQueue& queue() { return queue_; }
  const SessionCounters& counters() const { return counters_; }
  const std::string& video_codec() const { return video_codec_; }
  // Any thread: the programme levels of the last whole second (audio_meter.h).
  AudioLevels audio_levels() const { return meter_.Latest(); }
  // Any thread: the latest thumbnail; null when off, unavailable, or none yet.
  std::shared_ptr<const Thumbnail> thumbnail() const { return thumbnails_ ? thumbnails_->Latest() : nullptr; }

 private:
  void VideoThread();
  void AudioThread();
  Status OpenAll();
  bool EncodeVideo(VideoFrame& vf);
  void MaybeThumbnail(const AVFrame& picture, int64_t capture_us);
  // One encoded picture to JS, with the capture time it was taken at (also for the encoder's flushed tail).
  void PostVideoPacket(const AVPacket& p);
  bool EncodeAudio(AudioChunk& chunk);
  void HandleNoSignal(const std::string& why);
  void SwitchToSilence(const Status& why, int64_t from_us);
  void Post(OutItem&& item, bool control);
  void PostEvent(const std::string& code, const std::string& message);
  void PostError(const Status& s);
  void InterruptSources();

  const SessionOptions options_;
  std::function<void()> wake_;
  UnitQueue queue_;
  SessionCounters counters_;
  AudioMeter meter_;
  // Made with the session (so any thread may ask it), used by the video thread.
  const std::unique_ptr<Thumbnailer> thumbnails_;
  bool thumbnails_off_ = false;     // the video thread's: the JPEG encoder is missing
  bool thumbnail_failing_ = false;  // the video thread's: the last one failed (said once)

  std::shared_ptr<TestClock> clock_;
  std::mutex sources_mu_;  // guards the source pointers against Interrupt() from JS
  std::unique_ptr<VideoSource> primary_, slate_;
  std::unique_ptr<AudioSource> audio_;
  std::unique_ptr<VideoEncoder> video_enc_;
  std::unique_ptr<AudioEncoder> audio_enc_;
  SwsContextPtr sws_;
  AVFramePtr scaled_;
  VideoFormat out_format_;
  std::string video_codec_;

  std::thread video_thread_, audio_thread_;
  std::atomic<bool> stop_{false}, video_done_{false};
  std::atomic<int64_t> end_us_{INT64_MAX};
  std::atomic<int64_t> pending_bitrate_{0};
  std::atomic<bool> force_key_{false};
  std::map<int64_t, int64_t> capture_by_pts_;  // pts -> capture_us of pictures inside the encoder
  int64_t last_video_pts_ = INT64_MIN;
  int64_t last_audio_end_us_ = 0;
};

}  // namespace fieldcast
