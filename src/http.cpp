#include "trunkgate/http.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "trunkgate/error.hpp"

#include <algorithm>

namespace trunkgate {

namespace {

class curl_client final : public http_client {
  public:
    curl_client() {
        static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
        if (!initialised || !(handle_ = curl_easy_init()))
            throw internal_error("cannot initialise libcurl");
    }
    ~curl_client() override { curl_easy_cleanup(handle_); }
    curl_client(const curl_client&) = delete;
    curl_client& operator=(const curl_client&) = delete;

    http_response post(const http_request& request) override { return perform(request, true); }
    http_response get(const http_request& request) override { return perform(request, false); }

  private:
    http_response perform(const http_request& request, bool post) {
        curl_easy_reset(handle_); // keeps the connection cache
        curl_slist* headers = nullptr;
        for (const auto& header : request.headers)
            headers = curl_slist_append(headers, header.c_str());
        char error[CURL_ERROR_SIZE] = "";
        http_response response;
        curl_easy_setopt(handle_, CURLOPT_URL, request.url.c_str());
        if (post) {
            curl_easy_setopt(handle_, CURLOPT_POST, 1L);
            curl_easy_setopt(handle_, CURLOPT_POSTFIELDS, request.body.data());
            curl_easy_setopt(handle_, CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(request.body.size()));
        }
        curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(handle_, CURLOPT_TIMEOUT_MS, request.timeout_ms);
        curl_easy_setopt(handle_, CURLOPT_CONNECTTIMEOUT_MS, request.timeout_ms);
        curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(handle_, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(handle_, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(handle_, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(handle_, CURLOPT_SSL_VERIFYHOST, 2L);
        if (!request.ca_file.empty())
            curl_easy_setopt(handle_, CURLOPT_CAINFO, request.ca_file.c_str());
        if (!request.basic_auth.empty()) {
            curl_easy_setopt(handle_, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
            curl_easy_setopt(handle_, CURLOPT_USERPWD, request.basic_auth.c_str());
        }
        curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, error);
        curl_easy_setopt(handle_, CURLOPT_WRITEFUNCTION, post ? &discard : &keep);
        curl_easy_setopt(handle_, CURLOPT_WRITEDATA, &response.body);
        const CURLcode rc = curl_easy_perform(handle_);
        curl_slist_free_all(headers);
        if (rc != CURLE_OK) {
            response.error = *error ? error : curl_easy_strerror(rc);
            return response;
        }
        curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &response.status);
        return response;
    }

    // The body of a POST's answer is not used; reading it keeps the connection reusable.
    static size_t discard(char*, size_t size, size_t count, void*) { return size * count; }
    // A GET keeps at most 1 MiB: an answer that large is not a status, so the transfer fails.
    static size_t keep(char* data, size_t size, size_t count, void* sink) {
        auto& body = *static_cast<std::string*>(sink);
        if (body.size() + size * count > (1 << 20))
            return 0;
        body.append(data, size * count);
        return size * count;
    }

    CURL* handle_ = nullptr;
};

} // namespace

std::unique_ptr<http_client> make_curl_client() {
    return std::make_unique<curl_client>();
}

std::string hmac_sha256_hex(std::string_view secret, std::string_view body) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length))
        throw internal_error("HMAC-SHA256 failed");
    static const char hex[] = "0123456789abcdef";
    std::string text;
    for (unsigned int i = 0; i < length; ++i) {
        text += hex[digest[i] >> 4];
        text += hex[digest[i] & 0x0F];
    }
    return text;
}

namespace {

// Each value of a query string as ***, names kept: "a=1&token=x" -> "a=***&token=***".
std::string redact_query(std::string_view query) {
    std::string out;
    std::size_t start = 0;
    while (start <= query.size()) {
        auto end = query.find('&', start);
        if (end == std::string_view::npos)
            end = query.size();
        const auto pair = query.substr(start, end - start);
        const auto equals = pair.find('=');
        if (start > 0)
            out += '&';
        out += equals == std::string_view::npos ? std::string(pair)
                                                : std::string(pair.substr(0, equals)) + "=***";
        start = end + 1;
    }
    return out;
}

} // namespace

std::string redact_url(const std::string& url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos)
        return url;
    const auto authority_start = scheme_end + 3;
    const auto authority_end = std::min(url.find_first_of("/?#", authority_start), url.size());
    const auto at = url.rfind('@', authority_end);
    std::string out =
        at == std::string::npos || at < authority_start
            ? url.substr(0, authority_end)
            : url.substr(0, authority_start) + "***" + url.substr(at, authority_end - at);
    const auto query = url.find('?', authority_end);
    const auto fragment = url.find('#', authority_end);
    out += url.substr(authority_end, std::min(query, fragment) - authority_end);
    if (query != std::string::npos && query < fragment)
        out += "?" +
               redact_query(std::string_view(url).substr(
                   query + 1, (fragment == std::string::npos ? url.size() : fragment) - query - 1));
    if (fragment != std::string::npos)
        out += "#***";
    return out;
}

std::optional<std::string> url_problem(const std::string& url, bool allow_credentials) {
    if (url.find_first_of(" \t\r\n") != std::string::npos)
        return std::string("it contains white space");
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
        return std::string("it is not an http:// or https:// URL");
    CURLU* parsed = curl_url();
    if (!parsed)
        throw internal_error("cannot allocate a URL parser");
    std::optional<std::string> problem;
    if (const auto rc = curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0); rc != CURLUE_OK) {
        problem = curl_url_strerror(rc);
    } else {
        char* part = nullptr;
        if (curl_url_get(parsed, CURLUPART_HOST, &part, 0) != CURLUE_OK || !part || !*part)
            problem = "it has no host";
        curl_free(part);
        part = nullptr;
        const bool has_user = curl_url_get(parsed, CURLUPART_USER, &part, 0) == CURLUE_OK;
        curl_free(part);
        if (!problem && has_user && !allow_credentials)
            problem = "it holds credentials (user:password@), which would be written to disk";
    }
    curl_url_cleanup(parsed);
    return problem;
}

std::string url_authority(const std::string& url) {
    const auto redacted = redact_url(url);
    const auto scheme_end = redacted.find("://");
    auto authority = redacted.substr(scheme_end == std::string::npos ? 0 : scheme_end + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    const auto at = authority.rfind('@');
    return at == std::string::npos ? authority : authority.substr(at + 1);
}

} // namespace trunkgate
