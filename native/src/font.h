// A small built-in 5x7 bitmap font for burning text into pictures (the slate,
// the test pattern's captions) without a font library on the appliance.
#pragma once
#include <cstdint>
#include <string_view>

extern "C" {
#include <libavutil/frame.h>
}

namespace fieldcast {

// Glyph cell at scale 1: 5x7 pixels drawn, 1 column and 1 row of spacing.
constexpr int kGlyphWidth = 5;
constexpr int kGlyphHeight = 7;
constexpr int kGlyphAdvance = 6;

// Draws `text` with its top-left corner at (x, y) on the luma plane of an 8-bit
// YUV frame (planar or semi-planar: YUV420P, YUV422P, NV12, GRAY8 ...), each
// font pixel a scale x scale square of value `luma`. Clipped to the frame;
// other formats (packed, RGB, high bit depth) are left untouched. Lower case is
// drawn as upper case; characters the font lacks are drawn as a hollow box.
void DrawText(AVFrame* frame, int x, int y, int scale, std::string_view text, uint8_t luma);

// Width in pixels of `text` drawn at `scale` (no trailing spacing).
int TextWidth(std::string_view text, int scale);

// Height in pixels of one line drawn at `scale` (scale is clamped to 1..256).
inline int TextHeight(int scale) { return kGlyphHeight * (scale < 1 ? 1 : scale > 256 ? 256 : scale); }

}  // namespace fieldcast
