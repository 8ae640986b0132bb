#pragma once
// The parts of GitHub's push event a bare server has no record of, derived the documented way
// (docs/events.md, "What trunkgate derives"): the repository object, user objects, stable ids
// and the web URLs of commits and comparisons.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "trunkgate/policy/policy.hpp"

namespace trunkgate {

/// Who and where the repository is, from [repository] and what the server knows.
struct repository_identity {
    std::int64_t id = 0;
    std::string owner; ///< full_name up to its last slash
    std::string name;  ///< full_name after its last slash
    std::string full_name;
    std::string html_url;   ///< the web page, no trailing slash
    std::string api_url;    ///< the API root, no trailing slash
    std::string clone_url;  ///< https clone URL
    std::string ssh_url;    ///< scp-like ssh clone address
    std::string git_url;    ///< git:// form, as GitHub lists it
    std::string commit_url; ///< template with {sha}
    std::string
        compare_url; ///< [repository] compare_url ({before}, {after}), "" for GitHub's forms
    std::string default_branch;
    bool is_private = true;
    std::int64_t created_at = 0; ///< Unix seconds
};

/// Fills every field from `rules_policy` and `git_dir` (with trailing slash): given keys win;
/// the rest is derived from the host name and the repository's path.
repository_identity describe_repository(const policy& rules_policy, const std::string& git_dir);

/// A positive integer below 2^48 (exact in JavaScript) that is the same for the same `kind`
/// and `key` on every server and every run: the first six bytes of SHA-256(kind ":" key).
std::int64_t stable_id(std::string_view kind, std::string_view key);

/// GitHub's `repository` object of a push event; pushed_at and updated_at are `pushed_at`.
nlohmann::ordered_json repository_object(const repository_identity& repository,
                                         std::int64_t pushed_at);

/// GitHub's user object (`sender`, `repository.owner`) for `login` (type "User" or
/// "Organization"), its URLs under the repository's web and API roots.
nlohmann::ordered_json user_object(const repository_identity& repository, const std::string& login,
                                   const char* type = "User");

/// The login whose [identity.users] entry lists `email` (compared without case), "" when none.
class identity_directory {
  public:
    explicit identity_directory(const policy& rules_policy);
    std::string login_for_email(std::string_view email) const;
    /// The first email listed for `login`, "" when the login is not listed.
    std::string email_for_login(const std::string& login) const;

  private:
    std::map<std::string, std::string, std::less<>> login_by_email_;
    const policy& policy_;
};

/// `text` with every byte outside RFC 3986's unreserved set and '/' written as %XX.
std::string percent_encode_path(std::string_view text);

} // namespace trunkgate
