// The addon's entry: registers the exports each feature contributed (registry.h).
#include <napi.h>

#include "registry.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (auto& fn : fieldcast::Registry()) fn(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(fieldcast, Init)
