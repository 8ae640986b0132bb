#pragma once
// A small PNG reader for the tests that look at screenshots (tests/e2e/report_html_test.cpp):
// 8-bit truecolour (RGB or RGBA), not interlaced, which is what Chromium's --screenshot writes.
// zlib inflates the image data; the row filters are undone here (PNG spec, section 7.3 and 9).

#include <cstdint>
#include <string>
#include <vector>

namespace trunkgate::testing {

/// A decoded image: `width` x `height` pixels, rows top to bottom, 4 bytes (R, G, B, A) each.
struct rgba_image {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::vector<std::uint8_t> pixels;
};

/// Reads the PNG file at `path`. Throws std::runtime_error naming what is wrong: not a PNG, a bad
/// chunk CRC, a colour type or bit depth it does not read, interlacing, damaged image data.
rgba_image read_png(const std::string& path);

/// An sRGB colour as "#rrggbb" gives it.
struct rgb {
    std::uint8_t red = 0;
    std::uint8_t green = 0;
    std::uint8_t blue = 0;
};

/// `hex` ("#rrggbb") as a colour. Throws std::invalid_argument on anything else.
rgb parse_colour(const std::string& hex);

/// The number of pixels of `image` whose R, G and B each lie within `tolerance` of `colour`.
std::size_t count_pixels(const rgba_image& image, rgb colour, int tolerance = 2);

} // namespace trunkgate::testing
