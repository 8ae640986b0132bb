#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "trunkgate/cli/cli.hpp"
#include "trunkgate/cli/command.hpp"

using namespace trunkgate;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

struct ran {
    int status;
    std::string out;
    std::string err;
};

ran run(const std::vector<std::string>& args) {
    std::istringstream in;
    std::ostringstream out, err;
    const env_lookup no_env = [](const std::string&) { return std::optional<std::string>(); };
    const int status = run_cli(args, in, out, err, no_env);
    return {status, out.str(), err.str()};
}

const std::vector<option_spec> options{{"--repo", true}, {"--force", false}};

} // namespace

TEST_CASE("cli: the command table makes the help", "[cli]") {
    std::set<std::string_view> names;
    const auto general = general_help();
    for (const auto& row : commands()) {
        INFO(row.name);
        CHECK(names.insert(row.name).second);
        CHECK(row.run != nullptr);
        REQUIRE_FALSE(row.usage.empty());
        CHECK(find_command(row.name) == &row);
        // Every usage line starts with the command's name, is listed in `trunkgate help`, and
        // opens the command's own help.
        const auto own = command_help(row);
        CHECK_THAT(own, StartsWith("usage: trunkgate " + std::string(row.name)));
        for (const auto& line : row.usage) {
            CHECK(line.synopsis.substr(0, row.name.size()) == row.name);
            const auto first_line = std::string(line.synopsis.substr(0, line.synopsis.find('\n')));
            CHECK_THAT(general, Contains("  " + first_line));
            CHECK_THAT(own, Contains(first_line));
        }
        CHECK(run({std::string(row.name), "--help"}).out == own);
        CHECK(run({"help", std::string(row.name)}).out == own);
    }
    CHECK(find_command("no-such-command") == nullptr);
    CHECK(run({}).out == general);
    CHECK(run({"--help"}).out == general);
}

TEST_CASE("cli: unknown commands and options are usage errors", "[cli]") {
    const auto unknown = run({"frobnicate"});
    CHECK(unknown.status == exit_usage);
    CHECK(unknown.err == "trunkgate: unknown command 'frobnicate' (see trunkgate help)\n");
    const auto no_help = run({"help", "frobnicate"});
    CHECK(no_help.status == exit_usage);
    CHECK(no_help.err == "trunkgate: no command 'frobnicate'\n");
    CHECK(no_help.out == general_help());
    const auto bad_option = run({"rules", "--repo", "x"});
    CHECK(bad_option.status == exit_usage);
    CHECK(bad_option.err == "trunkgate: unknown option --repo\n");
}

TEST_CASE("cli: options parse as the row says", "[cli]") {
    SECTION("values after a space or an equals sign; the last one counts") {
        const auto parsed =
            parse_command_args({"--repo", "a", "x", "--repo=b", "--force"}, options);
        CHECK(parsed.values("--repo") == std::vector<std::string>{"a", "b"});
        CHECK(parsed.option("--repo") == std::optional<std::string>("b"));
        CHECK(parsed.has("--force"));
        CHECK(parsed.positionals == std::vector<std::string>{"x"});
        CHECK_FALSE(parsed.help);
    }
    SECTION("-- ends the options; --help and -h ask for help") {
        const auto parsed = parse_command_args({"-h", "--", "--repo", "-"}, options);
        CHECK(parsed.help);
        CHECK(parsed.positionals == std::vector<std::string>{"--repo", "-"});
        CHECK_FALSE(parsed.has("--repo"));
    }
    SECTION("what a row does not allow") {
        CHECK_THROWS_WITH(parse_command_args({"--other"}, options), "unknown option --other");
        CHECK_THROWS_WITH(parse_command_args({"--force=yes"}, options), "--force takes no value");
        CHECK_THROWS_WITH(parse_command_args({"--repo"}, options), "--repo needs a value");
        CHECK_THROWS_AS(parse_command_args({"--repo"}, options), usage_error);
    }
}

TEST_CASE("cli: docs/cli.md shows the general help as the table makes it", "[cli]") {
    std::ifstream file(std::string(TRUNKGATE_SOURCE_DIR) + "/docs/cli.md");
    const std::string text(std::istreambuf_iterator<char>(file), {});
    const std::string marker = "`trunkgate` alone prints the general help:\n\n```\n";
    const auto start = text.find(marker);
    REQUIRE(start != std::string::npos);
    const auto from = start + marker.size();
    const auto end = text.find("```\n", from);
    REQUIRE(end != std::string::npos);
    CHECK(text.substr(from, end - from) == general_help());
}
