#include "trunkgate/events/spool.hpp"

#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"
#include "trunkgate/util/json_input.hpp"
#include "trunkgate/util/ownership.hpp"
#include "trunkgate/util/system_log.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

const char* const areas[] = {"queue", "delivered", "dead"};

void make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0750) != 0 && errno != EEXIST)
        throw internal_error("cannot create " + path + ": " + std::strerror(errno));
}

void make_dirs(const std::string& path) {
    for (auto slash = path.find('/', 1); slash != std::string::npos;
         slash = path.find('/', slash + 1))
        make_dir(path.substr(0, slash));
    make_dir(path);
}

bool valid_id(const std::string& id) {
    return !id.empty() && id.size() <= 64 &&
           id.find_first_not_of("0123456789abcdef-") == std::string::npos;
}

std::string reason() {
    return std::strerror(errno);
}

bool is_entry_file(const std::string& name) {
    return name.size() > 5 && name[0] != '.' && name.compare(name.size() - 5, 5, ".json") == 0;
}

std::size_t count_entries(const std::string& dir) {
    const auto names = directory_names(dir);
    return static_cast<std::size_t>(std::count_if(names.begin(), names.end(), is_entry_file));
}

// Removes a staging area and every file in it (no subdirectories are ever made there).
void remove_area(const std::string& dir) noexcept {
    try {
        for (const auto& name : directory_names(dir))
            ::unlink((dir + "/" + name).c_str());
    } catch (const file_error&) {
        // rmdir below fails too and leaves the area for recover_staged() to report.
    }
    ::rmdir(dir.c_str());
}

// Why `path` cannot be read or opened, for the person who has to fix it. For EACCES and EPERM
// also who owns it, its mode and who tried: a deliverer run once as root leaves root:root 0640
// files that the repository's own user cannot read.
std::string access_problem(const std::string& path, int error) {
    std::string text = std::strerror(error);
    if (error != EACCES && error != EPERM)
        return text;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0)
        return text + " (as " + user_name(::geteuid()) + "; run as the repository's owner)";
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return text + " (owner " + user_name(info.st_uid) + ", mode " + mode + ", read as " +
           user_name(::geteuid()) + "; run as the repository's owner)";
}

std::string cannot_open_lock(const std::string& lock_path, const std::string& id, int error) {
    return "cannot open its lock file queue/" + id + ".lock: " + access_problem(lock_path, error);
}

// Throws entry_error when the lock file of a queued entry exists but cannot be opened, so that
// an entry no deliverer can lock is listed as such rather than as waiting (changes nothing).
void check_lock_file(const std::string& lock_path, const std::string& id) {
    const int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        ::close(fd);
    else if (errno != ENOENT)
        throw entry_error(id, cannot_open_lock(lock_path, id, errno));
}

// The text of the entry file `path`; nullopt when it does not exist (retired meanwhile). Throws
// entry_error when it exists but cannot be read.
std::optional<std::string> entry_text(const std::string& path, const std::string& id) {
    try {
        return read_file(path);
    } catch (const file_error& e) {
        throw entry_error(id, access_problem(path, e.error_number()));
    }
}

void sync_dir(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        throw internal_error("cannot open " + dir + ": " + reason());
    const int rc = ::fsync(fd);
    const std::string why = rc != 0 ? reason() : "";
    ::close(fd);
    if (rc != 0)
        throw internal_error("cannot sync " + dir + ": " + why);
}

std::function<int(const char*, const char*)>& publish_rename() {
    static std::function<int(const char*, const char*)> seam;
    return seam;
}

int rename_for_publish(const std::string& from, const std::string& to) {
    if (publish_rename())
        return publish_rename()(from.c_str(), to.c_str());
    return ::rename(from.c_str(), to.c_str());
}

