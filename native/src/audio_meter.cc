#include "audio_meter.h"

#include <algorithm>
#include <cmath>

namespace fieldcast {

namespace {

double ToDbfs(double amplitude) { return amplitude > 0 ? std::max(kLevelFloorDbfs, 20.0 * std::log10(amplitude)) : kLevelFloorDbfs; }

}  // namespace

void AudioMeter::Configure(int channels, int window_samples) {
  channels_ = channels;
  window_ = std::max(1, window_samples);
  count_ = 0;
  peak_.assign(channels, 0.0f);
  sum_squares_.assign(channels, 0.0);
  std::lock_guard<std::mutex> lock(mu_);
  latest_ = AudioLevels{};
}

void AudioMeter::Add(const float* const* planes, int channels, int n) {
  if (channels != channels_) return;  // never: the encoder's layout is fixed when it opens
  int done = 0;
  while (done < n) {
    // Up to the end of the window, so each window holds exactly window_ samples.
    const int take = std::min(n - done, window_ - count_);
    for (int c = 0; c < channels; ++c) {
      const float* p = planes[c] + done;
      float peak = peak_[c];
      double sum = 0;
      for (int i = 0; i < take; ++i) {
        peak = std::max(peak, std::fabs(p[i]));
        sum += static_cast<double>(p[i]) * p[i];
      }
      peak_[c] = peak;
      sum_squares_[c] += sum;
    }
    count_ += take;
    done += take;
    if (count_ == window_) Publish();
  }
}

void AudioMeter::Publish() {
  AudioLevels l;
  l.peak_dbfs.reserve(channels_);
  l.rms_dbfs.reserve(channels_);
  for (int c = 0; c < channels_; ++c) {
    l.peak_dbfs.push_back(ToDbfs(peak_[c]));
    l.rms_dbfs.push_back(ToDbfs(std::sqrt(sum_squares_[c] / count_)));
    peak_[c] = 0;
    sum_squares_[c] = 0;
  }
  count_ = 0;
  std::lock_guard<std::mutex> lock(mu_);
  latest_ = std::move(l);
}

AudioLevels AudioMeter::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

}  // namespace fieldcast
