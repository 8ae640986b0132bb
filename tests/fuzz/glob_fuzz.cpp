// libFuzzer target: glob_match. Input: the pattern, a newline, then the text (which may hold
// further newlines). Besides crashes it checks two documented properties: `*` matches any text,
// and a pattern that escapes every special character of a text matches exactly that text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "trunkgate/policy/glob.hpp"

namespace {

std::string literal_pattern(std::string_view text) {
    std::string pattern;
    for (char c : text) {
        if (c == '*' || c == '?' || c == '\\')
            pattern += '\\';
        pattern += c;
    }
    return pattern;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    const auto pattern = input.substr(0, newline);
    const auto text =
        newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

    (void)trunkgate::glob_match(pattern, text);
    (void)trunkgate::glob_match(text, pattern);
    (void)trunkgate::glob_match_any({std::string(pattern), "refs/heads/*"}, text);
    if (!trunkgate::glob_match("*", text) || !trunkgate::glob_match(literal_pattern(text), text))
        __builtin_trap();
    return 0;
}