// Renames the entries `ids` (or, when empty, every entry file) of a sealed staging area into
// queue/ and fsyncs queue/; stops at the first failure, leaving the rest staged.
publish_result publish_area(const std::string& spool_dir, const std::string& area,
                            std::vector<std::string> ids) {
    if (ids.empty())
        for (const auto& name : directory_names(area))
            if (is_entry_file(name))
                ids.push_back(name.substr(0, name.size() - 5));
    publish_result result;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        const auto from = area + "/" + ids[i] + ".json";
        if (rename_for_publish(from, spool_dir + "/queue/" + ids[i] + ".json") != 0) {
            result.problem = "cannot move " + from + " into queue/: " + reason();
            result.left = ids.size() - i;
            break;
        }
        result.published.push_back(ids[i]);
    }
    if (!result.published.empty()) {
        try {
            sync_dir(spool_dir + "/queue");
        } catch (const internal_error& e) {
            // Visible but perhaps not durable: say so rather than claim more than is true.
            if (result.problem.empty())
                result.problem = e.what();
        }
    }
    return result;
}

} // namespace

std::string new_uuid() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        throw internal_error("no randomness for a delivery id");
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);
    char text[37];
    std::snprintf(text, sizeof text,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                  bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                  bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
    return text;
}

std::string entry_json(const spool_entry& entry) {
    const nlohmann::ordered_json document{{"id", entry.id},
                                          {"ref", entry.ref},
                                          {"url", entry.url},
                                          {"secret_env", entry.secret_env},
                                          {"secret_file", entry.secret_file},
                                          {"auth_env", entry.auth_env},
                                          {"auth_file", entry.auth_file},
                                          {"ca_file", entry.ca_file},
                                          {"timeout_ms", entry.timeout_ms},
                                          {"headers", entry.headers},
                                          {"state", entry.state},
                                          {"created_at", entry.created_at},
                                          {"order", entry.order},
                                          {"next_try", entry.next_try},
                                          {"attempts", entry.attempts},
                                          {"last_status", entry.last_status},
                                          {"last_error", entry.last_error},
                                          {"delivered_at", entry.delivered_at},
                                          {"body", entry.body}};
    return document.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

namespace {

// The longest a retry is ever scheduled ahead (delivery's backoff caps at 75 minutes): a later
// next_try would park the entry for good.
constexpr std::int64_t max_retry_ahead_seconds = 86400;

// The entry's fixed headers: "Name: value" lines, each name an HTTP token and no line breaks,
// so a damaged entry cannot smuggle a header or a request into the delivery.
std::vector<std::string> header_lines(const nlohmann::json& document) {
    std::vector<std::string> lines;
    const auto found = document.find("headers");
    if (found == document.end() || found->is_null())
        return lines;
    if (!found->is_array())
        throw input_error("'headers' must be an array of \"Name: value\" strings");
    for (const auto& item : *found) {
        if (!item.is_string())
            throw input_error("'headers' must be an array of \"Name: value\" strings");
        const auto& line = item.get_ref<const std::string&>();
        const auto colon = line.find(": ");
        const bool token_name =
            colon != std::string::npos && colon > 0 &&
            std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon),
                        [](unsigned char c) { return std::isalnum(c) || c == '-'; });
        if (!token_name || line.find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
            throw input_error("'headers' holds a line that is not one \"Name: value\" header");
        lines.push_back(line);
    }
    return lines;
}

spool_entry entry_of(const std::string& text, std::int64_t now) {
    const auto document = parse_json_input(text);
    if (!document.is_object())
        throw input_error("a spool entry must be a JSON object, not " + json_kind(document));
    const std::string where;
    spool_entry entry;
    entry.id = required_string(document, "id", where);
    if (!valid_id(entry.id))
        throw input_error("bad delivery id");
    entry.ref = required_string(document, "ref", where);
    entry.url = required_string(document, "url", where);
    entry.secret_env = optional_string(document, "secret_env", where);
    entry.secret_file = optional_string(document, "secret_file", where);
    entry.auth_env = optional_string(document, "auth_env", where);
    entry.auth_file = optional_string(document, "auth_file", where);
    entry.ca_file = optional_string(document, "ca_file", where);
    // The limits of [[events.endpoint]] timeout_ms (docs/policy.md).
    entry.timeout_ms = optional_integer(document, "timeout_ms", 1, 600000, where).value_or(5000);
    entry.headers = header_lines(document);
    if (const auto state = optional_string(document, "state", where); !state.empty())
        entry.state = state;
    const auto created_at = optional_unix_seconds(document, "created_at", where);
    if (!created_at)
        throw input_error("'created_at' is missing");
    entry.created_at = *created_at;
    if (const auto future = future_time_problem(entry.created_at, now))
        throw input_error("'created_at' is " + *future);
    // Events of one push keep their order; an old entry without one sorts by creation time.
    const std::int64_t by_creation =
        entry.created_at <= INT64_MAX / 1000000000 ? entry.created_at * 1000000000 : INT64_MAX;
    entry.order = optional_integer(document, "order", 0, INT64_MAX, where).value_or(by_creation);
    entry.next_try = optional_unix_seconds(document, "next_try", where).value_or(0);
    if (entry.next_try - now > max_retry_ahead_seconds + clock_skew_seconds)
        throw input_error("'next_try' is more than a day ahead (" +
                          std::to_string(entry.next_try - now) + " s)");
    entry.attempts = optional_integer(document, "attempts", 0, 1000000, where).value_or(0);
    entry.last_status =
        static_cast<long>(optional_integer(document, "last_status", 0, 999, where).value_or(0));
    entry.last_error = optional_string(document, "last_error", where);
    entry.delivered_at = optional_unix_seconds(document, "delivered_at", where).value_or(0);
    if (const auto future = future_time_problem(entry.delivered_at, now))
        throw input_error("'delivered_at' is " + *future);
    entry.body = required_string(document, "body", where);
    return entry;
}

} // namespace

