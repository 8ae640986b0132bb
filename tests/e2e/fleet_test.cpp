// End-to-end: trunkgate on many repositories at once: wrappers written by an earlier install.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <map>
#include <string>
#include <vector>

#include "support/sandbox.hpp"

using namespace trunkgate::testing;
using Catch::Contains;

namespace {

// A hook that says it ran, naming `who`, and accepts.
void write_saying_hook(const std::string& path, const std::string& who, mode_t mode = 0755) {
    write_file(path, "#!/bin/sh\necho \"" + who + " ran\"\n");
    REQUIRE(::chmod(path.c_str(), mode) == 0);
}

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t count = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++count;
    return count;
}

} // namespace

TEST_CASE("fleet: a wrapper written by an earlier install keeps working until install rewrites it",
          "[e2e][fleet][upgrade]") {
    git_sandbox sandbox;
    const auto hooks = sandbox.server() + "/hooks/";
    write_saying_hook(hooks + "pre-receive", "the legacy pre-receive");
    sandbox.install();
    // The wrapper as the install of trunkgate 0.1.0 wrote it: one repository's --chain path.
    write_file(hooks + "pre-receive",
               "#!/bin/sh\n"
               "# trunkgate-managed hook: written by `trunkgate install`, rewritten by the next "
               "install.\n"
               "# A pre-receive hook that was here before trunkgate is kept as "
               "pre-receive.chained and runs\n"
               "# after trunkgate with the same input; either one rejecting rejects the push.\n"
               "exec '" +
                   bin_path("trunkgate-pre-receive") + "' --chain '" + hooks +
                   "pre-receive.chained'\n");
    sandbox.commit("feat: first");

    const auto old_wrapper = sandbox.push({"origin", "main"});
    CHECK(old_wrapper.status == 0);
    CHECK(count_of(old_wrapper.err, "remote: the legacy pre-receive ran") == 1);
    const auto old_refused = sandbox.push({"origin", "HEAD:refs/heads/scratch"});
    CHECK(old_refused.status != 0);
    CHECK_THAT(remote_text(old_refused), Contains("[branch-name]"));

    const auto reinstalled = sandbox.trunkgate({"install", sandbox.server()});
    CHECK_THAT(reinstalled.out, Contains(sandbox.server() + ": pre-receive: installed\n"));
    CHECK_THAT(read_file(hooks + "pre-receive"), Contains("--chain-repository"));
    CHECK(read_file(hooks + "pre-receive.chained") ==
          "#!/bin/sh\necho \"the legacy pre-receive ran\"\n");
    sandbox.commit("feat: second");
    const auto new_wrapper = sandbox.push({"origin", "main"});
    CHECK(new_wrapper.status == 0);
    // Its own hooks directory is both "next to the wrapper" and the repository's: run once.
    CHECK(count_of(new_wrapper.err, "remote: the legacy pre-receive ran") == 1);
}
