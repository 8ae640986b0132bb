#include "trunkgate/gate/audit.hpp"
#include "trunkgate/util/unix_time.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <optional>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trunkgate/events/events.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"

namespace trunkgate {

namespace {

using json = nlohmann::ordered_json;

json refs_json(const std::vector<ref_update>& updates) {
    json refs = json::array();
    for (const auto& update : updates)
        refs.push_back({{"ref", update.ref}, {"old", update.old_hex}, {"new", update.new_hex}});
    return refs;
}

json push_json(const std::optional<std::string>& push_id) {
    return push_id ? json(*push_id) : json(nullptr);
}

} // namespace

std::string audit_line(std::int64_t time, const std::optional<std::string>& push_id,
                       const std::string& identity, const std::vector<ref_update>& updates,
                       const verdict& result) {
    json found = json::array();
    for (const auto& item : result.found)
        found.push_back({{"rule", item.rule},
                         {"level", std::string(to_string(item.severity))},
                         {"ref", item.ref},
                         {"commit", item.commit.empty() ? json(nullptr) : json(item.commit)},
                         {"message", item.message}});
    const char* decision = !result.bypass_reason.empty() ? "bypass"
                           : result.rejected()           ? "reject"
                                                         : "accept";
    const json line{{"kind", "decision"},
                    {"time", iso8601(time, 0)},
                    {"push", push_json(push_id)},
                    {"identity", identity},
                    {"decision", decision},
                    {"refs", refs_json(updates)},
                    {"findings", std::move(found)},
                    {"bypass_reason",
                     result.bypass_reason.empty() ? json(nullptr) : json(result.bypass_reason)},
                    {"policy", result.policy_name}};
    return line.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string landed_line(std::int64_t time, const std::optional<std::string>& push_id,
                        const std::string& identity, const std::vector<ref_update>& updates,
                        const std::vector<std::string>& queue_entries) {
    json line{{"kind", "landed"},
              {"time", iso8601(time, 0)},
              {"push", push_json(push_id)},
              {"identity", identity},
              {"refs", refs_json(updates)}};
    if (!queue_entries.empty())
        line["queue"] = queue_entries;
    return line.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

std::string audit_path(const std::string& git_dir) {
    return git_dir + "trunkgate/audit.log";
}

// True when the file ends in a newline or is empty: the next record starts a line of its own.
bool ends_with_newline(int fd, off_t size) {
    char last = '\n';
    return size == 0 || (::pread(fd, &last, 1, size - 1) == 1 && last == '\n');
}

// The append itself, under the exclusive lock: a failed write is cut back off, so the log holds
// whole records only and the next push's record never joins a torn one.
void append_locked(int fd, const std::string& path, const std::string& line) {
    struct stat before {};
    if (::fstat(fd, &before) != 0)
        throw internal_error("cannot read the size of " + path + ": " + std::strerror(errno));
    // A record torn before this version (or by a crash mid-write) stays a line of its own.
    const std::string text = (ends_with_newline(fd, before.st_size) ? "" : "\n") + line + "\n";
    if (write_all(fd, text))
        return;
    const std::string reason = std::strerror(errno);
    if (::ftruncate(fd, before.st_size) != 0)
        throw internal_error(
            "cannot append to " + path + ": " + reason +
            "; cutting the partial record back off failed too: " + std::strerror(errno));
    throw internal_error("cannot append to " + path + ": " + reason +
                         " (the log was left as it was)");
}

} // namespace

void append_audit(const std::string& git_dir, const std::string& line) {
    const auto dir = git_dir + "trunkgate";
    if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
        throw internal_error("cannot create " + dir + ": " + std::strerror(errno));
    const auto path = audit_path(git_dir);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        throw internal_error("cannot open " + path + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX) != 0) {
        const std::string reason = std::strerror(errno);
        ::close(fd);
        throw internal_error("cannot lock " + path + ": " + reason);
    }
    try {
        append_locked(fd, path, line);
    } catch (...) {
        ::close(fd); // releases the lock
        throw;
    }
    ::close(fd);
}

namespace {

// Why `record` is not an audit record of the documented shape, or nothing when it is. Records
// written before landed records existed have no "kind" and are decisions.
std::optional<std::string> audit_record_problem(const nlohmann::json& record) {
    if (!record.is_object())
        return "not a JSON object";
    std::string kind = "decision";
    if (record.contains("kind")) {
        if (!record["kind"].is_string())
            return std::string("'kind' is not a string");
        kind = record["kind"].get<std::string>();
        if (kind != "decision" && kind != "landed")
            return "'kind' is '" + kind + "', neither 'decision' nor 'landed'";
    }
    for (const char* key : {"time", "identity"})
        if (!record.contains(key) || !record[key].is_string())
            return std::string("'") + key + "' is missing or not a string";
    if (record.contains("push") && !record["push"].is_null() && !record["push"].is_string())
        return std::string("'push' is not a string");
    if (!record.contains("refs") || !record["refs"].is_array())
        return std::string("'refs' is missing or not an array");
    for (const auto& ref : record["refs"])
        if (!ref.is_object() || !ref.value("ref", nlohmann::json()).is_string() ||
            !ref.value("old", nlohmann::json()).is_string() ||
            !ref.value("new", nlohmann::json()).is_string())
            return std::string("a 'refs' item is not {\"ref\", \"old\", \"new\"} strings");
    if (kind == "landed")
        return std::nullopt;
    for (const char* key : {"decision", "policy"})
        if (!record.contains(key) || !record[key].is_string())
            return std::string("'") + key + "' is missing or not a string";
    if (!record.contains("findings") || !record["findings"].is_array())
        return std::string("'findings' is missing or not an array");
    if (record.contains("bypass_reason") && !record["bypass_reason"].is_null() &&
        !record["bypass_reason"].is_string())
        return std::string("'bypass_reason' is not a string");
    return std::nullopt;
}

} // namespace

void for_each_audit_record(
    const std::string& git_dir,
    const std::function<void(std::string& line, const nlohmann::json& record)>& visit,
    const std::function<void(const damaged_audit_line& line)>& damaged,
    const std::function<bool(std::string_view line)>& skip) {
    const auto path = audit_path(git_dir);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (errno != ENOENT)
            throw internal_error("cannot read " + path + ": " + std::strerror(errno));
        return;
    }
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty() || (skip && skip(line)))
            continue;
        std::optional<std::string> problem;
        nlohmann::json record;
        try {
            record = nlohmann::json::parse(line);
            problem = audit_record_problem(record);
        } catch (const nlohmann::json::exception& e) {
            problem = std::string("not JSON: ") + e.what();
        }
        if (problem)
            damaged({number, *problem});
        else
            visit(line, record);
    }
}

