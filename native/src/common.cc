#include "common.h"

#include <time.h>

#include <memory>
#include <mutex>

#include "registry.h"

namespace fieldcast {

int64_t MonotonicMicros() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

Napi::Object StatusToObject(Napi::Env env, const Status& s) {
  auto o = Napi::Object::New(env);
  o.Set("code", s.code);
  o.Set("message", s.message);
  return o;
}

void ThrowStatus(Napi::Env env, const Status& s) {
  auto e = Napi::Error::New(env, s.message);
  e.Set("code", Napi::String::New(env, s.code));
  throw e;
}

namespace {

struct LogLine {
  LogLevel level;
  std::string module;
  std::string message;
};

std::mutex g_log_mutex;
std::unique_ptr<Napi::ThreadSafeFunction> g_log_fn;

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

// setLogCallback(fn(level, module, message) | null)
Napi::Value SetLogCallback(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  std::lock_guard<std::mutex> lock(g_log_mutex);
  if (g_log_fn) {
    g_log_fn->Release();
    g_log_fn.reset();
  }
  if (info.Length() > 0 && info[0].IsFunction()) {
    g_log_fn = std::make_unique<Napi::ThreadSafeFunction>(
        Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "fieldcast-log", 256, 1));
    g_log_fn->Unref(env);  // logging alone never keeps the process alive
  }
  return env.Undefined();
}

Napi::Value MonotonicMicrosJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(MonotonicMicros()));
}

void InitCommon(Napi::Env env, Napi::Object exports) {
  exports.Set("setLogCallback", Napi::Function::New(env, SetLogCallback));
  exports.Set("monotonicMicros", Napi::Function::New(env, MonotonicMicrosJs));
  exports.Set("addonVersion", Napi::String::New(env, "1"));
}

}  // namespace

void Log(LogLevel level, const char* module, const std::string& message) {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  if (!g_log_fn) return;
  auto line = std::make_unique<LogLine>(LogLine{level, module, message});
  // NonBlocking: a full queue drops the line rather than stall a capture thread.
  auto st = g_log_fn->NonBlockingCall(line.get(), [](Napi::Env env, Napi::Function fn, LogLine* l) {
    std::unique_ptr<LogLine> owned(l);
    if (env != nullptr && fn != nullptr) {
      fn.Call({Napi::String::New(env, LevelName(l->level)), Napi::String::New(env, l->module),
               Napi::String::New(env, l->message)});
    }
  });
  if (st == napi_ok) line.release();  // now owned by the callback above
}

FIELDCAST_REGISTER(Common, InitCommon);

}  // namespace fieldcast
