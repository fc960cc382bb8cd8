// Turns libsrt's reject reasons (srt_getrejectreason, srt.h SRT_REJECT_REASON
// and access_control.h SRT_REJX_*) into Fieldcast's stable codes and words an
// operator understands. Codes match src/srt/errors.ts.
#pragma once
#include <string>

namespace fieldcast {

struct SrtFailure {
  std::string code;
  std::string message;
};

// `target` is "host:port" as the operator wrote it; `has_passphrase` and
// `has_stream_id` say what this side offered; `timeout_ms` the connect timeout.
SrtFailure DescribeConnectFailure(int reason, const std::string& target, bool has_passphrase, bool has_stream_id,
                                  int timeout_ms);

}  // namespace fieldcast
