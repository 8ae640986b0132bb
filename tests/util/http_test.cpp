#include <catch2/catch.hpp>

#include "support/gates_support.hpp"
#include "trunkgate/util/http.hpp"

using namespace trunkgate;

TEST_CASE("http: redact_url hides credentials, query values and the fragment", "[http]") {
    CHECK(redact_url("https://ci.example/hook") == "https://ci.example/hook");
    CHECK(redact_url("https://u:p@ci.example:8443/hook") == "https://***@ci.example:8443/hook");
    CHECK(redact_url("https://ci.example/hook?token=abc") == "https://ci.example/hook?token=***");
    CHECK(redact_url("https://ci.example/h?a=1&token=abc&flag") ==
          "https://ci.example/h?a=***&token=***&flag");
    CHECK(redact_url("https://ci.example?token=abc#frag") == "https://ci.example?token=***#***");
    CHECK(redact_url("https://u:p@ci.example/a@b?x=@") == "https://***@ci.example/a@b?x=***");
    CHECK(redact_url("not a url?token=x") == "not a url?token=x");
}

TEST_CASE("http: url_problem asks libcurl's parser", "[http]") {
    CHECK_FALSE(url_problem("https://ci.example/hook?token=x", false));
    CHECK_FALSE(url_problem("http://127.0.0.1:9000/hooks/push", false));
    CHECK_FALSE(url_problem("http://[::1]:9000/", false));
    CHECK(url_problem("https://", false));
    CHECK(url_problem("https://ci.example:70000/", false));
    CHECK(url_problem("file:///etc/passwd", false));
    CHECK(url_problem("https://ci.example/a\nb", false));
    CHECK(*url_problem("https://u:p@ci.example/", false) ==
          "it holds credentials (user:password@), which would be written to disk");
    CHECK_FALSE(url_problem("https://u:p@ci.example/", true));
}

TEST_CASE("http: Link headers as GitHub and RFC 8288 write them", "[http]") {
    const std::string base = "https://api.github.com/repos/o/r/commits/abc/status?per_page=30";
    SECTION("GitHub's own header: next among prev, last and first") {
        CHECK(next_link("<https://api.github.com/repositories/1/commits/abc/status?per_page=30&"
                        "page=2>; rel=\"next\", <https://api.github.com/repositories/1/commits/"
                        "abc/status?per_page=30&page=2>; rel=\"last\"",
                        base) == "https://api.github.com/repositories/1/commits/abc/status?"
                                 "per_page=30&page=2");
        CHECK(next_link("<https://h/x?page=1>; rel=\"prev\", <https://h/x?page=1>; rel=\"first\", "
                        "<https://h/x?page=3>; rel=\"next\"",
                        base) == "https://h/x?page=3");
    }
    SECTION("no next: the last page") {
        CHECK_FALSE(next_link("", base));
        CHECK_FALSE(next_link("<https://h/x?page=1>; rel=\"prev\", <https://h/x?page=1>; "
                              "rel=\"first\"",
                              base));
        CHECK_FALSE(next_link("<https://h/x?page=2>; rel=\"nextpage\"", base));
        CHECK_FALSE(next_link("<https://h/x?page=2>; title=\"next\"", base));
    }
    SECTION("bare and upper-case rel, rel lists, extra parameters, spacing") {
        CHECK(next_link("<https://h/x?page=2>;rel=next", base) == "https://h/x?page=2");
        CHECK(next_link("<https://h/x?page=2> ; REL = \"Next\"", base) == "https://h/x?page=2");
        CHECK(next_link("<https://h/x?page=9>; rel=\"last next\"; type=\"application/json\"",
                        base) == "https://h/x?page=9");
        CHECK(next_link("<https://h/a>; title=\"a, b; rel=next\"; rel=\"prev\", "
                        "<https://h/b>; title*=UTF-8'en'x; rel=\"next\"",
                        base) == "https://h/b");
        // RFC 8288: only the first rel of a link counts.
        CHECK_FALSE(next_link("<https://h/a>; rel=\"prev\"; rel=\"next\"", base));
    }
    SECTION("a relative target is resolved against the page that carried it") {
        CHECK(next_link("</repos/o/r/commits/abc/status?page=2>; rel=\"next\"", base) ==
              "https://api.github.com/repos/o/r/commits/abc/status?page=2");
    }
    SECTION("damaged headers end without looping") {
        CHECK_FALSE(next_link("<https://h/x?page=2; rel=\"next\"", base));
        CHECK_FALSE(next_link(";;;,,, = \"", base));
        CHECK_FALSE(next_link("<https://h/x>; rel=\"nex", base));
    }
}

