// Programme levels of the sound on air: per channel, the peak |sample| and the
// RMS over each whole second, measured on the samples the AAC encoder takes
// (after channel mapping and conversion to float; silence included when the
// source fell back to it). The status page shows them as meters.
//
// Levels are in dBFS with full scale = 1.0 (int16 -32768): a full-scale sine
// reads 0 dBFS peak and -3.01 dBFS RMS (plain RMS, not the AES17 convention
// that adds 3.01 dB so a sine's RMS matches its peak).
#pragma once
#include <cstdint>
#include <mutex>
#include <vector>

namespace fieldcast {

// What a window of digital silence reads: below any 16-bit sample's level (one
// LSB is -90.3 dBFS), and a finite number, so the levels survive JSON.
constexpr double kLevelFloorDbfs = -100.0;

struct AudioLevels {
  std::vector<double> peak_dbfs;  // one per channel; empty until a first window completes
  std::vector<double> rms_dbfs;
};

class AudioMeter {
 public:
  // A window of `window_samples` per channel: at 48 kHz, 48000 is one second.
  // Called before audio flows (the session's audio thread not yet started).
  void Configure(int channels, int window_samples);

  // The audio thread: n samples of each of `channels` planes.
  void Add(const float* const* planes, int channels, int n);

  // Any thread: the last completed window. Reading does not reset it, so the
  // session's stats timer and the pipeline's stats can both read (a window
  // "since the last read" would be split between them).
  AudioLevels Latest() const;

 private:
  void Publish();  // the audio thread, when a window completes

  // The audio thread's own: the window being measured.
  int channels_ = 0;
  int window_ = 48000;
  int count_ = 0;
  std::vector<float> peak_;
  std::vector<double> sum_squares_;

  mutable std::mutex mu_;
  AudioLevels latest_;  // under mu_
};

}  // namespace fieldcast