spool_entry parse_entry(const std::string& text, std::int64_t now) {
    try {
        return entry_of(text, now);
    } catch (const input_error& e) {
        throw input_error(std::string("malformed spool entry: ") + e.what());
    } catch (const nlohmann::json::exception& e) {
        throw input_error(std::string("malformed spool entry: ") + e.what());
    }
}

namespace {

// parse_entry for an entry that must be valid: a malformed one is an entry_error.
spool_entry parse_valid_entry(const std::string& text, const std::string& id, std::int64_t now) {
    try {
        return parse_entry(text, now);
    } catch (const input_error& e) {
        throw entry_error(id, e.what());
    }
}

} // namespace

spool::spool(std::string dir) : dir_(std::move(dir)) {
    while (dir_.size() > 1 && dir_.back() == '/')
        dir_.pop_back();
    make_dirs(dir_);
    for (const char* area : areas)
        make_dir(dir_ + "/" + area);
}

std::string spool::path(const std::string& area, const std::string& id) const {
    return dir_ + "/" + area + "/" + id + ".json";
}

void spool::write(const std::string& area, const spool_entry& entry) const {
    write_durably(dir_ + "/" + area, entry.id + ".json", entry_json(entry));
}

void spool::add(const spool_entry& entry) const {
    write("queue", entry);
}

spool_listing spool::list(const std::string& area) const {
    spool_listing listing;
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    for (const auto& name : directory_names(dir_ + "/" + area)) {
        if (!is_entry_file(name))
            continue;
        const auto id = name.substr(0, name.size() - 5);
        try {
            // Only ENOENT means gone (retired by another process meanwhile); anything else that
            // stops the entry from being read is listed, so no event is ever hidden.
            const auto text = entry_text(dir_ + "/" + area + "/" + name, id);
            if (!text)
                continue;
            auto entry = parse_valid_entry(*text, id, now);
            if (area == "queue")
                check_lock_file(dir_ + "/queue/" + id + ".lock", id);
            listing.entries.push_back(std::move(entry));
        } catch (const entry_error& e) {
            listing.unreadable.push_back({area, id, e.what()});
        }
    }
    std::sort(listing.entries.begin(), listing.entries.end(),
              [](const spool_entry& a, const spool_entry& b) {
                  return a.order != b.order ? a.order < b.order : a.id < b.id;
              });
    return listing;
}

