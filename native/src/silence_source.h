// Silence at 48 kHz stereo in real time: the stream always carries audio, even
// with no microphone input or after the audio device died.
#pragma once
#include <memory>

#include "source.h"

namespace fieldcast {

// First chunk stamped start_us (the media clock); chunks of 1024 samples follow
// back to back, each delivered when its last sample is due.
std::unique_ptr<AudioSource> CreateSilenceSource(int64_t start_us);

}  // namespace fieldcast
