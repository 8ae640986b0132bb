#pragma once
// What the ref rules (rules.cpp) and the commit rules (commit_rules.cpp) share in their hints.

#include <string_view>

namespace trunkgate {

/// The name a pusher's clone gives this repository, in every git command a hint suggests.
inline constexpr std::string_view remote = "origin";

} // namespace trunkgate
