#include <cctype>
#include <stdexcept>

#include "trunkgate/policy/policy.hpp"

namespace trunkgate {

namespace {

// Paths are bytes, not always UTF-8: patterns run in Latin-1 mode so `*` and `?` match any byte.
RE2::Options path_options() {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_encoding(RE2::Options::EncodingLatin1);
    options.set_dot_nl(true);
    return options;
}

void append_literal(std::string& regex, char c) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '-')
        regex += '\\';
    regex += c;
}

// Translates one glob body (no leading or trailing slash handling) into RE2 syntax.
std::string translate(std::string_view glob) {
    std::string regex;
    for (std::size_t i = 0; i < glob.size(); ++i) {
        const char c = glob[i];
        if (c == '*' && i + 1 < glob.size() && glob[i + 1] == '*') {
            const bool slash_after = i + 2 < glob.size() && glob[i + 2] == '/';
            regex += slash_after ? "(?:.*/)?" : ".*";
            i += slash_after ? 2 : 1;
        } else if (c == '*') {
            regex += "[^/]*";
        } else if (c == '?') {
            regex += "[^/]";
        } else if (c == '[') {
            const auto close = glob.find(']', i + 2);
            if (close == std::string_view::npos) {
                append_literal(regex, c);
                continue;
            }
            std::string set(glob.substr(i + 1, close - i - 1));
            if (!set.empty() && set[0] == '!')
                set.replace(0, 1, "^/"); // a negated class never matches the separator
            regex += "[" + set + "]";
            i = close;
        } else if (c == '\\' && i + 1 < glob.size()) {
            append_literal(regex, glob[++i]);
        } else {
            append_literal(regex, c);
        }
    }
    return regex;
}

// One glob as an anchored RE2 alternative.
std::string glob_to_regex(std::string glob) {
    const bool directory = !glob.empty() && glob.back() == '/';
    if (directory)
        glob.pop_back();
    const bool rooted = glob.find('/') != std::string::npos;
    if (!glob.empty() && glob.front() == '/')
        glob.erase(0, 1);
    std::string regex = rooted ? "^" : "(?:^|/)";
    regex += translate(glob);
    regex += directory ? "/" : "(?:/|$)";
    return regex;
}

} // namespace

path_patterns compile_path_patterns(const std::vector<std::string>& globs) {
    path_patterns compiled;
    compiled.sources = globs;
    if (globs.empty())
        return compiled;
    std::string alternation;
    for (std::size_t i = 0; i < globs.size(); ++i) {
        const auto one = glob_to_regex(globs[i]);
        if (!RE2(one, path_options()).ok())
            throw std::invalid_argument("'" + globs[i] + "' is not a valid path glob");
        alternation += (i ? "|(" : "(") + one + ")";
    }
    auto options = path_options();
    options.set_max_mem(64 << 20);
    compiled.regex = std::make_shared<const RE2>(alternation, options);
    if (!compiled.regex->ok())
        throw std::invalid_argument("the path globs are too many or too complex to compile");
    return compiled;
}

std::optional<std::string> path_patterns::match(std::string_view path) const {
    if (!regex)
        return std::nullopt;
    const re2::StringPiece text(path.data(), path.size());
    if (!RE2::PartialMatch(text, *regex))
        return std::nullopt;
    // Rare path: name the glob that matched, for the message.
    for (const auto& source : sources)
        if (RE2::PartialMatch(text, RE2(glob_to_regex(source), path_options())))
            return source;
    return sources.front();
}

const std::vector<std::string>& secret_file_globs() {
    static const std::vector<std::string> globs{
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519", // SSH private keys
        "*.key",
        "*.p12",
        "*.pfx",
        "*.jks",
        "*.keystore", // private keys and key stores
        ".netrc",
        "_netrc",
        ".pgpass",
        ".git-credentials", // saved passwords
        ".htpasswd",
        ".s3cfg",
        ".dockercfg",
        "**/.docker/config.json",
        "**/.aws/credentials",
        ".env",
        "*.tfstate",
        "*.tfstate.backup",
        ".bash_history",
        ".zsh_history",
        ".psql_history",
        ".mysql_history",
        "credentials.xml",
        "secret_token.rb",
    };
    return globs;
}

bool commit_policy::any() const {
    return message_pattern || message_forbidden_pattern || max_subject_length ||
           author_email_pattern || committer_email_pattern || max_file_size ||
           forbidden_paths.regex || secret_files || max_changed_files;
}

std::optional<std::int64_t> parse_size(std::string_view text) {
    std::size_t i = 0;
    std::int64_t number = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        if (number > (INT64_MAX - 9) / 10)
            return std::nullopt;
        number = number * 10 + (text[i++] - '0');
    }
    if (i == 0)
        return std::nullopt;
    while (i < text.size() && text[i] == ' ')
        ++i;
    const auto unit = text.substr(i);
    static const std::pair<std::string_view, std::int64_t> units[] = {{"", 1},
                                                                      {"B", 1},
                                                                      {"KB", 1000},
                                                                      {"MB", 1000000},
                                                                      {"GB", 1000000000},
                                                                      {"KiB", 1LL << 10},
                                                                      {"MiB", 1LL << 20},
                                                                      {"GiB", 1LL << 30}};
    for (const auto& [name, factor] : units)
        if (unit == name) {
            if (number > INT64_MAX / factor)
                return std::nullopt;
            return number * factor;
        }
    return std::nullopt;
}

} // namespace trunkgate
