// What a push event says of the repository and the people when the server has no GitHub to ask:
// derived the documented way (docs/events.md), stable across runs, valid URLs for any name.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <filesystem>
#include <regex>

#include "support/sandbox.hpp"
#include "trunkgate/events/events.hpp"
#include "trunkgate/events/github_shape.hpp"
#include "trunkgate/events/spool.hpp"
#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/text.hpp"

using namespace trunkgate;
using namespace trunkgate::testing;
using Catch::Contains;

namespace {

std::string base64_decoded(const std::string& text) {
    std::string plain(text.size(), '\0');
    const int size = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(plain.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()),
                                     static_cast<int>(text.size()));
    REQUIRE(size >= 0);
    plain.resize(static_cast<std::size_t>(size));
    while (!plain.empty() && plain.back() == '\0') // EVP_DecodeBlock counts the padding
        plain.pop_back();
    return plain;
}

// An absolute URI as RFC 3986 allows it: a scheme, then only characters a URI may hold.
bool is_uri(const std::string& text) {
    static const std::regex uri(
        R"(^[a-z][a-z0-9+.-]*://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%{}]*$)");
    return std::regex_match(text, uri);
}

} // namespace

TEST_CASE("github shape: a repository with no [repository] section is named and placed",
          "[events]") {
    temp_dir root;
    const auto git_dir = root.path() + "/team/app.git/";
    std::filesystem::create_directories(git_dir);
    const auto plain = parse_policy("", "p.toml");
    const auto repository = describe_repository(plain, git_dir);
    CHECK(repository.full_name == "team/app");
    CHECK(repository.owner == "team");
    CHECK(repository.name == "app");
    CHECK_THAT(repository.html_url, Catch::StartsWith("https://"));
    CHECK_THAT(repository.html_url, Catch::EndsWith("/team/app"));
    CHECK(repository.clone_url == repository.html_url + ".git");
    CHECK(repository.commit_url == repository.html_url + "/commit/{sha}");
    CHECK(repository.default_branch == "main");
    CHECK(repository.is_private);
    // The same path gives the same id on every run; another path another id.
    CHECK(describe_repository(plain, git_dir).id == repository.id);
    std::filesystem::create_directories(root.path() + "/team/lib.git");
    CHECK(describe_repository(plain, root.path() + "/team/lib.git/").id != repository.id);
    CHECK(repository.id > 0);
    CHECK(repository.id < (std::int64_t{1} << 53));
}

TEST_CASE("github shape: given [repository] keys win over what is derived", "[events]") {
    const auto given = parse_policy(R"([repository]
full_name = "acme/widgets"
url = "https://git.example.com/acme/widgets"
ssh_url = "ssh://git@git.example.com:2222/srv/git/widgets.git"
id = 4242
private = false
)",
                                    "p.toml");
    const auto repository = describe_repository(given, "/srv/git/widgets.git/");
    CHECK(repository.id == 4242);
    CHECK(repository.api_url == "https://git.example.com/api/v3");
    CHECK(repository.ssh_url == "ssh://git@git.example.com:2222/srv/git/widgets.git");
    CHECK(repository.git_url == "git://git.example.com/acme/widgets.git");
    const auto object = repository_object(repository, 1700000000);
    CHECK(object["private"] == false);
    CHECK(object["visibility"] == "public");
    CHECK(object["url"] == "https://git.example.com/acme/widgets"); // the web page, as GitHub
    CHECK(object["hooks_url"] == "https://git.example.com/api/v3/repos/acme/widgets/hooks");
    CHECK(object["pushed_at"] == 1700000000);
    CHECK(object["updated_at"] == "2023-11-14T22:13:20Z");
    CHECK(object["owner"]["login"] == "acme");
    CHECK(object["owner"]["type"] == "Organization");
    CHECK(base64_decoded(object["node_id"]) == "010:Repository4242");
}

TEST_CASE("github shape: users have stable ids and URLs that are URIs for any login", "[events]") {
    const auto given = parse_policy("[repository]\nfull_name = \"acme/widgets\"\n", "p.toml");
    const auto repository = describe_repository(given, "/srv/git/widgets.git/");
    const auto user = user_object(repository, "Zoë Ann <zoe@example.com>");
    CHECK(user["login"] == "Zoë Ann <zoe@example.com>");
    CHECK(user["id"] == stable_id("user", "Zoë Ann <zoe@example.com>"));
    CHECK(base64_decoded(user["node_id"]) ==
          "04:User" + std::to_string(user["id"].get<std::int64_t>()));
    for (const auto& [key, value] : user.items())
        if (key.size() > 4 && key.compare(key.size() - 4, 4, "_url") == 0) {
            INFO(key << " = " << value);
            CHECK(is_uri(value.get<std::string>()));
        }
    CHECK(percent_encode_path("feature/ä b#1") == "feature/%C3%A4%20b%231");
}

