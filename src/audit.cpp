#include "trunkgate/audit.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trunkgate/error.hpp"
#include "trunkgate/events.hpp"

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

void append_audit(const std::string& git_dir, const std::string& line) {
    const auto dir = git_dir + "trunkgate";
    if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
        throw internal_error("cannot create " + dir + ": " + std::strerror(errno));
    const auto path = dir + "/audit.log";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        throw internal_error("cannot open " + path + ": " + std::strerror(errno));
    const std::string text = line + "\n";
    ::flock(fd, LOCK_EX);
    std::size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        written += static_cast<std::size_t>(n);
    }
    ::close(fd); // releases the lock
    if (written != text.size())
        throw internal_error("cannot append to " + path);
}

std::vector<std::string> read_audit(const std::string& git_dir, std::int64_t since) {
    std::vector<std::string> lines;
    std::ifstream in(git_dir + "trunkgate/audit.log");
    const auto since_text = since > 0 ? iso8601(since, 0) : std::string();
    std::string line;
    while (std::getline(in, line)) {
        try {
            const auto record = nlohmann::json::parse(line);
            // ISO 8601 in UTC sorts as text.
            if (since > 0 && record.value("time", "") < since_text)
                continue;
            lines.push_back(line);
        } catch (const nlohmann::json::exception&) {
        }
    }
    return lines;
}

} // namespace trunkgate
