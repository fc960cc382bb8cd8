// What this box can encode and hear: each H.264 encoder the system's libavcodec
// has and whether it actually opens, the AAC encoder, ALSA capture devices.
#pragma once
#include <string>
#include <vector>

namespace fieldcast {

struct EncoderProbe {
  std::string name;
  bool present = false;  // compiled into libavcodec
  bool opens = false;    // opened at 320x240 on this machine
  std::string error;     // why it did not open
};

struct AlsaDeviceProbe {
  std::string device;  // "hw:CARD,DEV", what --audio takes
  std::string card;
  std::string name;
};

struct MediaProbe {
  std::vector<EncoderProbe> video_encoders;  // AutoVideoCodecs() order
  EncoderProbe audio_encoder;
  std::vector<AlsaDeviceProbe> audio_inputs;
};

// Blocking (opens encoders, walks sound cards): run off the JS thread.
MediaProbe ProbeMedia();

}  // namespace fieldcast
