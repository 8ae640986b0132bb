#include "trunkgate/events/spool.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "trunkgate/events/spool_files.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"
#include "trunkgate/util/system_log.hpp"

namespace trunkgate {

namespace {

std::string reason() {
    return std::strerror(errno);
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

} // namespace trunkgate
