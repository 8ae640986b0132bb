#include "trunkgate/approvals.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "trunkgate/error.hpp"
#include "trunkgate/glob.hpp"
#include "trunkgate/notes.hpp"
#include "trunkgate/text.hpp"

namespace trunkgate {

std::vector<approval> parse_approvals(std::string_view text) {
    try {
        const auto document = nlohmann::json::parse(text);
        std::vector<approval> decisions;
        for (const auto& item : document.at("approvals")) {
            approval decision;
            decision.by = item.at("by").get<std::string>();
            const auto state = item.at("state").get<std::string>();
            if (state != "approved" && state != "rejected")
                throw input_error("unknown approval state '" + state + "'");
            decision.approved = state == "approved";
            decision.at = item.at("at").get<std::int64_t>();
            decision.comment = item.value("comment", "");
            decisions.push_back(std::move(decision));
        }
        return decisions;
    } catch (const nlohmann::json::exception& e) {
        throw input_error(std::string("malformed approvals note: ") + e.what());
    }
}

std::string approvals_json(const std::vector<approval>& decisions) {
    auto list = nlohmann::ordered_json::array();
    for (const auto& decision : decisions)
        list.push_back({{"by", decision.by},
                        {"state", decision.approved ? "approved" : "rejected"},
                        {"at", decision.at},
                        {"comment", decision.comment}});
    return nlohmann::ordered_json{{"approvals", list}}.dump(
               2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
           "\n";
}

std::vector<approval> read_approvals(git_repository* repo, const git_oid& commit) {
    const auto note = read_note(repo, std::string(approvals_ref), commit);
    return note ? parse_approvals(*note) : std::vector<approval>{};
}

void record_approval(git_repository* repo, const git_oid& commit, const approval& decision) {
    update_note(repo, std::string(approvals_ref), commit, decision.by,
                [&](const std::optional<std::string>& current) {
                    std::vector<approval> decisions;
                    if (current) {
                        try {
                            decisions = parse_approvals(*current);
                        } catch (const input_error&) {
                        }
                    }
                    decisions.erase(
                        std::remove_if(decisions.begin(), decisions.end(),
                                       [&](const approval& old) { return old.by == decision.by; }),
                        decisions.end());
                    decisions.push_back(decision);
                    return approvals_json(decisions);
                });
}

namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

bool is_author(const std::string& identity, const std::vector<std::string>& author_names) {
    const auto wanted = lower(identity);
    return std::any_of(author_names.begin(), author_names.end(), [&](const std::string& name) {
        return !name.empty() && lower(name) == wanted;
    });
}

} // namespace

approval_verdict judge_approvals(const std::vector<approval>& decisions, const approval_rule& rule,
                                 const std::vector<std::string>& author_names, std::int64_t now) {
    approval_verdict verdict;
    for (const auto& decision : decisions)
        if (!decision.approved) {
            verdict.problem = "rejected by " + decision.by +
                              (decision.comment.empty() ? "" : " (\"" + decision.comment + "\")");
            return verdict;
        }
    std::vector<std::string> reasons;
    for (const auto& decision : decisions) {
        if (!glob_match_any(rule.approvers, decision.by)) {
            reasons.push_back(decision.by + " is not an approver");
        } else if (now - decision.at > rule.max_age_days * 86400) {
            reasons.push_back("the approval by " + decision.by + " expired (older than " +
                              count_noun(rule.max_age_days, "day", "days") + ")");
        } else if (!rule.allow_self && is_author(decision.by, author_names)) {
            reasons.push_back(decision.by + " wrote the commit and may not approve it");
        } else {
            verdict.approved = true;
            return verdict;
        }
    }
    verdict.problem = decisions.empty() ? "no approval yet" : join(reasons, "; ");
    return verdict;
}

} // namespace trunkgate
