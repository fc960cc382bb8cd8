// ALSA capture (HDMI audio from the capture bridge, a USB interface) as an
// AudioSource: 48 kHz stereo S16, xruns recovered, first-sample times on the
// media clock.
#pragma once
#include <memory>
#include <string>

#include "source.h"

namespace fieldcast {

struct AlsaOptions {
  std::string device;  // "hw:1,0", "plughw:CARD=HDMI,DEV=0", "default"
};

// Returns a source ready to Open(); never null. Open() fails with
// AUDIO_DEVICE_UNAVAILABLE; a device that dies mid-stream makes Read() return
// kError with AUDIO_DEVICE_LOST (the session then carries on with silence).
std::unique_ptr<AudioSource> CreateAlsaSource(const AlsaOptions& options);

// alsa-lib writes its own errors to stderr; the addon never prints, so they
// go to the log at debug level (our callers report failures in words). Idempotent.
void RouteAlsaErrorsToLog();

}  // namespace fieldcast
