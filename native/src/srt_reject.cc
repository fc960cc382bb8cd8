#include "srt_reject.h"

#include <srt/access_control.h>
#include <srt/srt.h>

namespace fieldcast {

namespace {

// The SRT access-control codes (access_control.h) follow HTTP's 4xx/5xx.
std::string RejxText(int reason) {
  switch (reason) {
    case SRT_REJX_BAD_REQUEST: return "bad request";
    case SRT_REJX_UNAUTHORIZED: return "unauthorized";
    case SRT_REJX_OVERLOAD: return "overloaded";
    case SRT_REJX_FORBIDDEN: return "forbidden";
    case SRT_REJX_NOTFOUND: return "not found";
    case SRT_REJX_BAD_MODE: return "mode not supported";
    case SRT_REJX_UNACCEPTABLE: return "unacceptable parameters";
    case SRT_REJX_CONFLICT: return "already in use";
    case SRT_REJX_LOCKED: return "locked";
    case SRT_REJX_ISE: return "internal server error";
    case SRT_REJX_DOWN: return "service down";
    default: return "code " + std::to_string(reason);
  }
}

}  // namespace

SrtFailure DescribeConnectFailure(int reason, const std::string& target, bool has_passphrase, bool has_stream_id,
                                  int timeout_ms) {
  if (reason >= SRT_REJC_PREDEFINED) {
    // The listener's access control refused us; what it judges is the stream id.
    if (reason == SRT_REJX_CONFLICT) {
      return {"SRT_LISTENER_BUSY", "the destination " + target + " is already receiving from another sender"};
    }
    return {"SRT_STREAMID_REJECTED", "the destination " + target + " refused the stream id (" + RejxText(reason) +
                                         "); check the stream id it expects"};
  }
  switch (reason) {
    case SRT_REJ_BADSECRET:
      return {"SRT_AUTH_FAILED", "the destination rejected the passphrase: check that both sides use the same one"};
    case SRT_REJ_UNSECURE:
      return {"SRT_ENCRYPTION_MISMATCH",
              has_passphrase ? "the destination " + target + " has no passphrase set but this stream is encrypted; "
                                   "set the same passphrase on both sides or remove it here"
                             : "the destination " + target + " requires a passphrase; set it in the destination"};
    case SRT_REJ_TIMEOUT:
      return {"SRT_CONNECT_TIMEOUT", "no answer from " + target + " within " + std::to_string(timeout_ms) +
                                         " ms: is the listener running and the port open?"};
    case SRT_REJ_PEER:
      if (has_stream_id) {
        return {"SRT_STREAMID_REJECTED", "the destination " + target + " refused the connection; check the stream id"};
      }
      return {"SRT_CONNECT_REJECTED", "the destination " + target + " refused the connection"};
    case SRT_REJ_BACKLOG:
      return {"SRT_LISTENER_BUSY", "the destination " + target + " is busy with other senders"};
    case SRT_REJ_VERSION:
      return {"SRT_CONNECT_REJECTED", "the destination " + target + " needs a newer SRT version"};
    case SRT_REJ_SYSTEM:
      return {"SRT_CONNECT_FAILED", "could not reach " + target + " (network error)"};
    case SRT_REJ_CLOSE:
      return {"SRT_CLOSED", "the connection to " + target + " was closed"};
    default: {
      const char* why = srt_rejectreason_str(reason);
      return {"SRT_CONNECT_REJECTED",
              "the destination " + target + " refused the connection (" + std::string(why ? why : "unknown") + ")"};
    }
  }
}

}  // namespace fieldcast
