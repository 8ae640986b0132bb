// libFuzzer target: compile_path_patterns and path_patterns::match. Input: one glob per line;
// the last line is the path to match. std::invalid_argument is the documented answer to a glob
// RE2 cannot compile. A match must name one of the globs it was compiled from.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "trunkgate/policy/policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> lines;
    for (std::size_t start = 0;;) {
        const auto end = input.find('\n', start);
        lines.emplace_back(input.substr(start, end - start));
        if (end == std::string_view::npos)
            break;
        start = end + 1;
    }
    const std::string path = lines.back();
    lines.pop_back();
    try {
        const auto compiled = trunkgate::compile_path_patterns(lines);
        for (const auto& candidate : {path, "a/" + path, path + "/b"}) {
            const auto matched = compiled.match(candidate);
            if (matched && std::find(lines.begin(), lines.end(), *matched) == lines.end())
                __builtin_trap();
        }
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