TEST_CASE("github shape: [identity.users] gives usernames and the pusher's email", "[events]") {
    const auto given = parse_policy(R"([identity.users]
alice = ["Alice@Example.com", "alice@old.example.org"]
bob = ["bob@example.com"]
)",
                                    "p.toml");
    const identity_directory identities(given);
    CHECK(identities.login_for_email("alice@example.com") == "alice"); // without case
    CHECK(identities.login_for_email("alice@old.example.org") == "alice");
    CHECK(identities.login_for_email("carol@example.com") == "");
    CHECK(identities.email_for_login("alice") == "Alice@Example.com");
    CHECK(identities.email_for_login("carol") == "");
}

TEST_CASE("github shape: policy keys of [repository], endpoints and identities are checked",
          "[events][policy]") {
    const auto fails = [](const std::string& text, const std::string& problem) {
        INFO(text);
        CHECK_THROWS_WITH(parse_policy(text, "p.toml"), Contains(problem));
    };
    fails("[repository]\nfull_name = \"widgets\"\n", "must be \"owner/name\"");
    fails("[repository]\nfull_name = \"acme//widgets\"\n", "must be \"owner/name\"");
    fails("[repository]\nurl = \"https://u:pw@git.example.com/a/b\"\n", "credentials");
    fails("[repository]\nid = 0\n", "between 1 and 2^53 - 1");
    fails("[repository]\nid = 9007199254740992\n", "between 1 and 2^53 - 1");
    fails("[[events.endpoint]]\nurl = \"http://127.0.0.1/x\"\npayload = \"gitlab\"\n",
          "must be \"github\" or \"github+trunkgate\"");
    fails("[[events.endpoint]]\nurl = \"http://127.0.0.1/x\"\nuser_agent = \"a\\r\\nX-Evil: 1\"\n",
          "must be one line");
    fails("[identity.users]\nalice = []\n", "must not be empty");
    fails("[identity.users]\n\"a b\" = [\"a@b\"]\n", "logins must be");
    const auto fine = parse_policy(R"([[events.endpoint]]
url = "http://127.0.0.1/x"
payload = "github+trunkgate"
user_agent = "GitHub-Hookshot/fourkeys"
)",
                                   "p.toml");
    CHECK(fine.events.endpoints[0].payload == payload_format::github_trunkgate);
    CHECK(fine.events.endpoints[0].user_agent == "GitHub-Hookshot/fourkeys");
}

TEST_CASE("github shape: trunkgate's own fields are added only on request", "[events]") {
    const auto body =
        with_trunkgate_fields(R"({"ref":"refs/heads/main"})", 7, {"ci.skip", "deploy=\"x\""});
    const auto parsed = nlohmann::json::parse(body);
    CHECK(parsed["ref"] == "refs/heads/main");
    CHECK(parsed["total_commits"] == 7);
    CHECK(parsed["push_options"] == nlohmann::json::array({"ci.skip", "deploy=\"x\""}));
    CHECK(parsed["ci_skip"] == true);
    CHECK(asks_ci_skip({"ci.skip=1"}));
    CHECK_FALSE(asks_ci_skip({"ci.skip=false", "skip"}));
    CHECK_THROWS_AS(with_trunkgate_fields("[]", 0, {}), internal_error);
}

TEST_CASE("github shape: commit text is re-encoded as git log does", "[events][text]") {
    CHECK(to_utf8("Caf\xe9 cr\xe8me", "ISO-8859-1") == "Café crème");
    CHECK(to_utf8("Caf\xe9", "latin1") == "Café");
    CHECK(to_utf8("\x8e\xa4", "EUC-JP") == "\xef\xbd\xa4"); // halfwidth katakana comma
    CHECK(to_utf8("Café", nullptr) == "Café");
    CHECK(to_utf8("Café", "UTF-8") == "Café");
    // An encoding iconv does not know, or bytes not valid in it: kept as they are.
    CHECK(to_utf8("Caf\xe9", "no-such-encoding") == "Caf\xe9");
    CHECK(to_utf8("\x8e", "EUC-JP") == "\x8e");
}

TEST_CASE("github shape: a spool entry's fixed headers cannot carry another header",
          "[events][spool]") {
    spool_entry entry;
    entry.id = new_uuid();
    entry.ref = "refs/heads/main";
    entry.url = "http://127.0.0.1:9/hooks";
    entry.body = "{}";
    entry.created_at = 1;
    entry.headers = {"User-Agent: GitHub-Hookshot/x", "X-GitHub-Hook-ID: 12"};
    CHECK(parse_entry(entry_json(entry), 2).headers == entry.headers);
    for (const std::string bad : {"X-A: 1\r\nX-Evil: 2", "Bad Name: 1", "NoColon", ": empty"}) {
        INFO(bad);
        entry.headers = {bad};
        CHECK_THROWS_AS(parse_entry(entry_json(entry), 2), input_error);
    }
}
