#include "trunkgate/queue/store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "trunkgate/util/files.hpp"
#include "trunkgate/util/json_input.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

constexpr std::pair<queue_state, std::string_view> state_names[] = {
    {queue_state::waiting, "waiting"}, {queue_state::testing, "testing"},
    {queue_state::landing, "landing"}, {queue_state::landed, "landed"},
    {queue_state::ejected, "ejected"}, {queue_state::cancelled, "cancelled"}};

void make_directory(const std::string& path) {
    if (::mkdir(path.c_str(), 0750) != 0 && errno != EEXIST)
        throw file_error("cannot create " + path + ": " + std::strerror(errno), errno);
}

// An exclusive flock on `path` (created when missing), held while the object lives.
class file_lock {
  public:
    file_lock(const std::string& path, bool wait) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0640);
        if (fd_ < 0)
            throw file_error("cannot open " + path + ": " + std::strerror(errno), errno);
        while (::flock(fd_, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
            const int error = errno;
            if (error == EINTR)
                continue;
            ::close(fd_);
            fd_ = -1;
            if (error == EWOULDBLOCK && !wait)
                return;
            throw file_error("cannot lock " + path + ": " + std::strerror(error), error);
        }
    }
    file_lock(const file_lock&) = delete;
    file_lock& operator=(const file_lock&) = delete;
    ~file_lock() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    bool held() const { return fd_ >= 0; }
    int release() {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }

  private:
    int fd_ = -1;
};

bool is_commit_hex(const std::string& text) {
    return text.size() == 40 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string hex_field(const nlohmann::json& object, const char* key) {
    auto value = optional_string(object, key, "queue entry: ");
    if (!value.empty() && !is_commit_hex(value))
        throw input_error(std::string("queue entry: '") + key + "' is not a commit id");
    return value;
}

// "built": the speculative commits, each a commit id; absent in older journals.
std::vector<std::string> built_field(const nlohmann::json& object) {
    std::vector<std::string> built;
    if (!object.contains("built"))
        return built;
    if (!object["built"].is_array())
        throw input_error("queue entry: 'built' must be an array of commit ids");
    for (const auto& item : object["built"]) {
        if (!item.is_string() || !is_commit_hex(item.get<std::string>()))
            throw input_error("queue entry: 'built' holds something that is not a commit id");
        built.push_back(item.get<std::string>());
    }
    return built;
}

std::int64_t integer_field(const nlohmann::json& object, const char* key) {
    return optional_integer(object, key, 0, max_unix_seconds, "queue entry: ").value_or(0);
}

// Active entries first, in queue order (priority ones before the rest); then ended ones,
// newest first.
bool queue_order(const queue_entry& a, const queue_entry& b) {
    const bool a_active = is_active(a.state), b_active = is_active(b.state);
    if (a_active != b_active)
        return a_active;
    if (!a_active)
        return a.ended_at != b.ended_at ? a.ended_at > b.ended_at : a.id > b.id;
    if (a.priority != b.priority)
        return a.priority;
    return a.order != b.order ? a.order < b.order : a.id < b.id;
}

} // namespace

std::string_view to_string(queue_state state) {
    for (const auto& [value, name] : state_names)
        if (value == state)
            return name;
    return "waiting";
}

std::optional<queue_state> parse_queue_state(std::string_view text) {
    for (const auto& [value, name] : state_names)
        if (name == text)
            return value;
    return std::nullopt;
}

bool is_active(queue_state state) {
    return state == queue_state::waiting || state == queue_state::testing ||
           state == queue_state::landing;
}

std::string batch_of(const queue_entry& entry) {
    return entry.batch.empty() ? entry.id : entry.batch;
}

std::int64_t batch_size_of(const queue_entry& entry) {
    return std::max<std::int64_t>(entry.batch_size, 1);
}

