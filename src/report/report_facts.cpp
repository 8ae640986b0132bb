#include "trunkgate/report/report_facts.hpp"

#include <nlohmann/json.hpp>

#include <set>

#include "trunkgate/gate/audit.hpp"
#include "trunkgate/history/ref_update.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

// Damaged lines named one by one in the notes; the rest are counted.
constexpr std::size_t named_damaged_lines = 10;

// An accepted decision: the report reads none (what landed of it is in its landed record), and
// they are half the log. Inside a JSON string every quote is escaped, so `"decision":"accept"`
// can only be that key with that value.
bool is_accepted_decision(std::string_view line) {
    return line.find("\"decision\":\"accept\"") != std::string_view::npos;
}

std::int64_t record_time(const nlohmann::json& record) {
    return parse_time(record["time"].get<std::string>()).value_or(0);
}

// A landed record's moves of the refs `follow` accepts. False when an id is not hex.
bool add_moves(const nlohmann::json& record, std::int64_t time,
               const std::function<bool(std::string_view)>& follow, std::deque<ref_move>& moves) {
    for (const auto& ref : record["refs"]) {
        const auto& name = ref["ref"].get_ref<const std::string&>();
        if (!follow(name))
            continue;
        ref_move move;
        move.time = time;
        move.identity = record["identity"].get<std::string>();
        move.ref = name;
        const auto& old_hex = ref["old"].get_ref<const std::string&>();
        const auto& new_hex = ref["new"].get_ref<const std::string&>();
        if (git_oid_fromstrn(&move.old_id, old_hex.data(), old_hex.size()) != 0 ||
            git_oid_fromstrn(&move.new_id, new_hex.data(), new_hex.size()) != 0 ||
            old_hex.size() != GIT_OID_HEXSZ || new_hex.size() != GIT_OID_HEXSZ)
            return false;
        move.created = is_zero_id(old_hex);
        move.deleted = is_zero_id(new_hex);
        if (record.contains("queue") && record["queue"].is_array())
            for (const auto& id : record["queue"])
                if (id.is_string())
                    move.queue.push_back(id.get<std::string>());
        moves.push_back(std::move(move));
    }
    return true;
}

void add_bypass(const nlohmann::json& record, std::int64_t time, audit_facts& facts) {
    bypass_record bypass{time, record["identity"].get<std::string>(), {}, {}};
    for (const auto& ref : record["refs"])
        bypass.refs.push_back(ref["ref"].get<std::string>());
    if (record.contains("bypass_reason") && record["bypass_reason"].is_string())
        bypass.reason = record["bypass_reason"].get<std::string>();
    facts.bypasses.push_back(std::move(bypass));
}

void add_rejection(const nlohmann::json& record, audit_facts& facts) {
    ++facts.rejected_pushes;
    std::set<std::string> rules;
    for (const auto& finding : record["findings"])
        if (finding.is_object() && finding.contains("level") && finding["level"] == "block" &&
            finding.contains("rule") && finding["rule"].is_string())
            rules.insert(finding["rule"].get<std::string>());
    for (const auto& rule : rules)
        ++facts.blocking_rules[rule];
}

} // namespace

audit_facts read_audit_facts(const std::string& git_dir, const report_period& period,
                             const std::function<bool(std::string_view ref)>& follow) {
    audit_facts facts;
    std::size_t unreadable_times = 0;
    std::size_t damaged = 0;
    for_each_audit_record(
        git_dir,
        [&](std::string&, const nlohmann::json& record) {
            const auto time = record_time(record);
            if (time == 0) {
                ++unreadable_times;
                return;
            }
            if (!facts.log_began)
                facts.log_began = time;
            if (record.value("kind", "decision") == "landed") {
                if (!add_moves(record, time, follow, facts.moves))
                    facts.notes.push_back("an audit record of " + iso8601(time, 0) +
                                          " names an object id that is not 40 hex digits; "
                                          "it was skipped");
                return;
            }
            if (!period.contains(time))
                return;
            const auto decision = record["decision"].get<std::string>();
            if (decision == "bypass")
                add_bypass(record, time, facts);
            else if (decision == "reject")
                add_rejection(record, facts);
        },
        [&](const damaged_audit_line& line) {
            if (++damaged <= named_damaged_lines)
                facts.notes.push_back("audit.log line " + std::to_string(line.line_number) +
                                      " is damaged and was skipped: " + line.problem);
        },
        [&](std::string_view line) { return facts.log_began && is_accepted_decision(line); });
    if (damaged > named_damaged_lines)
        facts.notes.push_back("and " + std::to_string(damaged - named_damaged_lines) +
                              " more damaged audit.log lines were skipped");
    if (unreadable_times > 0)
        facts.notes.push_back(std::to_string(unreadable_times) +
                              " audit records have a time that is not ISO 8601 and were skipped");
    return facts;
}

} // namespace trunkgate
