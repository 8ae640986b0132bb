#pragma once
// Which push a hook runs for: an id the pre-receive and the post-receive hook of one push derive
// alike, without passing anything between them, so the audit log can pair a decision with what
// landed. Both hooks are children of the one `git receive-pack` process that serves the push.

#include <optional>
#include <string>

namespace trunkgate {

/// The id of the push this process is a hook of: 32 hex digits, a SHA-256 digest of the boot id
/// (/proc/sys/kernel/random/boot_id), the process id and the start time of the nearest ancestor
/// that is `git receive-pack` (or `git-receive-pack`), so it is the same for every hook of one
/// push and differs between pushes, also across reboots and reused process ids. nullopt when no
/// such ancestor is found within 32 generations (a hook run by hand, /proc not mounted). Never
/// throws.
std::optional<std::string> current_push_id() noexcept;

/// current_push_id() reading `proc_root` (normally "/proc") from process `start_pid` upwards:
/// a seam for tests.
std::optional<std::string> push_id_from(const std::string& proc_root, long start_pid) noexcept;

} // namespace trunkgate
