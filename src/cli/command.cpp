#include "trunkgate/cli/command.hpp"

#include <algorithm>

#include "trunkgate/util/text.hpp"

namespace trunkgate {

namespace {

// Where summaries start in `trunkgate help`'s command list.
constexpr std::size_t summary_column = 46;

// `text` with each '\n' replaced by `separator`.
std::string replace_newlines(std::string_view text, std::string_view separator) {
    std::string replaced;
    for (const char c : text)
        replaced += c == '\n' ? std::string(separator) : std::string(1, c);
    return replaced;
}

// One entry of the command list: the synopsis, and its summary at summary_column (on the next
// line when the synopsis reaches it).
std::string list_entry(const usage_line& line) {
    std::string entry = "  " + replace_newlines(line.synopsis, " ");
    if (line.summary.empty())
        return entry + "\n";
    const std::string indent(summary_column, ' ');
    entry += entry.size() < summary_column ? std::string(summary_column - entry.size(), ' ')
                                           : "\n" + indent;
    return entry + replace_newlines(line.summary, "\n" + indent) + "\n";
}

} // namespace

std::optional<std::string> parsed_args::option(std::string_view name) const {
    const auto found = options.find(name);
    if (found == options.end())
        return std::nullopt;
    return found->second.back();
}

std::vector<std::string> parsed_args::values(std::string_view name) const {
    const auto found = options.find(name);
    return found == options.end() ? std::vector<std::string>{} : found->second;
}

const command* find_command(std::string_view name) {
    const auto& table = commands();
    const auto found = std::find_if(table.begin(), table.end(),
                                    [&](const command& row) { return row.name == name; });
    return found == table.end() ? nullptr : &*found;
}

parsed_args parse_command_args(const std::vector<std::string>& args,
                               const std::vector<option_spec>& options) {
    parsed_args parsed;
    bool options_done = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& arg = args[i];
        if (options_done || arg.size() < 2 || arg[0] != '-') {
            parsed.positionals.push_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        if (arg == "--help" || arg == "-h") {
            parsed.help = true;
            continue;
        }
        const auto equals = arg.find('=');
        const auto name = arg.substr(0, equals);
        const auto spec =
            std::find_if(options.begin(), options.end(),
                         [&](const option_spec& known) { return known.name == name; });
        if (spec == options.end())
            throw usage_error("unknown option " + printable(name));
        if (!spec->takes_value) {
            if (equals != std::string::npos)
                throw usage_error(name + " takes no value");
            parsed.options[name].push_back("");
        } else if (equals != std::string::npos) {
            parsed.options[name].push_back(arg.substr(equals + 1));
        } else if (i + 1 < args.size()) {
            parsed.options[name].push_back(args[++i]);
        } else {
            throw usage_error(name + " needs a value");
        }
    }
    return parsed;
}

std::string general_help() {
    std::string text = "usage: trunkgate <command> [options]\n\nCommands:\n";
    for (const auto& row : commands())
        for (const auto& line : row.usage)
            text += list_entry(line);
    return text + "\nExit codes: 0 ok, 1 rejected, 2 usage error, 3 configuration or internal "
                  "error.\nDocumentation: docs/cli.md, docs/policy.md, docs/rules.md.\n";
}

std::string command_help(const command& row) {
    std::string text;
    for (const auto& line : row.usage) {
        const std::string lead = text.empty() ? "usage: trunkgate " : "       trunkgate ";
        // A broken synopsis continues under the command's first argument.
        const auto first_word = line.synopsis.substr(0, line.synopsis.find(' ') + 1);
        const std::string indent(lead.size() + first_word.size(), ' ');
        text += lead + replace_newlines(line.synopsis, "\n" + indent) + "\n";
    }
    return row.help.empty() ? text : text + "\n" + std::string(row.help);
}

void require_text_or_json(const std::string& format) {
    if (format != "text" && format != "json")
        throw usage_error("--format is text or json");
}

} // namespace trunkgate
