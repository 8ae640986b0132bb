#include "trunkgate/checks/approvals.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "trunkgate/checks/notes.hpp"
#include "trunkgate/policy/glob.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/json_input.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

std::vector<approval> decisions_of(std::string_view text) {
    const auto document = parse_json_input(text);
    if (!document.is_object())
        throw input_error("expected {\"approvals\": [...]}, not " + json_kind(document));
    const auto list = document.find("approvals");
    if (list == document.end())
        throw input_error("'approvals' is missing");
    if (!list->is_array())
        throw input_error("'approvals' must be an array, not " + json_kind(*list));
    std::vector<approval> decisions;
    std::size_t index = 0;
    for (const auto& item : *list) {
        const auto where = "approvals[" + std::to_string(index++) + "]: ";
        if (!item.is_object())
            throw input_error(where + "must be an object, not " + json_kind(item));
        approval decision;
        decision.by = required_string(item, "by", where);
        if (decision.by.empty())
            throw input_error(where + "'by' is empty");
        const auto state = required_string(item, "state", where);
        if (state != "approved" && state != "rejected")
            throw input_error(where + "unknown approval state '" + state + "'");
        decision.approved = state == "approved";
        // Structural only (no clock here): whether it lies in the future is judged with the
        // push's time in judge_approvals.
        const auto at = optional_unix_seconds(item, "at", where);
        if (!at)
            throw input_error(where + "'at' is missing");
        decision.at = *at;
        decision.comment = optional_string(item, "comment", where);
        decisions.push_back(std::move(decision));
    }
    return decisions;
}

} // namespace

std::vector<approval> parse_approvals(std::string_view text) {
    try {
        return decisions_of(text);
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

std::optional<std::string> record_approval(git_repository* repo, const git_oid& commit,
                                           const approval& decision) {
    std::optional<std::string> replaced_damage;
    update_note(repo, std::string(approvals_ref), commit, decision.by,
                [&](const std::optional<std::string>& current) {
                    std::vector<approval> decisions;
                    replaced_damage.reset(); // run again after a race: the last read counts
                    if (current) {
                        try {
                            decisions = parse_approvals(*current);
                        } catch (const input_error& e) {
                            // A damaged note approves nothing; replacing it loses nothing.
                            replaced_damage = e.what();
                        }
                    }
                    decisions.erase(
                        std::remove_if(decisions.begin(), decisions.end(),
                                       [&](const approval& old) { return old.by == decision.by; }),
                        decisions.end());
                    decisions.push_back(decision);
                    return approvals_json(decisions);
                });
    return replaced_damage;
}

namespace {

bool is_author(const std::string& identity, const std::vector<std::string>& author_names) {
    const auto wanted = ascii_lower(identity);
    return std::any_of(author_names.begin(), author_names.end(), [&](const std::string& name) {
        return !name.empty() && ascii_lower(name) == wanted;
    });
}

// Older than max_age_days at `now`, without overflow for any max_age_days the policy allows
// (times are in [0, max_unix_seconds]).
bool is_expired(std::int64_t at, std::int64_t max_age_days, std::int64_t now) {
    if (at >= now)
        return false;
    return (now - at) / 86400 >= max_age_days && now - at > max_age_days * 86400;
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
        } else if (const auto future = future_time_problem(decision.at, now)) {
            // Taken as fresh, it would stay fresh for max_age_days past a date to come.
            reasons.push_back("the approval by " + decision.by + " is " + *future);
        } else if (is_expired(decision.at, rule.max_age_days, now)) {
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
