// libFuzzer target: printable(). Checks the property a terminal relies on (issue 8): whatever
// the input, the output is valid UTF-8 in its shortest form and holds no C0 control, no DEL,
// no C1 control (raw or encoded), no bidi control, no surrogate and no non-character.
// A violation traps, so libFuzzer saves the input that caused it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "trunkgate/util/text.hpp"

namespace {

[[noreturn]] void violated(const char* what, std::string_view output, std::size_t at) {
    std::fprintf(stderr, "printable() output breaks the property: %s at byte %zu of %zu\n", what,
                 at, output.size());
    __builtin_trap();
}

bool forbidden_code_point(char32_t cp) {
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
           (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0xFDD0 && cp <= 0xFDEF) ||
           (cp & 0xFFFE) == 0xFFFE;
}

// Decodes `output` strictly (RFC 3629: no overlong forms, nothing above U+10FFFF) and checks
// every code point.
void check(std::string_view output) {
    for (std::size_t i = 0; i < output.size();) {
        const auto lead = static_cast<unsigned char>(output[i]);
        std::size_t length = 0;
        char32_t cp = 0;
        char32_t smallest = 0;
        if (lead < 0x80) {
            length = 1;
            cp = lead;
        } else if (lead >= 0xC0 && lead < 0xE0) {
            length = 2;
            cp = lead & 0x1F;
            smallest = 0x80;
        } else if (lead >= 0xE0 && lead < 0xF0) {
            length = 3;
            cp = lead & 0x0F;
            smallest = 0x800;
        } else if (lead >= 0xF0 && lead < 0xF8) {
            length = 4;
            cp = lead & 0x07;
            smallest = 0x10000;
        } else {
            violated("a byte that cannot start a UTF-8 sequence", output, i);
        }
        if (i + length > output.size())
            violated("a truncated UTF-8 sequence", output, i);
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(output[i + k]);
            if ((next & 0xC0) != 0x80)
                violated("a UTF-8 sequence with a bad continuation byte", output, i);
            cp = (cp << 6) | (next & 0x3F);
        }
        if (length > 1 && cp < smallest)
            violated("an overlong UTF-8 form", output, i);
        if (cp > 0x10FFFF)
            violated("a code point above U+10FFFF", output, i);
        if (forbidden_code_point(cp))
            violated("a control, bidi, surrogate or non-character code point", output, i);
        i += length;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check(trunkgate::printable(text));
    return 0;
}
