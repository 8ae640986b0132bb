// doctor: the setup problems of repositories, each with its fix.

#include <nlohmann/json.hpp>

#include <algorithm>

#include "trunkgate/admin/doctor.hpp"
#include "trunkgate/admin/fleet.hpp"
#include "trunkgate/admin/install.hpp"
#include "trunkgate/cli/commands.hpp"
#include "trunkgate/cli/repositories.hpp"
#include "trunkgate/util/process.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

std::string doctor_line(const doctor_report& report, const doctor_problem& problem) {
    return printable(report.repository) + ": [" + problem.id + "] " +
           (problem.note ? "note: " : "") + printable(problem.message) +
           (problem.fix.empty() ? "" : "; fix: " + printable(problem.fix));
}

} // namespace

int cmd_doctor(const cli_io& streams, const parsed_args& parsed) {
    const auto format = parsed.option("--format").value_or("text");
    require_text_or_json(format);
    doctor_options options;
    options.program_dir = executable_dir();
    options.templates_dir = default_templates_dir(options.program_dir);
    options.now = current_time();
    options.env = streams.env;
    if (const auto minutes = parsed.option("--backlog-minutes")) {
        if (minutes->empty() || minutes->size() > 9 ||
            minutes->find_first_not_of("0123456789") != std::string::npos ||
            std::stoll(*minutes) == 0)
            throw usage_error("--backlog-minutes takes a whole number of minutes, at least 1");
        options.backlog_seconds = std::stoll(*minutes) * 60;
    }
    // The seam for tests (and for hosts that keep units elsewhere): colon-separated.
    if (const auto paths = streams.env("TRUNKGATE_DOCTOR_SCHEDULE_PATHS")) {
        std::size_t start = 0;
        for (auto colon = paths->find(':');; colon = paths->find(':', start)) {
            const auto item =
                paths->substr(start, colon == std::string::npos ? colon : colon - start);
            if (!item.empty())
                options.schedule_paths.push_back(item);
            if (colon == std::string::npos)
                break;
            start = colon + 1;
        }
    } else {
        options.schedule_paths = default_schedule_paths();
    }
    std::vector<std::pair<std::string, bool>> repos; // path, found by --all-under
    for (const auto& path : parsed.positionals)
        repos.emplace_back(path, false);
    const auto roots = parsed.values("--all-under");
    for (const auto& root : roots) {
        std::vector<std::string> found;
        try {
            found = find_repositories_under(root);
        } catch (const input_error&) {
            throw usage_error("--all-under " + printable(root) + ": not a directory");
        }
        for (auto& path : found)
            repos.emplace_back(std::move(path), true);
    }
    if (repos.empty() && roots.empty())
        repos.emplace_back(".", false);
    std::vector<doctor_report> reports;
    for (const auto& [path, discovered] : repos)
        if (auto report = diagnose(path, options, discovered))
            reports.push_back(std::move(*report));
    const bool healthy = std::all_of(reports.begin(), reports.end(),
                                     [](const doctor_report& report) { return report.healthy(); });
    if (format == "json") {
        using json = nlohmann::ordered_json;
        auto listed = json::array();
        for (const auto& report : reports) {
            auto problems = json::array(), notes = json::array();
            for (const auto& problem : report.problems)
                (problem.note ? notes : problems)
                    .push_back({{"id", problem.id},
                                {"message", problem.message},
                                {"fix", problem.fix},
                                {"path", problem.path}});
            listed.push_back({{"repository", report.repository},
                              {"git_dir", report.git_dir},
                              {"owner", report.owner},
                              {"healthy", report.healthy()},
                              {"problems", std::move(problems)},
                              {"notes", std::move(notes)}});
        }
        streams.out << json{{"healthy", healthy}, {"repositories", std::move(listed)}}.dump(
                           -1, ' ', false, json::error_handler_t::replace)
                    << "\n";
    } else {
        for (const auto& report : reports) {
            for (const auto& problem : report.problems)
                streams.out << doctor_line(report, problem) << "\n";
            if (report.healthy())
                streams.out << printable(report.repository) << ": ok\n";
        }
        if (reports.empty())
            streams.err << "trunkgate: no repository with trunkgate found under "
                        << printable(join(roots, ", ")) << "\n";
    }
    return healthy ? exit_ok : exit_rejected;
}

} // namespace trunkgate
