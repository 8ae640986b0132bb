#pragma once
// Globs for ref names and identities, as in git refspecs: `*` matches any run of characters
// (slashes included), `?` one character, `\` escapes the next character. Matching is linear in
// practice and never backtracks more than O(len(pattern) * len(text)).

#include <string>
#include <string_view>
#include <vector>

namespace trunkgate {

/// True when `text` matches the whole of `pattern`.
bool glob_match(std::string_view pattern, std::string_view text);

/// True when `text` matches any of `patterns`.
bool glob_match_any(const std::vector<std::string>& patterns, std::string_view text);

} // namespace trunkgate