std::optional<claimed_entry> spool::claim(const std::string& id) const {
    if (!valid_id(id))
        return std::nullopt;
    const auto lock_path = dir_ + "/queue/" + id + ".lock";
    // flock needs no write access: a lock file that another user left readable still works.
    const int fd = ::open(lock_path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        throw entry_error(id, cannot_open_lock(lock_path, id, errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        ::close(fd);
        if (error == EWOULDBLOCK || error == EINTR)
            return std::nullopt; // another deliverer is sending it
        throw entry_error(id, "cannot lock queue/" + id + ".lock: " + std::strerror(error));
    }
    try {
        // Read only once locked: another deliverer may have retired it a moment ago.
        const auto text = entry_text(path("queue", id), id);
        if (!text) {
            ::unlink(lock_path.c_str());
            ::close(fd);
            return std::nullopt;
        }
        return claimed_entry(
            *this, parse_valid_entry(*text, id, static_cast<std::int64_t>(std::time(nullptr))), fd);
    } catch (...) {
        ::close(fd);
        throw;
    }
}

namespace {

// Due now, from the first attempt again, with the same id and body.
void make_due(spool_entry& entry, std::int64_t now) {
    entry.state = "queued";
    entry.next_try = now;
    entry.attempts = 0;
    entry.delivered_at = 0;
}

} // namespace

bool spool::requeue(const std::string& id, std::int64_t now) const {
    if (!valid_id(id))
        return false;
    // A queued entry is rewritten only under its lock, never under a deliverer's feet.
    if (entry_text(path("queue", id), id)) {
        auto claimed = claim(id);
        if (!claimed)
            throw internal_error("event " + id +
                                 " is being delivered right now; try again in a moment");
        make_due(claimed->entry(), now);
        claimed->save();
        log("requeued " + id);
        return true;
    }
    for (const char* area : {"delivered", "dead"}) {
        const auto text = entry_text(path(area, id), id);
        if (!text)
            continue;
        auto entry = parse_valid_entry(*text, id, now);
        make_due(entry, now);
        entry.created_at = now; // max_age_hours counts from the redelivery
        write("queue", entry);
        ::unlink(path(area, id).c_str());
        log("requeued " + id + " from " + area);
        return true;
    }
    return false;
}

void spool::log(const std::string& line) const {
    log_lines({line});
}

void spool::log_lines(const std::vector<std::string>& lines) const {
    if (lines.empty())
        return;
    const auto log_path = dir_ + "/events.log";
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return; // logging must never stop a delivery
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::tm parts{};
    gmtime_r(&now, &parts);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ ", &parts);
    // One write() per batch of whole lines with O_APPEND: lines of concurrent writers do not
    // interleave, and a 10,000-event push does not open the log 10,000 times.
    std::string text;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        text += stamp + lines[i] + "\n";
        if (text.size() >= 1 << 20 || i + 1 == lines.size()) {
            [[maybe_unused]] const auto ignored = ::write(fd, text.data(), text.size());
            text.clear();
        }
    }
    ::close(fd);
}

std::vector<std::string> spool::recover_staged() const {
    std::vector<std::string> lines;
    const auto staging = dir_ + "/staging";
    for (const auto& name : directory_names(staging)) {
        const bool is_lock = name.size() > 5 && name.compare(name.size() - 5, 5, ".lock") == 0;
        const auto push_id = is_lock ? name.substr(0, name.size() - 5) : name;
        if (!valid_id(push_id))
            continue;
        const auto lock_path = staging + "/" + push_id + ".lock";
        const int fd = ::open(lock_path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0) {
            // Never skipped in silence: its events may be waiting in there.
            const auto problem = access_problem(lock_path, errno);
            lines.push_back("push " + push_id +
                            ": cannot tell whether its hook is still staging (" + lock_path + ": " +
                            problem + "); left in " + staging);
            log(lines.back());
            continue;
        }
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            ::close(fd); // its hook is still at work
            continue;
        }
        const auto area = staging + "/" + push_id;
        struct stat info {};
        if (is_lock || ::stat(area.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
            if (::stat(area.c_str(), &info) != 0)
                ::unlink(lock_path.c_str()); // a finished push's lock, nothing else left
            ::close(fd);
            continue;
        }
        struct stat marker {};
        const bool sealed = ::stat((area + "/sealed").c_str(), &marker) == 0;
        if (!sealed && errno != ENOENT) {
            const auto problem = access_problem(area + "/sealed", errno);
            lines.push_back("push " + push_id +
                            ": cannot tell whether its hook finished staging (" + area +
                            "/sealed: " + problem + "); left in " + area);
            log(lines.back());
            ::close(fd);
            continue;
        }
        if (sealed) {
            const auto published = publish_area(dir_, area, {});
            lines.push_back(
                "queued " + std::to_string(published.published.size()) + " events of push " +
                push_id + " that its hook had staged but not queued" +
                (published.problem.empty() ? ""
                                           : "; " + std::to_string(published.left) +
                                                 " still staged: " + published.problem));
            log(lines.back());
            if (published.left == 0) {
                remove_area(area);
                ::unlink(lock_path.c_str());
            }
        } else {
            const auto staged = count_entries(area);
            std::string refs = "?\n";
            try {
                refs = read_file(area + "/refs").value_or(refs);
            } catch (const file_error&) {
                // Only the count in the report is lost.
            }
            make_dir(dir_ + "/abandoned");
            const auto kept = dir_ + "/abandoned/" + push_id;
            const bool moved = ::rename(area.c_str(), kept.c_str()) == 0;
            lines.push_back("push " + push_id +
                            " was interrupted while its events were being staged: " +
                            std::to_string(staged) + " deliveries staged for " +
                            refs.substr(0, refs.find('\n')) + " refs, none queued; " +
                            (moved ? "kept in " + kept : "left in " + area + ": " + reason()));
            log(lines.back());
            system_log(LOG_ERR, dir_ + ": " + lines.back());
            if (moved)
                ::unlink(lock_path.c_str());
        }
        ::close(fd);
    }
    return lines;
}

std::vector<std::pair<std::string, std::size_t>> spool::abandoned() const {
    std::vector<std::pair<std::string, std::size_t>> areas;
    for (const auto& name : directory_names(dir_ + "/abandoned"))
        if (valid_id(name))
            areas.emplace_back(name, count_entries(dir_ + "/abandoned/" + name));
    return areas;
}

void spool::prune_delivered(std::size_t keep) const {
    auto delivered = list("delivered").entries;
    if (delivered.size() <= keep)
        return;
    std::sort(delivered.begin(), delivered.end(), [](const spool_entry& a, const spool_entry& b) {
        return a.delivered_at < b.delivered_at;
    });
    for (std::size_t i = 0; i + keep < delivered.size(); ++i)
        ::unlink(path("delivered", delivered[i].id).c_str());
}

staged_push::staged_push(const spool& owner, std::size_t ref_count)
    : owner_(&owner), id_(new_uuid()), dir_(owner.dir() + "/staging/" + id_) {
    make_dir(owner.dir() + "/staging");
    const auto lock_path = dir_ + ".lock";
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (lock_fd_ < 0)
        throw internal_error("cannot create " + lock_path + ": " + reason());
    if (::flock(lock_fd_, LOCK_EX) != 0 || ::mkdir(dir_.c_str(), 0750) != 0) {
        const auto why = reason();
        ::close(lock_fd_);
        ::unlink(lock_path.c_str());
        throw internal_error("cannot create " + dir_ + ": " + why);
    }
    ids_.reserve(ref_count);
    try {
        // What an interrupted push was, for the line that reports it (recover_staged).
        add_file("refs", std::to_string(ref_count) + "\n");
    } catch (...) {
        discard();
        ::close(lock_fd_);
        throw;
    }
}

staged_push::~staged_push() {
    if (lock_fd_ < 0)
        return;
    if (!sealed_)
        discard();
    ::close(lock_fd_);
}

void staged_push::add_file(const std::string& name, const std::string& content) const {
    const auto path = dir_ + "/" + name;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        throw internal_error("cannot write " + path + ": " + reason());
    if (!write_all(fd, content)) {
        const auto why = reason();
        ::close(fd);
        ::unlink(path.c_str());
        throw internal_error("cannot write " + path + ": " + why);
    }
    if (::close(fd) != 0) {
        const auto why = reason();
        ::unlink(path.c_str());
        throw internal_error("cannot write " + path + ": " + why);
    }
}

void staged_push::add(const spool_entry& entry) {
    if (sealed_)
        throw internal_error("push " + id_ + " is sealed; nothing more can be staged");
    add_file(entry.id + ".json", entry_json(entry));
    ids_.push_back(entry.id);
}

namespace {

// Pushes of up to this many deliveries fsync each staged file; larger ones use one syncfs(2).
constexpr std::size_t per_file_sync_limit = 32;

void sync_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw internal_error("cannot open " + path + ": " + reason());
    const int rc = fsync_for_tests(fd);
    const auto why = rc != 0 ? reason() : "";
    ::close(fd);
    if (rc != 0)
        throw internal_error("cannot sync " + path + ": " + why);
}

void sync_file_system(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        throw internal_error("cannot open " + dir + ": " + reason());
    const int rc = ::syncfs(fd);
    const auto why = rc != 0 ? reason() : "";
    ::close(fd);
    if (rc != 0)
        throw internal_error("cannot sync " + dir + ": " + why);
}

} // namespace

