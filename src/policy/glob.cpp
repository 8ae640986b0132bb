#include "trunkgate/policy/glob.hpp"

namespace trunkgate {

// The classic two-cursor wildcard match: on a mismatch, resume after the most recent `*`
// with the text advanced by one. A later `*` supersedes an earlier one, so no deep backtracking.
bool glob_match(std::string_view pattern, std::string_view text) {
    std::size_t p = 0, t = 0;
    std::size_t star_p = std::string_view::npos, star_t = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star_p = p++;
            star_t = t;
            continue;
        }
        if (p < pattern.size()) {
            char expected = pattern[p];
            std::size_t width = 1;
            if (expected == '\\' && p + 1 < pattern.size()) {
                expected = pattern[p + 1];
                width = 2;
            }
            if ((pattern[p] == '?' && width == 1) || expected == text[t]) {
                p += width;
                ++t;
                continue;
            }
        }
        if (star_p == std::string_view::npos)
            return false;
        p = star_p + 1;
        t = ++star_t;
    }
    while (p < pattern.size() && pattern[p] == '*')
        ++p;
    return p == pattern.size();
}

bool glob_match_any(const std::vector<std::string>& patterns, std::string_view text) {
    for (const auto& pattern : patterns)
        if (glob_match(pattern, text))
            return true;
    return false;
}

} // namespace trunkgate
