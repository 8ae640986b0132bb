#pragma once
// Which trunkgate this is. Every program carries its version as a marker in its file, so
// `trunkgate doctor` can tell which version a hook wrapper runs without running it.

#include <optional>
#include <string>
#include <string_view>

namespace trunkgate {

/// This build's version, e.g. "0.1.0". A program that calls it carries the marker.
std::string_view trunkgate_version() noexcept;

/// The version marked in the program file at `path`; nullopt when the file cannot be read or
/// carries no marker (a program built before markers existed, or no trunkgate program).
std::optional<std::string> program_version(const std::string& path);

} // namespace trunkgate
