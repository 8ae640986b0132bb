#include <catch2/catch.hpp>

#include <sstream>

#include "trunkgate/hook/hook_input.hpp"
#include "trunkgate/hook/proc_receive.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/exit_code.hpp"

using namespace trunkgate;
using namespace std::string_literals;

namespace {

const std::string zeros(40, '0');
const std::string a_id(40, 'a');

// git's side of one conversation, byte for byte as docs/queue-research (t5411) shows it.
struct conversation {
    std::string from_git;
    std::string to_git;
    proc_receive_request request;
};

conversation converse(const std::string& from_git) {
    std::istringstream in(from_git);
    std::ostringstream out;
    conversation talk{from_git, "", read_proc_receive_request(in, out)};
    talk.to_git = out.str();
    return talk;
}

std::string report_bytes(const std::vector<proc_receive_result>& results) {
    std::ostringstream out;
    write_proc_receive_report(out, results);
    return out.str();
}

void read_should_fail(const std::string& from_git, const std::string& says) {
    std::istringstream in(from_git);
    std::ostringstream out;
    CHECK_THROWS_AS(read_proc_receive_request(in, out), input_error);
    std::istringstream again(from_git);
    CHECK_THROWS_WITH(read_proc_receive_request(again, out), Catch::Contains(says));
}

policy queues_for(const std::vector<std::string>& targets) {
    policy rules_policy;
    for (const auto& target : targets) {
        queue_rule rule;
        rule.target = target;
        rules_policy.queues.push_back(rule);
    }
    return rules_policy;
}

} // namespace

TEST_CASE("proc-receive: the conversation of an --atomic push with -o, byte for byte",
          "[proc_receive]") {
    const auto talk = converse("0022version=1\0atomic push-options\n"s
                               "0000"
                               "0063" +
                               zeros + " " + a_id +
                               " refs/for/main"
                               "0000"
                               "000ftopic=fix-1"
                               "0000");

    CHECK(talk.to_git == "001bversion=1\0push-options\n0000"s);
    CHECK(talk.request.offer.version == 1);
    CHECK(talk.request.offer.atomic);
    CHECK(talk.request.offer.push_options);
    REQUIRE(talk.request.commands.size() == 1);
    CHECK(talk.request.commands[0].old_id == zeros);
    CHECK(talk.request.commands[0].new_id == a_id);
    CHECK(talk.request.commands[0].ref == "refs/for/main");
    CHECK(talk.request.push_options == std::vector<std::string>{"topic=fix-1"});
    CHECK(report_bytes({{"refs/for/main", true, ""}}) == "0015ok refs/for/main\n0000");
}

TEST_CASE("proc-receive: without push options git sends none and hears plain version=1",
          "[proc_receive]") {
    SECTION("no capabilities: no push-options section is read") {
        const auto talk = converse("000eversion=1\n"
                                   "0000"
                                   "0063" +
                                   zeros + " " + a_id + " refs/for/main" + "0000");
        CHECK(talk.to_git == "000eversion=1\n0000");
        CHECK_FALSE(talk.request.offer.atomic);
        CHECK_FALSE(talk.request.offer.push_options);
        CHECK(talk.request.commands.size() == 1);
        CHECK(talk.request.push_options.empty());
    }
    SECTION("the capabilities are a set: push-options first, atomic after") {
        const auto talk = converse("0022version=1\0push-options atomic\n"s
                                   "0000"
                                   "0000"
                                   "0000");
        CHECK(talk.request.offer.atomic);
        CHECK(talk.request.offer.push_options);
        CHECK(talk.request.commands.empty());
    }
    SECTION("push-options alone, with an empty option section and two commands") {
        const auto talk = converse("001bversion=1\0push-options\n"s
                                   "0000"
                                   "0063" +
                                   zeros + " " + a_id + " refs/for/main" + "0069" + zeros + " " +
                                   a_id + " refs/for/main/fix-1" + "0000" + "0000");
        CHECK(talk.to_git == "001bversion=1\0push-options\n0000"s);
        CHECK_FALSE(talk.request.offer.atomic);
        REQUIRE(talk.request.commands.size() == 2);
        CHECK(talk.request.commands[1].ref == "refs/for/main/fix-1");
        CHECK(talk.request.push_options.empty());
    }
}

