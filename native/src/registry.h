// Each feature registers the exports it adds, so addon.cc only walks the list.
#pragma once
#include <napi.h>

#include <functional>
#include <vector>

namespace fieldcast {

using InitFn = std::function<void(Napi::Env, Napi::Object)>;

inline std::vector<InitFn>& Registry() {
  static std::vector<InitFn> fns;
  return fns;
}

struct Registrar {
  explicit Registrar(InitFn fn) { Registry().push_back(std::move(fn)); }
};

}  // namespace fieldcast

// Use once per feature .cc: FIELDCAST_REGISTER(TestPattern, InitTestPattern);
#define FIELDCAST_REGISTER(name, fn) static ::fieldcast::Registrar fieldcast_registrar_##name(fn)
