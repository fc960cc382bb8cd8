// Plain types shared by every feature: status codes, the media clock, logging.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

namespace fieldcast {

// A result with a stable code (empty when ok) and an operator-readable message.
// Codes match the TypeScript error classes (INPUT_NO_SIGNAL, ENCODER_OPEN_FAILED, ...).
struct Status {
  std::string code;
  std::string message;
  bool ok() const { return code.empty(); }
  static Status Ok() { return {}; }
  static Status Error(std::string c, std::string m) { return {std::move(c), std::move(m)}; }
};

// The media clock: CLOCK_MONOTONIC in microseconds. Capture stamps frames with
// it; JS converts to 90 kHz / 27 MHz (src/lib/clock.ts).
int64_t MonotonicMicros();

// Throws a JS Error carrying `code` (rebuilt into a named class by src/native).
[[noreturn]] void ThrowStatus(Napi::Env env, const Status& s);
Napi::Object StatusToObject(Napi::Env env, const Status& s);

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Thread-safe: queues a line for the JS log callback (set by setLogCallback).
// The addon never prints; with no callback set, lines are dropped.
void Log(LogLevel level, const char* module, const std::string& message);

}  // namespace fieldcast
