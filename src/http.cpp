#include "trunkgate/http.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "trunkgate/error.hpp"

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

std::string redact_url(const std::string& url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos)
        return url;
    const auto authority_start = scheme_end + 3;
    const auto authority_end = url.find_first_of("/?#", authority_start);
    const auto at = url.rfind('@', authority_end == std::string::npos ? url.size() : authority_end);
    if (at == std::string::npos || at < authority_start)
        return url;
    return url.substr(0, authority_start) + "***" + url.substr(at);
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
