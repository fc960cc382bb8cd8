// renderSlate(options) and renderText(options): one picture's luma plane, so
// unit tests can check what the slate and the font draw without a capture
// device. A single test picture, not a stream: pictures never flow into JS.
#include <cstring>

#include "font.h"
#include "registry.h"
#include "slate_source.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace fieldcast {

namespace {

int IntField(const Napi::Object& o, const char* key, int fallback) {
  auto v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : fallback;
}

// Packs the visible luma rows (dropping the stride padding) into a Buffer.
Napi::Buffer<uint8_t> LumaToJs(Napi::Env env, const AVFrame* f) {
  auto buf = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(f->width) * f->height);
  for (int y = 0; y < f->height; ++y) {
    std::memcpy(buf.Data() + static_cast<size_t>(y) * f->width, f->data[0] + static_cast<ptrdiff_t>(y) * f->linesize[0],
                f->width);
  }
  return buf;
}

Napi::Object RequireOptions(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) {
    ThrowStatus(info.Env(), Status::Error("INVALID_INPUT", "expected an options object"));
  }
  return info[0].As<Napi::Object>();
}

// renderSlate({width, height, pixFmt?, inputName}) -> {width, height, pixFmt, luma}
Napi::Value RenderSlateJs(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto o = RequireOptions(info);
  VideoFormat f;
  f.width = IntField(o, "width", 0);
  f.height = IntField(o, "height", 0);
  f.fps_num = 25;
  f.fps_den = 1;
  const auto pf = o.Get("pixFmt");
  f.pix_fmt = pf.IsString() ? av_get_pix_fmt(pf.As<Napi::String>().Utf8Value().c_str()) : AV_PIX_FMT_YUV420P;
  const auto name = o.Get("inputName");
  auto slate = CreateSlateSource(f, name.IsString() ? name.As<Napi::String>().Utf8Value() : std::string());
  if (Status s = slate->Open(); !s.ok()) ThrowStatus(env, s);
  VideoFrame vf;
  if (slate->Read(1000, &vf) != ReadResult::kFrame) ThrowStatus(env, slate->last_status());
  auto out = Napi::Object::New(env);
  out.Set("width", vf.frame->width);
  out.Set("height", vf.frame->height);
  out.Set("pixFmt", av_get_pix_fmt_name(static_cast<AVPixelFormat>(vf.frame->format)));
  out.Set("luma", LumaToJs(env, vf.frame.get()));
  return out;
}

// renderText({width, height, x, y, scale, text, luma}) -> {width, height, textWidth, textHeight, luma}
Napi::Value RenderTextJs(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto o = RequireOptions(info);
  const int w = IntField(o, "width", 0), h = IntField(o, "height", 0);
  if (w < 2 || h < 2 || w > 4096 || h > 4096 || (w & 1) || (h & 1)) {
    ThrowStatus(env, Status::Error("INVALID_INPUT", "renderText needs an even size between 2x2 and 4096x4096"));
  }
  const auto t = o.Get("text");
  const std::string text = t.IsString() ? t.As<Napi::String>().Utf8Value() : std::string();
  const int scale = IntField(o, "scale", 1);
  AVFramePtr frame = MakeFrame();
  frame->width = w;
  frame->height = h;
  frame->format = AV_PIX_FMT_YUV420P;
  if (av_frame_get_buffer(frame.get(), 0) < 0) ThrowStatus(env, Status::Error("OUT_OF_MEMORY", "out of memory"));
  for (int y = 0; y < h; ++y) std::memset(frame->data[0] + static_cast<ptrdiff_t>(y) * frame->linesize[0], 0, w);
  DrawText(frame.get(), IntField(o, "x", 0), IntField(o, "y", 0), scale, text,
           static_cast<uint8_t>(IntField(o, "luma", 235)));
  auto out = Napi::Object::New(env);
  out.Set("width", w);
  out.Set("height", h);
  out.Set("textWidth", TextWidth(text, scale));
  out.Set("textHeight", TextHeight(scale));
  out.Set("luma", LumaToJs(env, frame.get()));
  return out;
}

void InitSlateBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("renderSlate", Napi::Function::New(env, RenderSlateJs));
  exports.Set("renderText", Napi::Function::New(env, RenderTextJs));
}

}  // namespace

FIELDCAST_REGISTER(SlateBinding, InitSlateBinding);

}  // namespace fieldcast
