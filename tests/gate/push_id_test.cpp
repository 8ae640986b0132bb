// The push id: both hooks of one push find the same `git receive-pack` among their ancestors.
#include <catch2/catch.hpp>

#include <string>

#include "support/sandbox.hpp"
#include "trunkgate/gate/push_id.hpp"

using namespace trunkgate;
using trunkgate::testing::temp_dir;
using trunkgate::testing::write_file;

namespace {

// A process in a fake /proc: its command line (NUL-separated) and a stat line with its parent
// and start time (field 22).
void fake_process(const temp_dir& proc, long pid, const std::string& name, long parent, long start,
                  const std::string& cmdline) {
    std::string stat = std::to_string(pid) + " (" + name + ") S " + std::to_string(parent);
    for (int field = 5; field <= 21; ++field)
        stat += " 0";
    stat += " " + std::to_string(start) + " 0 0\n";
    write_file(proc / (std::to_string(pid) + "/stat"), stat);
    write_file(proc / (std::to_string(pid) + "/cmdline"), cmdline);
}

const std::string nul(1, '\0');

} // namespace

TEST_CASE("push id: the hooks of one push share it, other pushes and processes differ",
          "[push_id]") {
    temp_dir proc;
    write_file(proc / "sys/kernel/random/boot_id", "6f1b9a52-0c43-4a0e-9d6e-0c1f0a7f6a11\n");
    // git push -> sh -c "git-receive-pack '../s.git'" -> git-receive-pack -> the hooks
    fake_process(proc, 100, "git", 1, 500, "git" + nul + "push" + nul);
    fake_process(proc, 101, "sh", 100, 501,
                 "/bin/sh" + nul + "-c" + nul + "git-receive-pack '../s.git'" + nul);
    fake_process(proc, 102, "git-receive-pac", 101, 502,
                 "git-receive-pack" + nul + "../s.git" + nul);
    fake_process(proc, 103, "trunkgate-pre-r", 102, 510, "trunkgate-pre-receive" + nul);
    // A wrapper that does not exec: the post-receive hook is a grandchild.
    fake_process(proc, 104, "post-receive", 102, 520, "/bin/sh" + nul + "hooks/post-receive" + nul);
    fake_process(proc, 105, "trunkgate-post-", 104, 521, "trunkgate-post-receive" + nul);

    const auto pre = push_id_from(proc.path(), 103);
    const auto post = push_id_from(proc.path(), 105);
    REQUIRE(pre);
    CHECK(pre->size() == 32);
    CHECK(pre->find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(post == pre);

    SECTION("a receive-pack reusing the pid later is another push") {
        fake_process(proc, 102, "git-receive-pac", 101, 9000,
                     "git-receive-pack" + nul + "../s.git" + nul);
        CHECK(push_id_from(proc.path(), 103) != pre);
    }
    SECTION("after a reboot the same pid and start time are another push") {
        write_file(proc / "sys/kernel/random/boot_id", "0d5c3c43-5d2b-4a4b-8a4f-2b1e6d7c9e02\n");
        CHECK(push_id_from(proc.path(), 103) != pre);
    }
    SECTION("`git receive-pack --stateless-rpc` (git-http-backend, git shell) counts too") {
        fake_process(proc, 102, "git", 101, 502,
                     "/usr/bin/git" + nul + "receive-pack" + nul + "--stateless-rpc" + nul + "." +
                         nul);
        CHECK(push_id_from(proc.path(), 103));
    }
    SECTION("without a receive-pack among the ancestors there is none") {
        CHECK_FALSE(push_id_from(proc.path(), 101));
        CHECK_FALSE(push_id_from(proc.path(), 999)); // no such process
    }
    SECTION("a command name with spaces and parentheses does not shift the fields") {
        fake_process(proc, 104, "a) b (c", 102, 520, "odd" + nul);
        CHECK(push_id_from(proc.path(), 105) == pre);
    }
}

TEST_CASE("push id: this test process is no hook of a push", "[push_id]") {
    CHECK_FALSE(current_push_id());
}
