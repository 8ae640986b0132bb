#pragma once
// Small text helpers shared by feedback, policy errors and the CLI.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trunkgate {

/// `text` made safe for a terminal, so odd ref names and messages are shown faithfully and can
/// never move the pusher's cursor, reorder the line or inject a fake `remote:` line:
/// - \n, \t and \r as those escapes, other C0 controls and DEL as \xNN;
/// - bytes that are not well-formed UTF-8 (stray or cut sequences, overlong forms, surrogates,
///   anything past U+10FFFF) as \xNN, one per byte;
/// - well-formed code points that a terminal acts on or hides as \u{XXXX}: C1 controls
///   (U+0080-U+009F), bidi controls (U+202A-U+202E, U+2066-U+2069) and non-characters
///   (U+FDD0-U+FDEF, U+xFFFE, U+xFFFF).
/// The result is valid UTF-8 holding none of those. Everything else passes as it is.
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

/// `text` with A-Z as a-z; other bytes unchanged (no locale).
std::string ascii_lower(std::string_view text);

/// `bytes` in `encoding` (an iconv name, as a commit's `encoding` header gives it) converted to
/// UTF-8, as `git log` re-encodes a commit; `bytes` unchanged when the encoding is empty, UTF-8,
/// unknown to iconv, or the bytes are not valid in it.
std::string to_utf8(std::string_view bytes, const char* encoding);

} // namespace trunkgate
