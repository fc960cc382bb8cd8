// sd_notify(3) without libsystemd: one datagram of KEY=VALUE lines to the
// unix socket systemd names in $NOTIFY_SOCKET (a path, or @name for the
// abstract namespace). Node has no unix datagram sockets, so the supervisor
// sends through here.
#pragma once
#include <string>

namespace fieldcast {

// Sends `message` (e.g. "READY=1\nSTATUS=live") to $NOTIFY_SOCKET. False when
// the variable is unset or the send failed (not under systemd: nothing to do).
bool SdNotify(const std::string& message);

}  // namespace fieldcast
