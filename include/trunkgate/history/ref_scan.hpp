#pragma once
// Listing the refs under a prefix without loading every ref: libgit2 1.5 parses the whole
// packed-refs file into a sorted cache (an allocation per ref) for any look-up or iteration, which
// in a repository with 100,000 refs costs more than the push being judged. This reads the files
// git documents (gitrepository-layout: loose refs under refs/, and packed-refs, whose `^` lines
// carry an annotated tag's peeled value) directly: packed-refs is mapped and scanned line by
// line, and only the lines under the prefix are parsed.

#include <git2.h>

#include <functional>
#include <optional>
#include <string_view>

namespace trunkgate {

/// One ref: its name, the object it names and, for a packed annotated tag, the object the tag
/// peels to.
struct scanned_ref {
    std::string_view name;
    git_oid target;
    std::optional<git_oid> peeled;
};

/// Calls `visit` for every ref whose name starts with `prefix` ("refs/" for all), loose refs
/// first; a loose ref hides a packed one of the same name, as in git. Symbolic refs and names git
/// would refuse (a `.lock` file, say) are skipped. Throws internal_error when a file exists but
/// cannot be read.
void scan_refs(git_repository* repo, std::string_view prefix,
               const std::function<void(const scanned_ref&)>& visit);

} // namespace trunkgate
