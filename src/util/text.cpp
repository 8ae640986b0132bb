#include "trunkgate/util/text.hpp"

#include <iconv.h>
#include <strings.h>

#include <cstdio>

namespace trunkgate {

namespace {

// One well-formed UTF-8 sequence decoded, or length 0 when the bytes at `i` are not one
// (a stray continuation byte, a cut sequence, an overlong form, a surrogate, or past U+10FFFF).
struct decoded {
    std::size_t length = 0;
    char32_t code_point = 0;
};

decoded decode_utf8(std::string_view text, std::size_t i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    char32_t value = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        value = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        value = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        value = lead & 0x07;
    }
    if (length == 0 || i + length > text.size())
        return {};
    for (std::size_t k = 1; k < length; ++k) {
        const auto next = static_cast<unsigned char>(text[i + k]);
        if ((next & 0xC0) != 0x80)
            return {};
        value = (value << 6) | (next & 0x3F);
    }
    const char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (value < smallest[length] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
        return {};
    return {length, value};
}

// Code points that are valid UTF-8 yet must not reach a terminal as they are: C1 controls
// (U+009B is a CSI), bidi embeddings, overrides and isolates (they reorder what follows, the
// "Trojan Source" trick), and non-characters.
bool is_hidden_code_point(char32_t value) {
    return (value >= 0x80 && value <= 0x9F) || (value >= 0x202A && value <= 0x202E) ||
           (value >= 0x2066 && value <= 0x2069) || (value >= 0xFDD0 && value <= 0xFDEF) ||
           (value & 0xFFFE) == 0xFFFE;
}

void append_hex_escape(std::string& out, unsigned char byte) {
    char escaped[8];
    std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
    out += escaped;
}

void append_code_point_escape(std::string& out, char32_t value) {
    char escaped[16];
    std::snprintf(escaped, sizeof escaped, "\\u{%04x}", static_cast<unsigned>(value));
    out += escaped;
}

void append_ascii(std::string& out, unsigned char byte) {
    switch (byte) {
    case '\n':
        out += "\\n";
        return;
    case '\t':
        out += "\\t";
        return;
    case '\r':
        out += "\\r";
        return;
    default:
        if (byte < 0x20 || byte == 0x7f)
            append_hex_escape(out, byte);
        else
            out += static_cast<char>(byte);
    }
}

} // namespace

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x80) {
            append_ascii(out, byte);
            ++i;
            continue;
        }
        const auto sequence = decode_utf8(text, i);
        if (sequence.length == 0) {
            append_hex_escape(out, byte);
            ++i;
        } else {
            if (is_hidden_code_point(sequence.code_point))
                append_code_point_escape(out, sequence.code_point);
            else
                out.append(text.substr(i, sequence.length));
            i += sequence.length;
        }
    }
    return out;
}

std::string shell_quote(std::string_view text) {
    const bool plain =
        !text.empty() && text.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                "0123456789._/-+@:=,%") == std::string_view::npos;
    if (plain)
        return std::string(text);
    std::string out = "'";
    for (char c : text) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

std::string count_noun(std::uint64_t count, std::string_view singular, std::string_view plural) {
    return std::to_string(count) + ' ' + std::string(count == 1 ? singular : plural);
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    if (from.empty())
        return text;
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i)
            out += separator;
        out += items[i];
    }
    return out;
}

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string to_utf8(std::string_view bytes, const char* encoding) {
    if (!encoding || !*encoding || strcasecmp(encoding, "UTF-8") == 0 ||
        strcasecmp(encoding, "utf8") == 0)
        return std::string(bytes);
    const iconv_t converter = iconv_open("UTF-8", encoding);
    if (converter == reinterpret_cast<iconv_t>(-1))
        return std::string(bytes);
    std::string out(bytes.size() * 4 + 4, '\0');
    auto* in = const_cast<char*>(bytes.data());
    std::size_t in_left = bytes.size();
    char* cursor = out.data();
    std::size_t out_left = out.size();
    const bool converted =
        iconv(converter, &in, &in_left, &cursor, &out_left) != static_cast<std::size_t>(-1) &&
        iconv(converter, nullptr, nullptr, &cursor, &out_left) != static_cast<std::size_t>(-1);
    iconv_close(converter);
    if (!converted)
        return std::string(bytes);
    out.resize(out.size() - out_left);
    return out;
}

} // namespace trunkgate