TEST_CASE("http: query parameters and origins", "[http]") {
    CHECK(with_query_parameter("https://h/s", "per_page", "100") == "https://h/s?per_page=100");
    CHECK(with_query_parameter("https://h/s?ref=x", "per_page", "100") ==
          "https://h/s?ref=x&per_page=100");
    CHECK(with_query_parameter("https://h/s?", "per_page", "100") == "https://h/s?per_page=100");
    CHECK(with_query_parameter("https://h/s?a=1&", "per_page", "100") ==
          "https://h/s?a=1&per_page=100");
    CHECK(with_query_parameter("https://h/s#f", "per_page", "100") == "https://h/s?per_page=100#f");
    CHECK(with_query_parameter("https://h/s?per_page=30", "per_page", "100") ==
          "https://h/s?per_page=30");
    CHECK(with_query_parameter("https://h/s?xper_page=30", "per_page", "100") ==
          "https://h/s?xper_page=30&per_page=100");

    CHECK(url_origin("https://API.github.com/repos") == "https://api.github.com:443");
    CHECK(url_origin("https://api.github.com:443/x") == url_origin("https://api.github.com/y"));
    CHECK(url_origin("http://127.0.0.1:8080/a") == "http://127.0.0.1:8080");
    CHECK(url_origin("http://127.0.0.1:8080/a") != url_origin("http://127.0.0.1:8081/a"));
    CHECK(url_origin("http://h/a") != url_origin("https://h/a"));
    CHECK_FALSE(url_origin("not a url"));
}

TEST_CASE("http: the curl client keeps Link headers and never follows a redirect itself",
          "[http]") {
    using trunkgate::testing::gates::status_answer;
    using trunkgate::testing::gates::status_api;
    status_api api;
    api.route([&](const trunkgate::testing::gates::status_request& request) {
        if (request.target == "/moved")
            return status_answer{301,
                                 "{}",
                                 std::chrono::milliseconds(0),
                                 false,
                                 {"Location: /repositories/42/status?page=1"}};
        return status_answer{200,
                             "{}",
                             std::chrono::milliseconds(0),
                             false,
                             {"X-Total-Count: 40",
                              "Link: <" + api.origin() + "/p?page=2>; rel=\"next\"",
                              "link: <" + api.origin() + "/p?page=9>; rel=\"last\""}};
    });
    const auto client = make_curl_client();
    http_request request;
    request.url = api.origin() + "/p";
    auto response = client->get(request);
    CHECK(response.status == 200);
    CHECK(response.link == "<" + api.origin() + "/p?page=2>; rel=\"next\", <" + api.origin() +
                               "/p?page=9>; rel=\"last\"");
    CHECK(next_link(response.link, request.url) == api.origin() + "/p?page=2");
    CHECK(response.redirect_url.empty());
    CHECK(response.total_count == "40");

    request.url = api.origin() + "/moved";
    response = client->get(request);
    CHECK(response.status == 301);
    CHECK(response.link.empty());
    CHECK(response.redirect_url == api.origin() + "/repositories/42/status?page=1");
    CHECK(api.requests().size() == 2); // the client itself did not follow it
}
