#include "trunkgate/audit.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trunkgate/error.hpp"
#include "trunkgate/events.hpp"
#include "trunkgate/files.hpp"

namespace trunkgate {

std::string audit_line(std::int64_t time, const std::string& identity,
                       const std::vector<ref_update>& updates, const verdict& result) {
    using json = nlohmann::ordered_json;
    json refs = json::array();
    for (const auto& update : updates)
        refs.push_back({{"ref", update.ref}, {"old", update.old_hex}, {"new", update.new_hex}});
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
    const json line{{"time", iso8601(time, 0)},
                    {"identity", identity},
                    {"decision", decision},
                    {"refs", std::move(refs)},
                    {"findings", std::move(found)},
                    {"bypass_reason",
                     result.bypass_reason.empty() ? json(nullptr) : json(result.bypass_reason)},
                    {"policy", result.policy_name}};
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

// Why `record` is not an audit record of the documented shape, or nothing when it is.
std::optional<std::string> audit_record_problem(const nlohmann::json& record) {
    if (!record.is_object())
        return "not a JSON object";
    for (const char* key : {"time", "identity", "decision", "policy"})
        if (!record.contains(key) || !record[key].is_string())
            return std::string("'") + key + "' is missing or not a string";
    if (!record.contains("refs") || !record["refs"].is_array())
        return std::string("'refs' is missing or not an array");
    for (const auto& ref : record["refs"])
        if (!ref.is_object() || !ref.value("ref", nlohmann::json()).is_string() ||
            !ref.value("old", nlohmann::json()).is_string() ||
            !ref.value("new", nlohmann::json()).is_string())
            return std::string("a 'refs' item is not {\"ref\", \"old\", \"new\"} strings");
    if (!record.contains("findings") || !record["findings"].is_array())
        return std::string("'findings' is missing or not an array");
    if (record.contains("bypass_reason") && !record["bypass_reason"].is_null() &&
        !record["bypass_reason"].is_string())
        return std::string("'bypass_reason' is not a string");
    return std::nullopt;
}

} // namespace

audit_log read_audit(const std::string& git_dir, std::int64_t since) {
    audit_log log;
    const auto path = audit_path(git_dir);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (errno != ENOENT)
            throw internal_error("cannot read " + path + ": " + std::strerror(errno));
        return log;
    }
    const auto since_text = since > 0 ? iso8601(since, 0) : std::string();
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty())
            continue;
        std::optional<std::string> problem;
        nlohmann::json record;
        try {
            record = nlohmann::json::parse(line);
            problem = audit_record_problem(record);
        } catch (const nlohmann::json::exception& e) {
            problem = std::string("not JSON: ") + e.what();
        }
        if (problem) {
            log.damaged.push_back({number, *problem});
            continue;
        }
        // ISO 8601 in UTC sorts as text.
        if (since > 0 && record["time"].get<std::string>() < since_text)
            continue;
        log.records.push_back(std::move(line));
    }
    return log;
}

} // namespace trunkgate
