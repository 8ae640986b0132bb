#include "trunkgate/events/github_shape.hpp"

#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <ctime>

#include "trunkgate/events/events.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

using json = nlohmann::ordered_json;

namespace {

std::string host_name() {
    char name[HOST_NAME_MAX + 1] = {};
    if (gethostname(name, sizeof name - 1) != 0 || !*name)
        return "localhost";
    return name;
}

// "https://host:port" of an http(s) URL (policy validated it), without a trailing slash.
std::string origin_of(const std::string& url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos)
        return url;
    return url.substr(0, url.find_first_of("/?#", scheme_end + 3));
}

// The host of an origin, without a port.
std::string host_of(const std::string& origin) {
    const auto start = origin.find("://") + 3;
    auto host = origin.substr(start);
    if (!host.empty() && host.front() == '[') // an IPv6 literal keeps its brackets
        return host.substr(0, host.find(']') + 1);
    return host.substr(0, host.find(':'));
}

std::string without_trailing_slash(std::string url) {
    while (!url.empty() && url.back() == '/')
        url.pop_back();
    return url;
}

// When the repository came to be, as far as a bare directory tells: `description`, written by
// `git init` and rarely touched again, else the directory itself.
std::int64_t creation_time(const std::string& git_dir) {
    struct stat info {};
    if (::stat((git_dir + "description").c_str(), &info) == 0 ||
        ::stat(git_dir.c_str(), &info) == 0)
        return static_cast<std::int64_t>(info.st_mtime);
    return 0;
}

std::string utc_iso8601(std::int64_t time) {
    const auto local = static_cast<std::time_t>(time);
    std::tm parts{};
    gmtime_r(&local, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return text;
}

// GitHub's older node ids: base64 of "0<length of type>:<type><id>", e.g. "04:User1".
std::string node_id(const std::string& type, std::int64_t id) {
    const auto plain = "0" + std::to_string(type.size()) + ":" + type + std::to_string(id);
    std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');
    const int size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                     reinterpret_cast<const unsigned char*>(plain.data()),
                                     static_cast<int>(plain.size()));
    encoded.resize(static_cast<std::size_t>(size));
    return encoded;
}

} // namespace

std::string percent_encode_path(std::string_view text) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0x0F];
        }
    }
    return out;
}

std::int64_t stable_id(std::string_view kind, std::string_view key) {
    const std::string input = std::string(kind) + ":" + std::string(key);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha256(), nullptr) != 1)
        throw internal_error("SHA-256 failed");
    std::int64_t id = 0;
    for (int i = 0; i < 6; ++i)
        id = (id << 8) | digest[i];
    return id == 0 ? 1 : id;
}

repository_identity describe_repository(const policy& rules_policy, const std::string& git_dir) {
    const auto& given = rules_policy.repository;
    repository_identity repository;
    repository.full_name = repository_full_name(rules_policy, git_dir);
    const auto slash = repository.full_name.rfind('/');
    repository.owner = slash == std::string::npos ? "" : repository.full_name.substr(0, slash);
    repository.name = repository.full_name.substr(slash == std::string::npos ? 0 : slash + 1);
    char* resolved = ::realpath(git_dir.c_str(), nullptr);
    const std::string path = resolved ? resolved : git_dir;
    std::free(resolved);
    repository.id = given.id ? *given.id : stable_id("repository", path);
    const auto encoded_name = percent_encode_path(repository.full_name);
    repository.html_url = given.url.empty() ? "https://" + host_name() + "/" + encoded_name
                                            : without_trailing_slash(given.url);
    const auto origin = origin_of(repository.html_url);
    repository.api_url =
        given.api_url.empty() ? origin + "/api/v3" : without_trailing_slash(given.api_url);
    repository.clone_url = given.clone_url.empty() ? repository.html_url + ".git" : given.clone_url;
    const auto host = host_of(origin);
    repository.ssh_url =
        given.ssh_url.empty() ? "git@" + host + ":" + repository.full_name + ".git" : given.ssh_url;
    repository.git_url = "git://" + host + "/" + encoded_name + ".git";
    repository.commit_url =
        given.commit_url.empty() ? repository.html_url + "/commit/{sha}" : given.commit_url;
    repository.compare_url = given.compare_url;
    repository.default_branch = rules_policy.trunk_branch;
    repository.is_private = given.is_private;
    repository.created_at = creation_time(git_dir);
    return repository;
}

json user_object(const repository_identity& repository, const std::string& login,
                 const char* type) {
    const auto id = stable_id("user", login);
    const auto encoded = percent_encode_path(login);
    const auto api = repository.api_url + "/users/" + encoded;
    const auto web = origin_of(repository.html_url);
    return {{"login", login},
            {"id", id},
            {"node_id", node_id("User", id)},
            {"avatar_url", web + "/avatars/u/" + std::to_string(id)},
            {"gravatar_id", ""},
            {"url", api},
            {"html_url", web + "/" + encoded},
            {"followers_url", api + "/followers"},
            {"following_url", api + "/following{/other_user}"},
            {"gists_url", api + "/gists{/gist_id}"},
            {"starred_url", api + "/starred{/owner}{/repo}"},
            {"subscriptions_url", api + "/subscriptions"},
            {"organizations_url", api + "/orgs"},
            {"repos_url", api + "/repos"},
            {"events_url", api + "/events{/privacy}"},
            {"received_events_url", api + "/received_events"},
            {"type", type},
            {"site_admin", false}};
}

