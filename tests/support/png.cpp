#include "support/png.hpp"

#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace trunkgate::testing {

namespace {

std::uint32_t big_endian(const std::string& bytes, std::size_t at) {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i)
        value = (value << 8) | static_cast<unsigned char>(bytes.at(at + i));
    return value;
}

struct png_header {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::size_t channels = 0; // 3 (RGB) or 4 (RGBA)
};

png_header read_header(const std::string& data) {
    if (data.size() < 13)
        throw std::runtime_error("PNG: IHDR too short");
    png_header header{big_endian(data, 0), big_endian(data, 4), 0};
    const int depth = static_cast<unsigned char>(data[8]);
    const int colour_type = static_cast<unsigned char>(data[9]);
    const int interlace = static_cast<unsigned char>(data[12]);
    if (depth != 8 || (colour_type != 2 && colour_type != 6))
        throw std::runtime_error("PNG: only 8-bit RGB or RGBA is read here, not depth " +
                                 std::to_string(depth) + " colour type " +
                                 std::to_string(colour_type));
    if (interlace != 0)
        throw std::runtime_error("PNG: interlaced images are not read here");
    header.channels = colour_type == 2 ? 3 : 4;
    return header;
}

std::vector<std::uint8_t> inflate_all(const std::string& compressed, std::size_t expected) {
    std::vector<std::uint8_t> out(expected);
    uLongf size = static_cast<uLongf>(expected);
    const int rc =
        ::uncompress(out.data(), &size, reinterpret_cast<const Bytef*>(compressed.data()),
                     static_cast<uLong>(compressed.size()));
    if (rc != Z_OK || size != expected)
        throw std::runtime_error("PNG: the image data does not inflate to " +
                                 std::to_string(expected) + " bytes (zlib " + std::to_string(rc) +
                                 ")");
    return out;
}

std::uint8_t paeth(int left, int up, int up_left) {
    const int estimate = left + up - up_left;
    const int to_left = std::abs(estimate - left), to_up = std::abs(estimate - up),
              to_up_left = std::abs(estimate - up_left);
    if (to_left <= to_up && to_left <= to_up_left)
        return static_cast<std::uint8_t>(left);
    return static_cast<std::uint8_t>(to_up <= to_up_left ? up : up_left);
}

// Undoes one row's filter in place; `previous` is the row above, already unfiltered (zeros for
// the first row).
void unfilter_row(int filter, std::uint8_t* row, const std::uint8_t* previous, std::size_t length,
                  std::size_t pixel_bytes) {
    for (std::size_t i = 0; i < length; ++i) {
        const int left = i >= pixel_bytes ? row[i - pixel_bytes] : 0;
        const int up = previous[i];
        const int up_left = i >= pixel_bytes ? previous[i - pixel_bytes] : 0;
        int predictor = 0;
        switch (filter) {
        case 0:
            predictor = 0;
            break;
        case 1:
            predictor = left;
            break;
        case 2:
            predictor = up;
            break;
        case 3:
            predictor = (left + up) / 2;
            break;
        case 4:
            predictor = paeth(left, up, up_left);
            break;
        default:
            throw std::runtime_error("PNG: unknown row filter " + std::to_string(filter));
        }
        row[i] = static_cast<std::uint8_t>(row[i] + predictor);
    }
}

rgba_image decode(const png_header& header, const std::string& compressed) {
    const std::size_t stride = header.width * header.channels;
    auto raw = inflate_all(compressed, (stride + 1) * header.height);
    rgba_image image{header.width, header.height, {}};
    image.pixels.reserve(std::size_t{4} * header.width * header.height);
    const std::vector<std::uint8_t> zeros(stride, 0);
    const std::uint8_t* previous = zeros.data();
    for (std::size_t y = 0; y < header.height; ++y) {
        std::uint8_t* row = raw.data() + y * (stride + 1);
        unfilter_row(row[0], row + 1, previous, stride, header.channels);
        for (std::size_t x = 0; x < header.width; ++x) {
            const std::uint8_t* pixel = row + 1 + x * header.channels;
            image.pixels.insert(image.pixels.end(), pixel, pixel + 3);
            image.pixels.push_back(header.channels == 4 ? pixel[3] : 255);
        }
        previous = row + 1;
    }
    return image;
}

} // namespace

rgba_image read_png(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    if (bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0)
        throw std::runtime_error(path + " is not a PNG file");
    png_header header;
    std::string image_data;
    for (std::size_t at = 8; at + 12 <= bytes.size();) {
        const std::uint32_t length = big_endian(bytes, at);
        if (at + 12 + length > bytes.size())
            throw std::runtime_error("PNG: a chunk runs past the end of " + path);
        const std::string type = bytes.substr(at + 4, 4);
        const std::string data = bytes.substr(at + 8, length);
        const auto crc =
            ::crc32(0, reinterpret_cast<const Bytef*>(bytes.data() + at + 4), length + 4);
        if (crc != big_endian(bytes, at + 8 + length))
            throw std::runtime_error("PNG: bad CRC in the " + type + " chunk of " + path);
        if (type == "IHDR")
            header = read_header(data);
        else if (type == "IDAT")
            image_data += data;
        else if (type == "IEND" && header.channels == 0)
            throw std::runtime_error("PNG: no IHDR chunk in " + path);
        else if (type == "IEND")
            return decode(header, image_data);
        at += 12 + length;
    }
    throw std::runtime_error("PNG: no IEND chunk in " + path);
}

rgb parse_colour(const std::string& hex) {
    if (hex.size() != 7 || hex[0] != '#' ||
        hex.find_first_not_of("0123456789abcdefABCDEF", 1) != std::string::npos)
        throw std::invalid_argument("not a #rrggbb colour: " + hex);
    const auto channel = [&](std::size_t at) {
        return static_cast<std::uint8_t>(std::stoi(hex.substr(at, 2), nullptr, 16));
    };
    return {channel(1), channel(3), channel(5)};
}

std::size_t count_pixels(const rgba_image& image, rgb colour, int tolerance) {
    const auto near = [tolerance](std::uint8_t value, std::uint8_t wanted) {
        return std::abs(int{value} - int{wanted}) <= tolerance;
    };
    std::size_t count = 0;
    for (std::size_t at = 0; at + 3 < image.pixels.size(); at += 4)
        count += near(image.pixels[at], colour.red) && near(image.pixels[at + 1], colour.green) &&
                 near(image.pixels[at + 2], colour.blue);
    return count;
}

} // namespace trunkgate::testing
