#include <catch2/catch.hpp>

#include <sstream>

#include "trunkgate/hook/hook_input.hpp"
#include "trunkgate/util/exit_code.hpp"
#include "trunkgate/util/version.hpp"

using namespace trunkgate;

namespace {

struct started {
    hook_input input;
    std::string out;
    std::string err;
    std::string left_on_stdin;
};

started start(const std::vector<std::string>& args, const std::string& stdin_text) {
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    auto input = read_hook_input("trunkgate-pre-receive", args, in, out, err);
    std::string left(std::istreambuf_iterator<char>(in), {});
    return {std::move(input), out.str(), err.str(), left};
}

} // namespace

TEST_CASE("hook input: both hooks read their command line and stdin one way", "[hook_input]") {
    const std::string lines = "0000000000000000000000000000000000000000 "
                              "1111111111111111111111111111111111111111 refs/heads/main\n";
    SECTION("the update lines arrive whole, the chain as given") {
        const auto read = start({"--chain", "/h/pre-receive.chained", "--chain-repository"}, lines);
        CHECK_FALSE(read.input.exit_now);
        CHECK(read.input.update_lines == lines);
        CHECK(read.input.chain.chained_hook ==
              std::optional<std::string>("/h/pre-receive.chained"));
        CHECK(read.input.chain.repository_hook);
        CHECK(read.out.empty());
        CHECK(read.err.empty());
    }
    SECTION("--version answers and leaves stdin unread") {
        const auto read = start({"--version"}, lines);
        CHECK(read.input.exit_now == std::optional<int>(exit_ok));
        CHECK(read.out == "trunkgate-pre-receive " + std::string(trunkgate_version()) + "\n");
        CHECK(read.left_on_stdin == lines);
    }
    SECTION("a wrong command line prints the usage and exits 2, stdin unread") {
        for (const std::vector<std::string>& args :
             {std::vector<std::string>{"--bogus"}, {"--chain"}, {"--version", "--chain", "x"}}) {
            const auto read = start(args, lines);
            CHECK(read.input.exit_now == std::optional<int>(exit_usage));
            CHECK(read.err == "usage: trunkgate-pre-receive [--chain HOOK] [--chain-repository] < "
                              "update lines\n");
            CHECK(read.left_on_stdin == lines);
        }
    }
}