json repository_object(const repository_identity& repository, std::int64_t pushed_at) {
    const auto& html = repository.html_url;
    const auto api = repository.api_url + "/repos/" + percent_encode_path(repository.full_name);
    const auto owner_login = repository.owner.empty() ? repository.name : repository.owner;
    json object = {{"id", repository.id},
                   {"node_id", node_id("Repository", repository.id)},
                   {"name", repository.name},
                   {"full_name", repository.full_name},
                   {"private", repository.is_private},
                   {"owner", user_object(repository, owner_login, "Organization")},
                   {"html_url", html},
                   {"description", nullptr},
                   {"fork", false},
                   {"url", html}, // a push event's repository.url is the web page, unlike the API's
                   {"forks_url", api + "/forks"},
                   {"keys_url", api + "/keys{/key_id}"},
                   {"collaborators_url", api + "/collaborators{/collaborator}"},
                   {"teams_url", api + "/teams"},
                   {"hooks_url", api + "/hooks"},
                   {"issue_events_url", api + "/issues/events{/number}"},
                   {"events_url", api + "/events"},
                   {"assignees_url", api + "/assignees{/user}"},
                   {"branches_url", api + "/branches{/branch}"},
                   {"tags_url", api + "/tags"},
                   {"blobs_url", api + "/git/blobs{/sha}"},
                   {"git_tags_url", api + "/git/tags{/sha}"},
                   {"git_refs_url", api + "/git/refs{/sha}"},
                   {"trees_url", api + "/git/trees{/sha}"},
                   {"statuses_url", api + "/statuses/{sha}"},
                   {"languages_url", api + "/languages"},
                   {"stargazers_url", api + "/stargazers"},
                   {"contributors_url", api + "/contributors"},
                   {"subscribers_url", api + "/subscribers"},
                   {"subscription_url", api + "/subscription"},
                   {"commits_url", api + "/commits{/sha}"},
                   {"git_commits_url", api + "/git/commits{/sha}"},
                   {"comments_url", api + "/comments{/number}"},
                   {"issue_comment_url", api + "/issues/comments{/number}"},
                   {"contents_url", api + "/contents/{+path}"},
                   {"compare_url", api + "/compare/{base}...{head}"},
                   {"merges_url", api + "/merges"},
                   {"archive_url", api + "/{archive_format}{/ref}"},
                   {"downloads_url", api + "/downloads"},
                   {"issues_url", api + "/issues{/number}"},
                   {"pulls_url", api + "/pulls{/number}"},
                   {"milestones_url", api + "/milestones{/number}"},
                   {"notifications_url", api + "/notifications{?since,all,participating}"},
                   {"labels_url", api + "/labels{/name}"},
                   {"releases_url", api + "/releases{/id}"},
                   {"deployments_url", api + "/deployments"},
                   {"created_at", repository.created_at},
                   {"updated_at", utc_iso8601(pushed_at)},
                   {"pushed_at", pushed_at},
                   {"git_url", repository.git_url},
                   {"ssh_url", repository.ssh_url},
                   {"clone_url", repository.clone_url},
                   {"svn_url", html},
                   {"homepage", nullptr},
                   {"size", 0},
                   {"stargazers_count", 0},
                   {"watchers_count", 0},
                   {"language", nullptr},
                   {"has_issues", false},
                   {"has_projects", false},
                   {"has_downloads", false},
                   {"has_wiki", false},
                   {"has_pages", false},
                   {"forks_count", 0},
                   {"mirror_url", nullptr},
                   {"archived", false},
                   {"disabled", false},
                   {"open_issues_count", 0},
                   {"license", nullptr},
                   {"forks", 0},
                   {"open_issues", 0},
                   {"watchers", 0},
                   {"default_branch", repository.default_branch},
                   {"stargazers", 0},
                   {"master_branch", repository.default_branch},
                   {"is_template", false},
                   {"web_commit_signoff_required", false},
                   {"topics", json::array()},
                   {"visibility", repository.is_private ? "private" : "public"},
                   {"custom_properties", json::object()}};
    return object;
}

identity_directory::identity_directory(const policy& rules_policy) : policy_(rules_policy) {
    for (const auto& [login, emails] : rules_policy.identity_users)
        for (const auto& email : emails)
            login_by_email_.emplace(ascii_lower(email), login); // the first login listed wins
}

std::string identity_directory::login_for_email(std::string_view email) const {
    const auto found = login_by_email_.find(ascii_lower(email));
    return found == login_by_email_.end() ? "" : found->second;
}

std::string identity_directory::email_for_login(const std::string& login) const {
    const auto found = policy_.identity_users.find(login);
    return found == policy_.identity_users.end() || found->second.empty() ? ""
                                                                          : found->second.front();
}

} // namespace trunkgate
