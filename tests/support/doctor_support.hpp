#pragma once
// Helpers for the end-to-end tests of `trunkgate doctor`: running it with no system deliver
// timer in sight, and finding the line of one problem or note in its text output.
//
// Header-only: the test-support library lists its sources by name in tests/CMakeLists.txt, and
// these helpers serve only the doctor e2e files that include them.

#include <catch2/catch.hpp>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/sandbox.hpp"

namespace trunkgate::testing::doctoring {

/// Runs `trunkgate doctor ARGS` with no system deliver timer visible: the schedule paths are the
/// sandbox's own `schedule/` directory unless `env` says otherwise.
inline run_result doctor(const git_sandbox& sandbox, std::vector<std::string> args,
                         std::map<std::string, std::string> env = {}) {
    env.emplace("TRUNKGATE_DOCTOR_SCHEDULE_PATHS", sandbox.dir() + "/schedule");
    args.insert(args.begin(), "doctor");
    return sandbox.trunkgate(args, "", env);
}

inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

/// The output lines of problem (or note) `id`.
inline std::vector<std::string> lines_of_id(const run_result& result, const std::string& id) {
    std::vector<std::string> found;
    for (const auto& line : lines_of(result.out))
        if (line.find(": [" + id + "] ") != std::string::npos)
            found.push_back(line);
    return found;
}

/// The one line of problem `id` for `repository`, checked to be a whole problem line with a fix.
inline std::string problem_line(const run_result& result, const std::string& repository,
                                const std::string& id) {
    INFO(result.all());
    const auto found = lines_of_id(result, id);
    REQUIRE(found.size() == 1);
    CHECK_THAT(found[0], Catch::StartsWith(repository + ": [" + id + "] "));
    CHECK_THAT(found[0], Catch::Contains("; fix: "));
    return found[0];
}

} // namespace trunkgate::testing::doctoring