void staged_push::seal() {
    // A few entries are fsync'ed one by one: syncfs(2) would also flush whatever else is dirty
    // on the file system (a 10-commit push took 77 ms instead of 15 beside a busy build). Many
    // entries take one syncfs instead of an fsync each (10,000 journal commits), which also
    // reports a write-back error (ENOSPC, EIO) of any staged entry (Linux 5.8 and later). The
    // directory entries are made durable by the directory fsync of write_durably below.
    if (ids_.size() <= per_file_sync_limit)
        for (const auto& id : ids_)
            sync_file(dir_ + "/" + id + ".json");
    else
        sync_file_system(dir_);
    write_durably(dir_, "sealed", std::to_string(ids_.size()) + "\n");
    sealed_ = true;
}

publish_result staged_push::publish() {
    if (!sealed_)
        throw internal_error("push " + id_ + " must be sealed before it is published");
    auto result = publish_area(owner_->dir(), dir_, ids_);
    if (result.left == 0) {
        remove_area(dir_);
        ::unlink((dir_ + ".lock").c_str());
    }
    return result;
}

void staged_push::discard() noexcept {
    remove_area(dir_);
    ::unlink((dir_ + ".lock").c_str());
    ids_.clear();
}

void set_publish_rename(std::function<int(const char* from, const char* to)> rename) {
    publish_rename() = std::move(rename);
}

claimed_entry::claimed_entry(const spool& owner, spool_entry entry, int lock_fd)
    : owner_(&owner), entry_(std::move(entry)), lock_fd_(lock_fd) {}

claimed_entry::claimed_entry(claimed_entry&& other) noexcept
    : owner_(other.owner_), entry_(std::move(other.entry_)), lock_fd_(other.lock_fd_),
      retired_(other.retired_) {
    other.lock_fd_ = -1;
}

claimed_entry::~claimed_entry() {
    if (lock_fd_ < 0)
        return;
    if (retired_)
        ::unlink((owner_->dir() + "/queue/" + entry_.id + ".lock").c_str());
    ::close(lock_fd_);
}

void claimed_entry::save() {
    owner_->write("queue", entry_);
}

void claimed_entry::retire(const std::string& area) {
    owner_->write(area, entry_);
    if (::unlink(owner_->path("queue", entry_.id).c_str()) != 0 && errno != ENOENT)
        throw internal_error("cannot remove " + owner_->path("queue", entry_.id) + ": " +
                             std::strerror(errno));
    retired_ = true;
}

} // namespace trunkgate
