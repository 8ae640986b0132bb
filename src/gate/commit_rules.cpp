// The commit rules ([commits]): each reads one commit the push adds and reports findings; the
// ref rules are in rules.cpp.
#include "trunkgate/gate/rules.hpp"

#include <algorithm>
#include <cstdio>

#include "trunkgate/gate/rule_hints.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

namespace {

finding make_commit_finding(std::string_view id, const commit_facts& commit) {
    finding found;
    found.rule = std::string(id);
    found.ref = commit.ref;
    found.commit = to_hex(commit.id);
    return found;
}

// `1a2b3c4 "subject"`, how every commit rule names its commit.
std::string commit_label(const commit_facts& commit) {
    return short_id(commit.id) + " \"" + std::string(commit.subject.substr(0, 80)) +
           (commit.subject.size() > 80 ? "..." : "") + "\"";
}

// origin/main: where the developer's commits are replayed onto.
std::string upstream(const push_view& push) {
    return std::string(remote) + "/" + shell_quote(push.rules_policy.trunk_branch);
}

std::string reword_hint(const push_view& push) {
    return "reword it: git commit --amend (last commit) or git rebase -i " + upstream(push) +
           " and mark the commit 'reword', then push again";
}

// Code points, so a subject in any script is measured the way a person counts it.
std::int64_t utf8_length(std::string_view text) {
    std::int64_t count = 0;
    for (unsigned char c : text)
        count += (c & 0xC0) != 0x80;
    return count;
}

// The message without the newlines git ends it with, so `$` in a pattern means the end of the
// text a person wrote.
std::string_view trimmed_message(std::string_view message) {
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r'))
        message.remove_suffix(1);
    return message;
}

void check_commit_message(const push_view& push, const commit_facts& commit, finding_sink& out) {
    const auto& rules_policy = *push.rules_policy.commits;
    const auto message = trimmed_message(commit.message);
    if (rules_policy.message_pattern && !rules_policy.message_pattern->search(message)) {
        auto found = make_commit_finding("commit-message", commit);
        found.message = "commit " + commit_label(commit) + ": message does not match " +
                        rules_policy.message_pattern->source;
        found.hint = reword_hint(push);
        out.add(std::move(found));
    }
    if (rules_policy.message_forbidden_pattern) {
        re2::StringPiece matched;
        const re2::StringPiece text(message.data(), message.size());
        if (rules_policy.message_forbidden_pattern->regex->Match(text, 0, text.size(),
                                                                 RE2::UNANCHORED, &matched, 1)) {
            auto found = make_commit_finding("commit-message", commit);
            found.message = "commit " + commit_label(commit) + ": message contains \"" +
                            std::string(matched.data(), std::min<std::size_t>(matched.size(), 40)) +
                            "\", which matches the forbidden pattern " +
                            rules_policy.message_forbidden_pattern->source;
            found.hint =
                "squash or reword it before it reaches the server: git rebase -i " + upstream(push);
            out.add(std::move(found));
        }
    }
    const auto length = utf8_length(commit.subject);
    if (rules_policy.max_subject_length && length > *rules_policy.max_subject_length) {
        auto found = make_commit_finding("commit-message", commit);
        found.value = length;
        found.limit = *rules_policy.max_subject_length;
        found.message = "commit " + commit_label(commit) + ": subject line is " +
                        std::to_string(length) + " characters (limit " +
                        std::to_string(*rules_policy.max_subject_length) + ")";
        found.hint = "shorten the first line and move details to the body; " + reword_hint(push);
        out.add(std::move(found));
    }
}

void check_email(std::string_view id, std::string_view role, std::string_view email,
                 const std::optional<pattern>& wanted, const commit_facts& commit, std::string hint,
                 finding_sink& out) {
    if (!wanted || wanted->search(email))
        return;
    auto found = make_commit_finding(id, commit);
    found.message = "commit " + commit_label(commit) + ": " + std::string(role) + " email <" +
                    std::string(email) + "> does not match " + wanted->source;
    found.hint = std::move(hint);
    out.add(std::move(found));
}

void check_author_email(const push_view& push, const commit_facts& commit, finding_sink& out) {
    check_email("author-email", "author", commit.author_email,
                push.rules_policy.commits->author_email_pattern, commit,
                "set your address and rewrite the authors: git config user.email <you@your.domain> "
                "&& git rebase " +
                    upstream(push) + " --exec 'git commit --amend --no-edit --reset-author'",
                out);
}

void check_committer_email(const push_view& push, const commit_facts& commit, finding_sink& out) {
    check_email("committer-email", "committer", commit.committer_email,
                push.rules_policy.commits->committer_email_pattern, commit,
                "set your address and re-commit: git config user.email <you@your.domain> && "
                "git rebase --force-rebase " +
                    upstream(push),
                out);
}

// "5.0 MiB", "812 KiB", "96 B": sizes as people read them.
std::string size_text(std::int64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024 && unit < 4) {
        value /= 1024;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
    return text;
}

std::string remove_path_hint(const push_view& push, const std::string& path) {
    return "remove it from the commit that adds it: git rm --cached -- " + shell_quote(path) +
           " and git commit --amend (or git rebase -i " + upstream(push) +
           " to edit an older commit), then push again";
}

void check_file_size(const push_view& push, const commit_facts& commit, finding_sink& out) {
    const auto& limit = push.rules_policy.commits->max_file_size;
    if (!limit)
        return;
    for (const auto& entry : commit.entries) {
        if (!entry.size || *entry.size <= *limit)
            continue;
        auto found = make_commit_finding("file-size", commit);
        found.value = *entry.size;
        found.limit = *limit;
        found.message = "commit " + commit_label(commit) + " adds " + entry.path + " (" +
                        size_text(*entry.size) + ", limit " + size_text(*limit) + ")";
        found.hint = remove_path_hint(push, entry.path) + "; keep large files out of git";
        out.add(std::move(found));
    }
}

void check_forbidden_path(const push_view& push, const commit_facts& commit, finding_sink& out) {
    const auto& rules_policy = *push.rules_policy.commits;
    for (const auto& entry : commit.entries) {
        auto matched = rules_policy.forbidden_paths.match(entry.path);
        std::string reason = matched ? "forbidden path '" + *matched + "'" : "";
        if (!matched && rules_policy.secret_files) {
            matched = rules_policy.secret_paths.match(entry.path);
            if (matched)
                reason = "well-known secret file '" + *matched + "'";
        }
        if (!matched)
            continue;
        auto found = make_commit_finding("forbidden-path", commit);
        found.message =
            "commit " + commit_label(commit) + " adds " + entry.path + ", which matches " + reason;
        found.hint = remove_path_hint(push, entry.path) +
                     "; if it holds a secret, rotate it: it has left your machine";
        out.add(std::move(found));
    }
}

void check_changed_files(const push_view& push, const commit_facts& commit, finding_sink& out) {
    const auto& limit = push.rules_policy.commits->max_changed_files;
    if (!limit || commit.changed_paths <= *limit)
        return;
    auto found = make_commit_finding("changed-files", commit);
    found.value = commit.changed_paths;
    found.limit = *limit;
    found.message = "commit " + commit_label(commit) + " changes " +
                    std::to_string(commit.changed_paths) + " paths (limit " +
                    std::to_string(*limit) + ")";
    found.hint = "split it into smaller commits (git reset HEAD~1, then commit in parts), or ask "
                 "an admin to raise [commits] max_changed_files for a one-off import";
    out.add(std::move(found));
}

} // namespace

const std::vector<commit_rule>& commit_rule_table() {
    static const std::vector<commit_rule> table{
        {"commit-message",
         "a message outside message_pattern, matching message_forbidden_pattern, "
         "or a subject longer than max_subject_length",
         check_commit_message},
        {"author-email", "an author email not matching author_email_pattern", check_author_email},
        {"committer-email", "a committer email not matching committer_email_pattern",
         check_committer_email},
        {"file-size", "a blob added or changed that is larger than max_file_size", check_file_size},
        {"forbidden-path", "a path added or changed that matches forbidden_paths or a secret file",
         check_forbidden_path},
        {"changed-files", "a commit that changes more than max_changed_files paths",
         check_changed_files},
    };
    return table;
}

} // namespace trunkgate
