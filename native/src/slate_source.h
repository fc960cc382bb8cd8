// The slate: a generated picture ("NO SIGNAL", the input's name, the time) the
// encode session shows while the capture input has no signal, so the stream
// to the ingest never stops (issue 4).
#pragma once
#include <memory>
#include <string>

#include "source.h"

namespace fieldcast {

// A VideoSource producing the slate at format's size and rate. The pixel
// format is format.pix_fmt when it is 8-bit planar or semi-planar YUV
// (YUV420P, YUV422P, YUV444P, NV12), else YUV420P. The clock line is UTC
// ("HH:MM:SS UTC"): the box has no reliable time zone. Frames are paced on the
// media clock at exact multiples of the frame duration from Open(); a reader
// that falls behind skips to the current slot rather than receiving a burst.
// Never null; Open() fails only on an invalid size or rate.
std::unique_ptr<VideoSource> CreateSlateSource(const VideoFormat& format, const std::string& input_name);

}  // namespace fieldcast
