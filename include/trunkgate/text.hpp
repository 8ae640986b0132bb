#pragma once
// Small text helpers shared by feedback, policy errors and the CLI.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trunkgate {

/// `text` made safe for a terminal: control characters and bytes that are not
/// valid UTF-8 are written as escapes (\n, \t, \x1b), so odd ref names and messages are
/// shown faithfully and can never move the pusher's cursor or inject a fake `remote:` line.
std::string printable(std::string_view text);

/// `text` as one POSIX sh word: as it is when it holds only safe characters, else wrapped in
/// single quotes with embedded quotes escaped.
std::string shell_quote(std::string_view text);

/// "1 problem", "2 problems".
std::string count_noun(std::uint64_t count, std::string_view singular, std::string_view plural);

/// `text` with every occurrence of `from` replaced by `to` (replacements are not rescanned).
std::string replace_all(std::string text, std::string_view from, std::string_view to);

/// Joins `items` with `separator`.
std::string join(const std::vector<std::string>& items, std::string_view separator);

} // namespace trunkgate