TEST_CASE("proc-receive: the report is one ok or ng pkt-line per ref, then a flush",
          "[proc_receive]") {
    CHECK(report_bytes({{"refs/for/main", false, "conflicts with refs/heads/main"}}) ==
          "0034ng refs/for/main conflicts with refs/heads/main\n0000");
    CHECK(report_bytes({{"refs/for/main", true, ""}, {"refs/for/nope", false, "no\nqueue"}}) ==
          "0015ok refs/for/main\n001eng refs/for/nope no queue\n0000");
    CHECK(report_bytes({}) == "0000");
    CHECK_THROWS_AS(report_bytes({{"refs/for/main", false, std::string(max_pkt_line, 'x')}}),
                    input_error);
}

TEST_CASE("proc-receive: malformed input from git is an input_error", "[proc_receive]") {
    const std::string version = "000eversion=1\n0000";
    SECTION("bad lengths") {
        read_should_fail("0003", "bad pkt-line length 3");
        read_should_fail("0001", "bad pkt-line length 1");
        read_should_fail("fff1", "bad pkt-line length 65521");
        read_should_fail("00g0version=1\n", "not four hex digits");
        read_should_fail(version + "zzzz", "not four hex digits");
    }
    SECTION("an end of input: before the version, inside a line, before a flush") {
        read_should_fail("", "ended where a pkt-line length was expected");
        read_should_fail("00", "ended where a pkt-line length was expected");
        read_should_fail("000eversion", "ended inside a pkt-line of 14 bytes");
        read_should_fail("000eversion=1\n", "ended where a pkt-line length was expected");
        read_should_fail(version + "0063" + zeros + " " + a_id + " refs/for/main",
                         "ended where a pkt-line length was expected");
        read_should_fail("001bversion=1\0push-options\n0000"s + "0000" + "000ftopic=fix-1",
                         "ended where a pkt-line length was expected");
    }
    SECTION("a version other than 1, or none") {
        read_should_fail("000eversion=2\n0000", "proc-receive version '2' is not supported");
        read_should_fail("0000", "git sent no proc-receive version");
    }
    SECTION("a command of another shape") {
        read_should_fail(version + "0011refs/for/main" + "0000", "is not '<old> <new> <ref>'");
        read_should_fail(version + "0015" + "x y refs/for/main" + "0000", "bad object id");
    }
}

TEST_CASE("proc-receive: the branch of refs/for/<branch>/<topic> is the longest queued prefix",
          "[proc_receive]") {
    const auto rules_policy =
        queues_for({"refs/heads/main", "refs/heads/release", "refs/heads/release/2.x"});
    const auto at = [&](std::string_view ref) { return queue_destination_of(rules_policy, ref); };

    REQUIRE(at("refs/for/main"));
    CHECK(at("refs/for/main")->target == "refs/heads/main");
    CHECK(at("refs/for/main")->topic.empty());
    CHECK(at("refs/for/main/fix-1")->topic == "fix-1");
    CHECK(at("refs/for/main/team/fix-1")->topic == "team/fix-1");
    CHECK(at("refs/for/release/2.x")->target == "refs/heads/release/2.x");
    CHECK(at("refs/for/release/2.x")->topic.empty());
    CHECK(at("refs/for/release/2.x/hotfix")->target == "refs/heads/release/2.x");
    CHECK(at("refs/for/release/2.x/hotfix")->topic == "hotfix");
    CHECK(at("refs/for/release/3.x")->target == "refs/heads/release");
    CHECK(at("refs/for/release/3.x")->topic == "3.x");
    CHECK_FALSE(at("refs/for/nope"));
    CHECK_FALSE(at("refs/for/mainline"));
    CHECK_FALSE(at("refs/for/main/"));
    CHECK_FALSE(at("refs/for/"));
    CHECK_FALSE(at("refs/heads/main"));
}

TEST_CASE("proc-receive: the hook takes no arguments and leaves stdin to the conversation",
          "[proc_receive]") {
    std::ostringstream out, err;
    CHECK(read_conversing_hook_arguments("trunkgate-proc-receive", {}, out, err) == std::nullopt);
    CHECK(read_conversing_hook_arguments("trunkgate-proc-receive", {"--chain", "x"}, out, err) ==
          std::optional<int>(exit_usage));
    CHECK_THAT(err.str(), Catch::StartsWith("usage: trunkgate-proc-receive"));
    CHECK(read_conversing_hook_arguments("trunkgate-proc-receive", {"--version"}, out, err) ==
          std::optional<int>(exit_ok));
    CHECK_THAT(out.str(), Catch::StartsWith("trunkgate-proc-receive "));
}
