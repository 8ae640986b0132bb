#pragma once
// HTTP POST behind a small seam (unit tests use a fake), HMAC signing and URL redaction.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trunkgate {

struct http_request {
    std::string url;
    std::vector<std::string> headers; ///< "Name: value"
    std::string body;
    long timeout_ms = 5000;
    std::string ca_file;    ///< CA bundle used instead of the system's; peers are always verified
    std::string basic_auth; ///< "user:password" sent as HTTP Basic auth, never in the URL
};

struct http_response {
    long status = 0;   ///< 0 when no HTTP status came back (refused, timeout, TLS, garbage)
    std::string error; ///< transport error, empty when a status came back
    std::string body;  ///< kept by get(); post() discards it
    /// The Link header(s) of the answer (several joined with ", "), "" when none.
    std::string link{};
    /// The X-Total-Count header (Gitea: how many entries all pages hold), "" when none.
    std::string total_count{};
    /// For a 3xx with a Location: the absolute URL it points at (never followed by the client).
    std::string redirect_url{};
};

class http_client {
  public:
    virtual ~http_client() = default;
    virtual http_response post(const http_request& request) = 0;
    /// GET `request.url` (the body is ignored); at most 1 MiB of the answer is kept.
    virtual http_response get(const http_request& request) = 0;
};

/// libcurl: one handle, so connections to the same host are reused across posts.
std::unique_ptr<http_client> make_curl_client();

/// Lowercase hex HMAC-SHA256 of `body` keyed with `secret` (X-Hub-Signature-256 without prefix).
std::string hmac_sha256_hex(std::string_view secret, std::string_view body);

/// Lowercase hex HMAC-SHA1 (X-Hub-Signature without prefix, for receivers that check only it).
std::string hmac_sha1_hex(std::string_view secret, std::string_view body);

/// `url` as it may be shown: credentials, query values and the fragment replaced by ***
/// (https://user:pass@host/x?token=abc#f -> https://***@host/x?token=***#***).
std::string redact_url(const std::string& url);

/// Why `url` is not a usable http:// or https:// URL (libcurl's URL parser decides, as it will
/// when sending), or nothing when it is. Credentials in it are a problem unless allowed.
std::optional<std::string> url_problem(const std::string& url, bool allow_credentials);

/// `url` with `name=value` added to its query (before any fragment), whether or not it already
/// has one; unchanged when its query already has a parameter `name`.
std::string with_query_parameter(const std::string& url, std::string_view name,
                                 std::string_view value);

/// The target of the link with rel="next" in a Link header value (RFC 8288: several
/// comma-separated links, quoted or bare rel, rel lists such as "next last", other parameters),
/// resolved against `base`; nullopt when there is none.
std::optional<std::string> next_link(std::string_view link_header, const std::string& base);

/// "scheme://host:port" of `url`, lower case, with the scheme's default port filled in
/// (https://API.x/ -> https://api.x:443); nullopt when libcurl cannot parse it. Two URLs with the
/// same origin go to the same server.
std::optional<std::string> url_origin(const std::string& url);

/// "host:port" of `url` (port omitted when the URL has none), for one-line messages.
std::string url_authority(const std::string& url);

} // namespace trunkgate
