#pragma once
// One line of git's pre-receive / post-receive input: `<old-oid> SP <new-oid> SP <ref-name> LF`.

#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace trunkgate {

enum class update_kind { create, update, remove };

struct ref_update {
    std::string old_hex; ///< all zeros for a create
    std::string new_hex; ///< all zeros for a delete
    std::string ref;     ///< full ref name as git sent it, e.g. refs/heads/main

    update_kind kind() const;
    bool is_branch() const { return ref.rfind("refs/heads/", 0) == 0; }
    bool is_tag() const { return ref.rfind("refs/tags/", 0) == 0; }
    /// `refs/heads/feature/x` -> `feature/x`; the full name for refs outside heads/tags.
    std::string short_name() const;
};

/// True for a 40 (SHA-1) or 64 (SHA-256) character lowercase or uppercase hex string.
bool is_object_id(std::string_view text);
/// True when `hex` is an object id made only of zeros (git's "no object").
bool is_zero_id(std::string_view hex);

/// Parses one update line (without its LF). Throws input_error naming the problem.
ref_update parse_update_line(std::string_view line);

/// Parses every line of `in`; blank lines are skipped. Throws input_error with the 1-based line
/// number of the first bad line.
std::vector<ref_update> parse_updates(std::istream& in);

/// Builds updates from command-line triples OLD NEW REF. Throws input_error.
std::vector<ref_update> updates_from_args(const std::vector<std::string>& args);

} // namespace trunkgate
