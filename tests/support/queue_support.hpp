#pragma once
// Helpers for the end-to-end tests of the merge queue (queue_test.cpp, queue_push_test.cpp): the
// policy they share and a server whose main has a first commit, with trunkgate installed.
//
// Header-only, as gates_support.hpp: the test-support library lists its sources by name.

#include <catch2/catch.hpp>

#include <string>

#include "support/sandbox.hpp"

namespace trunkgate::testing::queues {

/// main protected by the check "build" and queued with rebase; release-manager may bypass the
/// gate and ask for priority. No [branches]: the gate has nothing to say about refs/for/*. The
/// runner is manual: these tests start `queue run` themselves and read what it printed.
inline const std::string queue_policy = R"(
[[protect]]
refs = ["refs/heads/main"]
required_checks = ["build"]

[[queue]]
target = "refs/heads/main"
method = "rebase"
max_parallel = 4
priority = ["release-manager"]
runner = "manual"

[bypass]
identities = ["release-manager"]
)";

/// Pushes a first commit to the server's main, then installs trunkgate with `policy`.
inline void start_queue(git_sandbox& sandbox, const std::string& policy) {
    sandbox.commit("initial", "README");
    REQUIRE(sandbox.push({"origin", "main"}).status == 0);
    sandbox.install(policy);
}

} // namespace trunkgate::testing::queues
