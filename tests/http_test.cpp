#include <catch2/catch.hpp>

#include "trunkgate/http.hpp"

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