bool is_queue_id(std::string_view text) {
    return text.size() > 2 && text.size() <= 22 && text.substr(0, 2) == "q-" &&
           text.find_first_not_of("0123456789", 2) == std::string_view::npos;
}

std::string queue_entry_json(const queue_entry& entry) {
    nlohmann::ordered_json checks = nlohmann::ordered_json::object();
    for (const auto& [context, state] : entry.checks)
        checks[context] = state;
    const nlohmann::ordered_json json{{"id", entry.id},
                                      {"target", entry.target},
                                      {"topic", entry.topic},
                                      {"commit", entry.commit},
                                      {"pusher", entry.pusher},
                                      {"enqueued_at", entry.enqueued_at},
                                      {"order", entry.order},
                                      {"priority", entry.priority},
                                      {"state", to_string(entry.state)},
                                      {"speculative", entry.speculative},
                                      {"built_on", entry.built_on},
                                      {"testing_since", entry.testing_since},
                                      {"builds", entry.builds},
                                      {"failed_builds", entry.failed_builds},
                                      {"checks", checks},
                                      {"landing_from", entry.landing_from},
                                      {"reason", entry.reason},
                                      {"ended_at", entry.ended_at},
                                      {"batch", entry.batch},
                                      {"batch_size", entry.batch_size},
                                      {"batch_limit", entry.batch_limit},
                                      {"built", entry.built}};
    return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

queue_entry parse_queue_entry(std::string_view text) {
    const auto json = parse_json_input(text);
    if (!json.is_object())
        throw input_error("queue entry: not a JSON object");
    queue_entry entry;
    entry.id = required_string(json, "id", "queue entry: ");
    if (!is_queue_id(entry.id))
        throw input_error("queue entry: 'id' is not a queue id");
    entry.target = required_string(json, "target", "queue entry: ");
    if (entry.target.rfind("refs/heads/", 0) != 0)
        throw input_error("queue entry: 'target' is not a branch");
    entry.topic = optional_string(json, "topic", "queue entry: ");
    entry.commit = hex_field(json, "commit");
    if (entry.commit.empty())
        throw input_error("queue entry: 'commit' is missing");
    entry.pusher = optional_string(json, "pusher", "queue entry: ");
    entry.enqueued_at = integer_field(json, "enqueued_at");
    entry.order = integer_field(json, "order");
    if (json.contains("priority") && !json["priority"].is_boolean())
        throw input_error("queue entry: 'priority' must be true or false");
    entry.priority = json.value("priority", false);
    const auto state = parse_queue_state(required_string(json, "state", "queue entry: "));
    if (!state)
        throw input_error("queue entry: 'state' is not a queue state");
    entry.state = *state;
    entry.speculative = hex_field(json, "speculative");
    entry.built_on = hex_field(json, "built_on");
    entry.testing_since = integer_field(json, "testing_since");
    entry.builds = integer_field(json, "builds");
    entry.failed_builds = integer_field(json, "failed_builds");
    if (json.contains("checks")) {
        if (!json["checks"].is_object())
            throw input_error("queue entry: 'checks' must be an object");
        for (const auto& [context, value] : json["checks"].items()) {
            if (!value.is_string())
                throw input_error("queue entry: 'checks' holds a state that is not a string");
            entry.checks[context] = value.get<std::string>();
        }
    }
    entry.landing_from = hex_field(json, "landing_from");
    entry.reason = optional_string(json, "reason", "queue entry: ");
    entry.ended_at = integer_field(json, "ended_at");
    // Journals written before batches have none of these: each entry reads as a batch of one.
    entry.batch = optional_string(json, "batch", "queue entry: ");
    if (!entry.batch.empty() && !is_queue_id(entry.batch))
        throw input_error("queue entry: 'batch' is not a queue id");
    entry.batch_size = integer_field(json, "batch_size");
    entry.batch_limit = integer_field(json, "batch_limit");
    entry.built = built_field(json);
    if ((entry.state == queue_state::testing || entry.state == queue_state::landing) &&
        entry.speculative.empty())
        throw input_error("queue entry: a " + std::string(to_string(entry.state)) +
                          " entry needs 'speculative'");
    return entry;
}

runner_hold::~runner_hold() {
    if (fd_ >= 0)
        ::close(fd_);
}

queue_store::queue_store(std::string dir) : dir_(std::move(dir)) {
    // $GIT_DIR/trunkgate/ itself may not exist yet (no push made one).
    if (const auto slash = dir_.find_last_of('/'); slash != std::string::npos && slash > 0)
        make_directory(dir_.substr(0, slash));
    make_directory(dir_);
    make_directory(dir_ + "/entries");
}

std::string queue_store::entry_path(const std::string& id) const {
    return dir_ + "/entries/" + id + ".json";
}

void queue_store::write(const queue_entry& entry) const {
    write_durably(dir_ + "/entries", entry.id + ".json", queue_entry_json(entry));
}

queue_entry queue_store::enqueue(queue_entry entry, std::int64_t now) {
    file_lock lock(dir_ + "/lock", true);
    std::int64_t last = 0;
    if (const auto text = read_file(dir_ + "/last-id")) {
        const auto digits = text->substr(0, text->find('\n'));
        if (digits.empty() || digits.size() > 18 ||
            digits.find_first_not_of("0123456789") != std::string::npos)
            throw internal_error(dir_ + "/last-id is damaged: it must hold the last queue number");
        last = std::stoll(digits);
    }
    // The counter moves first: a crash after it leaves a gap, never two entries with one id.
    write_durably(dir_, "last-id", std::to_string(last + 1) + "\n");
    char id[32];
    std::snprintf(id, sizeof id, "q-%04lld", static_cast<long long>(last + 1));
    entry.id = id;
    entry.state = queue_state::waiting;
    entry.enqueued_at = now;
    entry.order = last + 1;
    write(entry);
    return entry;
}

std::optional<queue_entry> queue_store::find(const std::string& id) const {
    if (!is_queue_id(id))
        return std::nullopt;
    const auto text = read_file(entry_path(id));
    if (!text)
        return std::nullopt;
    try {
        return parse_queue_entry(*text);
    } catch (const input_error& e) {
        throw input_error(entry_path(id) + " is damaged: " + e.what());
    }
}

std::vector<queue_entry> queue_store::entries(std::string_view target,
                                              std::vector<std::string>* unreadable) const {
    std::vector<queue_entry> listed;
    for (const auto& name : directory_names(dir_ + "/entries")) {
        if (name.size() < 6 || name.compare(name.size() - 5, 5, ".json") != 0)
            continue;
        try {
            auto entry = find(name.substr(0, name.size() - 5));
            if (entry && (target.empty() || entry->target == target))
                listed.push_back(std::move(*entry));
        } catch (const std::exception& e) {
            if (unreadable)
                unreadable->push_back(e.what());
        }
    }
    std::sort(listed.begin(), listed.end(), queue_order);
    return listed;
}

template <class Change> bool queue_store::transition(const std::string& id, Change change) {
    file_lock lock(dir_ + "/lock", true);
    auto entry = find(id);
    if (!entry || !change(*entry))
        return false;
    write(*entry);
    return true;
}

bool queue_store::start_testing(const std::string& id, const std::string& speculative,
                                const std::string& built_on, std::int64_t now,
                                const std::string& batch, std::int64_t batch_size) {
    return transition(id, [&](queue_entry& entry) {
        if (entry.state != queue_state::waiting && entry.state != queue_state::testing)
            return false;
        const auto named = batch.empty() ? id : batch;
        if (entry.state == queue_state::testing && entry.speculative == speculative &&
            entry.built_on == built_on && batch_of(entry) == named)
            return false; // already so
        entry.state = queue_state::testing;
        entry.speculative = speculative;
        entry.built_on = built_on;
        entry.batch = named;
        entry.batch_size = std::max<std::int64_t>(batch_size, 1);
        entry.testing_since = now;
        entry.checks.clear();
        ++entry.builds;
        entry.built.push_back(speculative);
        return true;
    });
}

bool queue_store::record_checks(const std::string& id,
                                const std::map<std::string, std::string>& checks) {
    return transition(id, [&](queue_entry& entry) {
        if (entry.state != queue_state::testing || entry.checks == checks)
            return false;
        entry.checks = checks;
        return true;
    });
}

void clear_build(queue_entry& entry) {
    entry.state = queue_state::waiting;
    entry.speculative.clear();
    entry.built_on.clear();
    entry.batch.clear();
    entry.batch_size = 0;
    entry.checks.clear();
}

bool queue_store::rebuild(const std::string& id, const std::string& reason, bool failed) {
    return transition(id, [&](queue_entry& entry) {
        if (entry.state != queue_state::testing)
            return false;
        clear_build(entry);
        entry.reason = reason;
        entry.failed_builds += failed ? 1 : 0;
        return true;
    });
}

bool queue_store::limit_batch(const std::string& id, std::int64_t limit) {
    return transition(id, [&](queue_entry& entry) {
        if (entry.state != queue_state::testing || limit < 1 ||
            (entry.batch_limit != 0 && entry.batch_limit <= limit))
            return false;
        entry.batch_limit = limit;
        return true;
    });
}

bool queue_store::begin_landing(const std::string& id, const std::string& from) {
    return transition(id, [&](queue_entry& entry) {
        if (entry.state != queue_state::testing)
            return false;
        entry.state = queue_state::landing;
        entry.landing_from = from;
        return true;
    });
}

bool queue_store::finish_landing(const std::string& id, std::int64_t now) {
    return transition(id, [&](queue_entry& entry) {
        if (entry.state != queue_state::landing)
            return false;
        entry.state = queue_state::landed;
        entry.reason.clear();
        entry.ended_at = now;
        return true;
    });
}

bool queue_store::abort_landing(const std::string& id) {
    return transition(id, [&](queue_entry& entry) {
        if (entry.state != queue_state::landing)
            return false;
        entry.state = queue_state::testing;
        entry.landing_from.clear();
        return true;
    });
}

bool queue_store::eject(const std::string& id, const std::string& reason, std::int64_t now) {
    return transition(id, [&](queue_entry& entry) {
        if (entry.state != queue_state::waiting && entry.state != queue_state::testing)
            return false;
        entry.state = queue_state::ejected;
        entry.reason = reason;
        entry.ended_at = now;
        return true;
    });
}

bool queue_store::cancel(const std::string& id, const std::string& reason, std::int64_t now) {
    return transition(id, [&](queue_entry& entry) {
        if (entry.state != queue_state::waiting && entry.state != queue_state::testing)
            return false;
        entry.state = queue_state::cancelled;
        entry.reason = reason;
        entry.ended_at = now;
        return true;
    });
}

void queue_store::request_run() const {
    const auto path = dir_ + "/run-requested";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        throw file_error("cannot write " + path + ": " + std::strerror(errno), errno);
    ::close(fd);
}

bool queue_store::take_run_request() const {
    const auto path = dir_ + "/run-requested";
    if (::unlink(path.c_str()) == 0)
        return true;
    if (errno != ENOENT)
        throw file_error("cannot remove " + path + ": " + std::strerror(errno), errno);
    return false;
}

bool queue_store::run_requested() const {
    struct stat info {};
    return ::stat((dir_ + "/run-requested").c_str(), &info) == 0;
}

std::optional<runner_hold> queue_store::try_hold_runner() const {
    file_lock lock(dir_ + "/runner.lock", false);
    if (!lock.held())
        return std::nullopt;
    return runner_hold(lock.release());
}

} // namespace trunkgate
