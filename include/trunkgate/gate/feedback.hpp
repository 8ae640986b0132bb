#pragma once
// What the pusher reads: the `remote:` lines of the hook, and `trunkgate check` output.

#include <string>
#include <string_view>

#include "trunkgate/gate/evaluate.hpp"

namespace trunkgate {

/// The text report: a header line, then one line per finding grouped by ref, each followed by
/// its hint. Empty when the verdict has no findings. Every ref name and message is printable().
std::string render_text(const verdict& result);

/// The JSON report: {"decision","findings":[{"rule","level","ref","commit","value","limit",
/// "message","hint"}]} (docs/cli.md). One line, no trailing newline.
std::string render_json(const verdict& result);

/// The one line shown when trunkgate itself fails: the push is rejected, never silently
/// accepted, and the pusher is told whom to ask.
std::string render_internal_error(std::string_view what, std::string_view contact);

} // namespace trunkgate