audit_log read_audit(const std::string& git_dir, std::int64_t since) {
    audit_log log;
    const auto since_text = since > 0 ? iso8601(since, 0) : std::string();
    for_each_audit_record(
        git_dir,
        [&](std::string& line, const nlohmann::json& record) {
            // ISO 8601 in UTC sorts as text.
            if (since == 0 || record["time"].get<std::string>() >= since_text)
                log.records.push_back(std::move(line));
        },
        [&](const damaged_audit_line& line) { log.damaged.push_back(line); });
    return log;
}

namespace {

std::vector<ref_update> refs_of(const nlohmann::json& record) {
    std::vector<ref_update> refs;
    for (const auto& ref : record["refs"])
        refs.push_back({ref["old"].get<std::string>(), ref["new"].get<std::string>(),
                        ref["ref"].get<std::string>()});
    return refs;
}

bool same_update(const ref_update& a, const ref_update& b) {
    return a.ref == b.ref && a.old_hex == b.old_hex && a.new_hex == b.new_hex;
}

// True when every update of `landed` is one of `decided`.
bool covers(const std::vector<ref_update>& decided, const std::vector<ref_update>& landed) {
    return std::all_of(landed.begin(), landed.end(), [&](const ref_update& update) {
        return std::any_of(decided.begin(), decided.end(),
                           [&](const ref_update& other) { return same_update(update, other); });
    });
}

} // namespace

std::vector<audit_entry> pair_landed(const std::vector<std::string>& records, std::int64_t since) {
    struct parsed_entry {
        audit_entry entry;
        std::string time;
        std::optional<std::string> push;
        std::string decision;
        std::vector<ref_update> refs;
        bool paired = false; // a decision that a landed record without push id has claimed
    };
    std::vector<parsed_entry> parsed;
    std::map<std::string, std::size_t> decision_of_push;
    for (const auto& line : records) {
        const auto record = nlohmann::json::parse(line, nullptr, false);
        if (record.is_discarded() || audit_record_problem(record))
            continue;
        parsed_entry item;
        item.entry.record = line;
        item.time = record["time"].get<std::string>();
        if (record.contains("push") && record["push"].is_string())
            item.push = record["push"].get<std::string>();
        item.refs = refs_of(record);
        const bool landed = record.value("kind", "decision") == "landed";
        if (!landed) {
            item.decision = record["decision"].get<std::string>();
            // Older records say nothing about landing; newer ones start with "nothing landed".
            if (record.contains("kind"))
                item.entry.landed.emplace();
            if (item.push)
                decision_of_push[*item.push] = parsed.size();
            parsed.push_back(std::move(item));
            continue;
        }
        std::optional<std::size_t> owner;
        if (item.push) {
            if (const auto found = decision_of_push.find(*item.push);
                found != decision_of_push.end())
                owner = found->second;
        } else {
            for (std::size_t i = parsed.size(); i-- > 0;) {
                const auto& candidate = parsed[i];
                if (candidate.entry.is_decision && !candidate.push && !candidate.paired &&
                    candidate.decision != "reject" && candidate.entry.landed &&
                    covers(candidate.refs, item.refs)) {
                    owner = i;
                    break;
                }
            }
        }
        if (!owner) {
            item.entry.is_decision = false;
            parsed.push_back(std::move(item));
            continue;
        }
        auto& decision = parsed[*owner];
        decision.paired = true;
        if (!decision.entry.landed)
            decision.entry.landed.emplace();
        decision.entry.landed->insert(decision.entry.landed->end(), item.refs.begin(),
                                      item.refs.end());
    }
    const auto since_text = since > 0 ? iso8601(since, 0) : std::string();
    std::vector<audit_entry> entries;
    for (auto& item : parsed)
        if (since <= 0 || item.time >= since_text)
            entries.push_back(std::move(item.entry));
    return entries;
}

} // namespace trunkgate
