#include "trunkgate/admin/doctor_checks.hpp"

#include <algorithm>
#include <sys/stat.h>

#include "trunkgate/util/files.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

// ---------------------------------------------------------------------------------------------
// The deliver timer: what docs/events.md recommends, the systemd units of templates/systemd/
// (a .service running `trunkgate deliver`, started by an enabled .timer) or a cron line.

namespace {

// The `trunkgate deliver` command on `line`, from the word after "deliver"; nullopt when the
// line runs none.
std::optional<std::vector<std::string>> deliver_arguments(const std::string& line) {
    auto text = line;
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos || text[first] == '#' || text[first] == ';')
        return std::nullopt;
    const auto words = shell_words(text);
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
        auto program =
            words[i].substr(words[i].rfind('=') == std::string::npos ? 0 : words[i].rfind('=') + 1);
        program.erase(0, program.find_first_not_of("-@+!:"));
        const auto slash = program.rfind('/');
        if ((slash == std::string::npos ? program : program.substr(slash + 1)) == "trunkgate" &&
            words[i + 1] == "deliver")
            return std::vector<std::string>(words.begin() + static_cast<long>(i) + 2, words.end());
    }
    return std::nullopt;
}

// True when `trunkgate deliver ARGUMENTS` serves the repository at `git_dir` (or says nothing
// of where: the current directory, which cannot be judged from here).
bool serves(const std::vector<std::string>& arguments, const std::string& git_dir) {
    const auto repository = real_path(without_slash(git_dir));
    bool named = false;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        std::string flag = arguments[i], value;
        if (const auto equals = flag.find('='); equals != std::string::npos) {
            value = flag.substr(equals + 1);
            flag.erase(equals);
        } else if (i + 1 < arguments.size()) {
            value = arguments[i + 1];
        }
        if (flag != "--all-under" && flag != "--repo")
            continue;
        named = true;
        const auto where = without_slash(real_path(value));
        if (flag == "--all-under" && (repository == where || repository.rfind(where + "/", 0) == 0))
            return true;
        if (flag == "--repo" && (repository == where || repository == where + "/.git"))
            return true;
    }
    return !named;
}

struct schedule_file {
    std::string path;
    std::string name; // base name
    std::string text;
};

struct deliver_source {
    std::string where; // the unit or crontab
    std::string line;
    std::vector<std::string> arguments;
};

} // namespace

void check_deliver_timer(examination& exam) {
    if (!exam.rules_policy || exam.rules_policy->events.endpoints.empty())
        return;
    std::vector<schedule_file> files;
    std::vector<std::string> enabled; // timers linked from some *.wants/
    std::vector<std::string> seen;
    const auto take = [&](const std::string& path) {
        const auto real = real_path(path);
        if (std::find(seen.begin(), seen.end(), real) != seen.end())
            return;
        seen.push_back(real);
        if (const auto text = read_file(path))
            files.push_back({path, path.substr(path.rfind('/') + 1), *text});
    };
    for (const auto& place : exam.options.schedule_paths) {
        if (!is_directory(place)) {
            take(place);
            continue;
        }
        for (const auto& name : names_in(place)) {
            const auto path = place + "/" + name;
            if (ends_with(name, ".wants") && is_directory(path)) {
                for (const auto& linked : names_in(path))
                    enabled.push_back(linked);
                continue;
            }
            struct stat info {};
            if (name.front() != '.' && ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode))
                take(path);
        }
    }
    std::vector<deliver_source> running; // started by something
    std::vector<std::string> dormant;    // why a unit that would deliver does not run
    for (const auto& file : files) {
        if (ends_with(file.name, ".timer"))
            continue;
        const bool service = ends_with(file.name, ".service");
        for (const auto& line : lines_of(file.text)) {
            auto arguments = deliver_arguments(line);
            if (!arguments)
                continue;
            if (!service) {
                running.push_back({file.path, line, *arguments});
                continue;
            }
            const auto stem = file.name.substr(0, file.name.size() - 8);
            std::string timer;
            for (const auto& other : files)
                if (ends_with(other.name, ".timer") &&
                    (other.name == stem + ".timer" ||
                     other.text.find("Unit=" + file.name) != std::string::npos))
                    timer = other.name;
            if (timer.empty())
                dormant.push_back(file.path + " runs trunkgate deliver, but no .timer starts it");
            else if (std::find(enabled.begin(), enabled.end(), timer) == enabled.end())
                dormant.push_back(timer + " (for " + file.path + ") is not enabled");
            else
                running.push_back({file.path, line, *arguments});
        }
    }
    const auto units = real_path(exam.options.templates_dir) + "/systemd";
    if (running.empty()) {
        exam.add("deliver-timer-missing",
                 "[[events.endpoint]] is set, but nothing runs `trunkgate deliver` (" +
                     (dormant.empty() ? "no systemd timer or cron job in " +
                                            join(exam.options.schedule_paths, ", ")
                                      : join(dormant, "; ")) +
                     "): an event the post-receive hook cannot send at once waits until the "
                     "next push",
                 dormant.empty()
                     ? exam.as_root("cp " + shell_quote(units + "/trunkgate-deliver.service") +
                                    " " + shell_quote(units + "/trunkgate-deliver.timer") +
                                    " /etc/systemd/system/") +
                           " (set User=" + exam.owner.name + " and ExecStart=" +
                           exam.options.program_dir + "/trunkgate deliver --all-under " +
                           real_path(without_slash(exam.git_dir) + "/..") +
                           " in the .service), then " + exam.as_root("systemctl daemon-reload") +
                           " && " + exam.as_root("systemctl enable --now trunkgate-deliver.timer")
                     : exam.as_root("systemctl enable --now trunkgate-deliver.timer") +
                           " (or the timer named above)",
                 "");
        return;
    }
    if (std::any_of(running.begin(), running.end(), [&](const deliver_source& source) {
            return serves(source.arguments, exam.git_dir);
        }))
        return;
    const auto& source = running.front();
    exam.add("deliver-timer-elsewhere",
             "trunkgate deliver runs from " + source.where + " (" + source.line +
                 "), which does not serve " + without_slash(exam.git_dir),
             "add the repository to that line: " + source.line + " --all-under " +
                 shell_quote(real_path(without_slash(exam.git_dir) + "/..")),
             source.where);
}

} // namespace trunkgate
