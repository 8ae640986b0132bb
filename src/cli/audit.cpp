// audit: the pre-receive decisions and what landed, from the audit log.

#include <nlohmann/json.hpp>

#include <algorithm>

#include "trunkgate/cli/commands.hpp"
#include "trunkgate/cli/repositories.hpp"
#include "trunkgate/gate/audit.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/ref_update.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

// YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[Z] (UTC) or Unix seconds.
std::int64_t parse_since(const std::string& text) {
    const auto time = parse_time(text);
    if (!time)
        throw usage_error("--since takes YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or Unix seconds");
    return *time;
}

// `REF OLD..NEW` with 7 digits each, as `audit` prints a ref.
std::string audit_ref_text(const nlohmann::json& ref) {
    return printable(ref.value("ref", "")) + " " + ref.value("old", "").substr(0, 7) + ".." +
           ref.value("new", "").substr(0, 7);
}

bool has_landed(const std::vector<ref_update>& landed, const nlohmann::json& ref) {
    return std::any_of(landed.begin(), landed.end(), [&](const ref_update& update) {
        return update.ref == ref.value("ref", "") && update.new_hex == ref.value("new", "");
    });
}

void print_audit_entry(std::ostream& out, const audit_entry& entry) {
    const auto record = nlohmann::json::parse(entry.record);
    out << record.value("time", "") << "  " << printable(record.value("identity", "")) << "  ";
    if (!entry.is_decision) {
        out << "landed";
        for (const auto& ref : record["refs"])
            out << "  " << audit_ref_text(ref);
        if (record.contains("queue") && record["queue"].is_array()) {
            std::vector<std::string> ids;
            for (const auto& id : record["queue"])
                if (id.is_string())
                    ids.push_back(printable(id.get<std::string>()));
            out << "  (the merge queue landed " << join(ids, ", ") << ")\n";
            return;
        }
        out << "  (no decision recorded for this push)\n";
        return;
    }
    const auto decision = record.value("decision", "");
    // Whether each ref landed is known for records written since landed records exist, and
    // worth saying for a push the hook let through.
    const bool judged_landing = entry.landed && decision != "reject";
    std::size_t landed_refs = 0;
    if (judged_landing)
        for (const auto& ref : record["refs"])
            landed_refs += has_landed(*entry.landed, ref);
    const bool none = judged_landing && landed_refs == 0;
    const bool partly = judged_landing && landed_refs > 0 && landed_refs < record["refs"].size();
    out << decision << (none ? ", not landed" : partly ? ", partly landed" : "");
    for (const auto& ref : record["refs"])
        out << "  " << audit_ref_text(ref)
            << (partly && !has_landed(*entry.landed, ref) ? " (not landed)" : "");
    if (!record["findings"].empty())
        out << "  (" << count_noun(record["findings"].size(), "finding", "findings") << ")";
    if (record["bypass_reason"].is_string())
        out << "  bypass: \"" << printable(record["bypass_reason"].get<std::string>()) << "\"";
    out << "\n";
}

} // namespace

int cmd_audit(const cli_io& streams, const parsed_args& parsed) {
    const auto path = parsed.option("--repo").value_or(".");
    act_as_owner(streams, path, false);
    const auto repo = open_repository_at(path, true);
    const auto format = parsed.option("--format").value_or("text");
    require_text_or_json(format);
    const auto since = parsed.option("--since") ? parse_since(*parsed.option("--since")) : 0;
    // The whole log: a decision before --since may still be what a later landed record belongs to.
    const auto log = read_audit(git_dir(repo.get()), 0);
    for (const auto& damaged : log.damaged)
        streams.err << "trunkgate: audit.log line " << damaged.line_number
                    << " is damaged and was skipped: " << printable(damaged.problem) << "\n";
    const auto entries = pair_landed(log.records, since);
    if (format == "json") {
        for (const auto& entry : entries) {
            if (!entry.is_decision) {
                streams.out << entry.record << "\n";
                continue;
            }
            auto record = nlohmann::ordered_json::parse(entry.record);
            auto landed = nlohmann::ordered_json(nullptr);
            if (entry.landed) {
                landed = nlohmann::ordered_json::array();
                for (const auto& update : *entry.landed)
                    landed.push_back(
                        {{"ref", update.ref}, {"old", update.old_hex}, {"new", update.new_hex}});
            }
            record["landed"] = std::move(landed);
            streams.out << record.dump(-1, ' ', false,
                                       nlohmann::ordered_json::error_handler_t::replace)
                        << "\n";
        }
        return exit_ok;
    }
    for (const auto& entry : entries)
        print_audit_entry(streams.out, entry);
    return exit_ok;
}

} // namespace trunkgate
