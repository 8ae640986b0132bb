#include "trunkgate/events/spool.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trunkgate/events/spool_files.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"
#include "trunkgate/util/ownership.hpp"

namespace trunkgate {

void make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0750) != 0 && errno != EEXIST)
        throw internal_error("cannot create " + path + ": " + std::strerror(errno));
}

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

namespace {

const char* const areas[] = {"queue", "delivered", "dead"};

void make_dirs(const std::string& path) {
    for (auto slash = path.find('/', 1); slash != std::string::npos;
         slash = path.find('/', slash + 1))
        make_dir(path.substr(0, slash));
    make_dir(path);
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
