// report: the trunk health report (docs/report.md).

#include "trunkgate/cli/commands.hpp"
#include "trunkgate/cli/repositories.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/policy_lookup.hpp"
#include "trunkgate/report/render.hpp"
#include "trunkgate/util/files.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

constexpr std::int64_t default_days = 28;

// A bound of the period: parse_time's forms; a bare date given to --until means its end.
std::optional<std::int64_t> period_bound(const parsed_args& parsed, std::string_view name) {
    const auto text = parsed.option(name);
    if (!text)
        return std::nullopt;
    bool date_only = false;
    const auto time = parse_time(*text, &date_only);
    if (!time)
        throw usage_error(std::string(name) +
                          " takes YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or Unix seconds");
    return name == "--until" && date_only ? *time + 86400 : *time;
}

report_period period_of(const parsed_args& parsed) {
    report_period period;
    period.now = current_time();
    // By default the end of the current second: the log's times are whole seconds, so a push
    // made in the same second as the report is in the period.
    period.until = period_bound(parsed, "--until").value_or(period.now + 1);
    period.since = period_bound(parsed, "--since").value_or(period.until - default_days * 86400);
    if (period.since >= period.until)
        throw usage_error("--since must be before --until");
    return period;
}

std::string render(const report& figures, const std::string& format) {
    if (format == "json")
        return report_json(figures).dump(2, ' ', false,
                                         nlohmann::ordered_json::error_handler_t::replace) +
               "\n";
    if (format == "html")
        return report_html(figures);
    return report_text(figures);
}

void write_output(const std::string& path, const std::string& content) {
    const auto slash = path.rfind('/');
    const auto dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    write_durably(dir, path.substr(slash == std::string::npos ? 0 : slash + 1), content, 0644);
}

} // namespace

int cmd_report(const cli_io& streams, const parsed_args& parsed) {
    const auto format = parsed.option("--format").value_or("text");
    if (format != "text" && format != "json" && format != "html")
        throw usage_error("--format takes text, json or html");
    const auto output = parsed.option("--output");
    if (output && output->empty())
        throw usage_error("--output takes a file name");
    const auto period = period_of(parsed);
    const auto path = parsed.option("--repo").value_or(".");
    act_as_owner(streams, path, false);
    const auto repo = open_repository_at(path, true);
    const auto rules_policy = load_repository_policy(repo.get(), streams.env);
    const auto figures = build_report(repo.get(), git_dir(repo.get()), rules_policy, period);
    const auto text = render(figures, format);
    if (output)
        write_output(*output, text);
    else
        streams.out << text;
    return exit_ok;
}

} // namespace trunkgate
