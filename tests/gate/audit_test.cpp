// The audit log's records and how `trunkgate audit` pairs decisions with what landed.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support/sandbox.hpp"
#include "trunkgate/gate/audit.hpp"

using namespace trunkgate;

namespace {

const std::string zero(40, '0');
const std::string tip_a(40, 'a');
const std::string tip_b(40, 'b');

verdict accepted() {
    verdict result;
    result.policy_name = "trunkgate.toml";
    return result;
}

std::string decision(const std::string& time_text, const std::optional<std::string>& push,
                     const std::vector<ref_update>& refs, bool reject = false) {
    auto result = accepted();
    if (reject) {
        finding blocked;
        blocked.rule = "branch-name";
        blocked.severity = level::block;
        result.found.push_back(blocked);
    }
    auto line = nlohmann::json::parse(audit_line(0, push, "dev", refs, result));
    line["time"] = time_text;
    return line.dump();
}

std::string landed(const std::string& time_text, const std::optional<std::string>& push,
                   const std::vector<ref_update>& refs) {
    auto line = nlohmann::json::parse(landed_line(0, push, "dev", refs));
    line["time"] = time_text;
    return line.dump();
}

const ref_update ok{zero, tip_a, "refs/heads/feature/ok"};
const ref_update denied{zero, tip_a, "refs/heads/feature/denied"};

} // namespace

TEST_CASE("audit: decision and landed records have the documented fields", "[audit]") {
    const auto made =
        nlohmann::json::parse(audit_line(1796083200, std::string("p1"), "alice", {ok}, accepted()));
    CHECK(made["kind"] == "decision");
    CHECK(made["push"] == "p1");
    CHECK(made["time"] == "2026-12-01T00:00:00+00:00");
    CHECK(made["decision"] == "accept");
    const auto without = nlohmann::json::parse(audit_line(0, std::nullopt, "a", {ok}, accepted()));
    CHECK(without["push"].is_null());

    const auto moved =
        nlohmann::json::parse(landed_line(1796083200, std::string("p1"), "alice", {ok}));
    CHECK(moved == nlohmann::json::parse(
                       R"({"kind":"landed","time":"2026-12-01T00:00:00+00:00","push":"p1",)"
                       R"("identity":"alice","refs":[{"ref":"refs/heads/feature/ok","old":")" +
                       zero + R"(","new":")" + tip_a + R"("}]})"));
}

TEST_CASE("audit: pairing a decision with what landed", "[audit]") {
    SECTION("by push id: one ref of two landed") {
        const auto entries = pair_landed({decision("2026-12-01T10:00:00+00:00", "p1", {ok, denied}),
                                          landed("2026-12-01T10:00:01+00:00", "p1", {ok})},
                                         0);
        REQUIRE(entries.size() == 1);
        CHECK(entries[0].is_decision);
        REQUIRE(entries[0].landed);
        REQUIRE(entries[0].landed->size() == 1);
        CHECK(entries[0].landed->front().ref == "refs/heads/feature/ok");
    }
    SECTION("a decision nothing landed for says so; an old record does not know") {
        const std::string old_record =
            R"({"time":"2026-11-30T10:00:00+00:00","identity":"x","decision":"accept","refs":[],)"
            R"("findings":[],"bypass_reason":null,"policy":"p"})";
        const auto entries =
            pair_landed({old_record, decision("2026-12-01T10:00:00+00:00", "p1", {ok})}, 0);
        REQUIRE(entries.size() == 2);
        CHECK_FALSE(entries[0].landed);
        REQUIRE(entries[1].landed);
        CHECK(entries[1].landed->empty());
    }
    SECTION("interleaved pushes pair by id, not by order") {
        const auto entries = pair_landed({decision("2026-12-01T10:00:00+00:00", "p1", {ok}),
                                          decision("2026-12-01T10:00:00+00:00", "p2", {ok}),
                                          landed("2026-12-01T10:00:01+00:00", "p1", {ok})},
                                         0);
        REQUIRE(entries.size() == 2);
        CHECK(entries[0].landed->size() == 1);
        CHECK(entries[1].landed->empty());
    }
    SECTION("without push ids: the latest earlier accepted decision holding every landed line") {
        const ref_update other{tip_a, tip_b, "refs/heads/main"};
        const auto entries =
            pair_landed({decision("2026-12-01T10:00:00+00:00", std::nullopt, {ok, denied}),
                         decision("2026-12-01T10:00:01+00:00", std::nullopt, {other}),
                         decision("2026-12-01T10:00:02+00:00", std::nullopt, {ok}, true),
                         landed("2026-12-01T10:00:03+00:00", std::nullopt, {ok})},
                        0);
        REQUIRE(entries.size() == 3);
        CHECK(entries[0].landed->size() == 1); // the reject and the other ref do not qualify
        CHECK(entries[1].landed->empty());
        CHECK(entries[2].landed->empty());
    }
    SECTION("a landed record no decision claims is kept on its own") {
        const auto entries = pair_landed({landed("2026-12-01T10:00:03+00:00", "p9", {ok})}, 0);
        REQUIRE(entries.size() == 1);
        CHECK_FALSE(entries[0].is_decision);
    }
    SECTION("--since filters entries after pairing: a decision before it still gets its landing") {
        const auto entries = pair_landed({decision("2026-11-30T23:59:59+00:00", "p1", {ok}),
                                          landed("2026-12-01T00:00:00+00:00", "p1", {ok}),
                                          decision("2026-12-01T00:00:01+00:00", "p2", {ok})},
                                         1796083200);
        REQUIRE(entries.size() == 1);
        CHECK_THAT(entries[0].record, Catch::Contains("p2"));
    }
}

TEST_CASE("audit: a landed record is a record, an unknown kind is a damaged line", "[audit]") {
    trunkgate::testing::temp_dir repo;
    trunkgate::testing::write_file(
        repo / "trunkgate/audit.log",
        landed("2026-12-01T10:00:00+00:00", "p1", {ok}) + "\n" +
            R"({"kind":"later","time":"t","identity":"x","refs":[]})" + "\n" +
            R"({"kind":"landed","time":"t","identity":"x","push":7,"refs":[]})" + "\n");
    const auto log = read_audit(repo.path() + "/", 0);
    CHECK(log.records.size() == 1);
    REQUIRE(log.damaged.size() == 2);
    CHECK(log.damaged[0].problem == "'kind' is 'later', neither 'decision' nor 'landed'");
    CHECK(log.damaged[1].problem == "'push' is not a string");
}
