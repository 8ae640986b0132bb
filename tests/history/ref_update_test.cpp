#include <catch2/catch.hpp>

#include <sstream>

#include "trunkgate/history/ref_update.hpp"
#include "trunkgate/util/error.hpp"

using namespace trunkgate;

namespace {
const std::string zero(40, '0');
const std::string a(40, 'a');
const std::string b(40, 'b');
} // namespace

TEST_CASE("ref_update: parses git's update lines", "[ref_update]") {
    SECTION("an update, a create and a delete") {
        std::istringstream in(a + " " + b + " refs/heads/main\n" + zero + " " + b +
                              " refs/heads/feature/x\n" + a + " " + zero + " refs/tags/v1\n");
        const auto updates = parse_updates(in);
        REQUIRE(updates.size() == 3);
        CHECK(updates[0].kind() == update_kind::update);
        CHECK(updates[0].ref == "refs/heads/main");
        CHECK(updates[1].kind() == update_kind::create);
        CHECK(updates[1].short_name() == "feature/x");
        CHECK(updates[2].kind() == update_kind::remove);
        CHECK(updates[2].is_tag());
    }
    SECTION("SHA-256 lengths, upper case, CRLF and blank lines") {
        const std::string long_a(64, 'A'), long_b(64, 'b');
        std::istringstream in("\n" + long_a + " " + long_b + " refs/heads/main\r\n\n");
        const auto updates = parse_updates(in);
        REQUIRE(updates.size() == 1);
        CHECK(updates[0].old_hex == std::string(64, 'a'));
    }
    SECTION("ref names keep spaces and odd bytes faithfully") {
        const auto update = parse_update_line(a + " " + b + " refs/heads/we ird\xff");
        CHECK(update.ref == "refs/heads/we ird\xff");
    }
    SECTION("a 2,000-byte ref name") {
        const std::string name = "refs/heads/" + std::string(2000, 'x');
        CHECK(parse_update_line(a + " " + b + " " + name).ref == name);
    }
    SECTION("empty input gives no updates") {
        std::istringstream in("");
        CHECK(parse_updates(in).empty());
    }
}

TEST_CASE("ref_update: malformed lines are errors naming the line", "[ref_update]") {
    SECTION("too few fields") {
        std::istringstream in(a + " " + b + " refs/heads/main\n" + a + " refs/heads/x\n");
        CHECK_THROWS_WITH(parse_updates(in), Catch::StartsWith("update line 2: expected"));
    }
    SECTION("not hex") {
        CHECK_THROWS_AS(parse_update_line(std::string(40, 'g') + " " + b + " refs/heads/x"),
                        input_error);
    }
    SECTION("wrong length") {
        CHECK_THROWS_WITH(parse_update_line("abc " + b + " refs/heads/x"),
                          Catch::Contains("is not an object id"));
    }
    SECTION("mixed lengths") {
        CHECK_THROWS_WITH(parse_update_line(a + " " + std::string(64, 'b') + " refs/heads/x"),
                          Catch::Contains("differ in length"));
    }
    SECTION("both ids zero") {
        CHECK_THROWS_WITH(parse_update_line(zero + " " + zero + " refs/heads/x"),
                          Catch::Contains("both object ids are zero"));
    }
    SECTION("missing ref name") {
        CHECK_THROWS_WITH(parse_update_line(a + " " + b + " "),
                          Catch::Contains("missing ref name"));
    }
    SECTION("arguments must come in triples") {
        CHECK_THROWS_WITH(updates_from_args({a, b}), Catch::Contains("OLD NEW REF triples"));
    }
}
