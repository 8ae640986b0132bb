#include "trunkgate/util/http.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "trunkgate/util/error.hpp"
#include "trunkgate/util/text.hpp"

#include <algorithm>
#include <cctype>

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
        curl_easy_setopt(handle_, CURLOPT_HEADERFUNCTION, &header_line);
        curl_easy_setopt(handle_, CURLOPT_HEADERDATA, &response);
        const CURLcode rc = curl_easy_perform(handle_);
        curl_slist_free_all(headers);
        if (rc != CURLE_OK) {
            response.error = *error ? error : curl_easy_strerror(rc);
            return response;
        }
        curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &response.status);
        char* location = nullptr;
        if (response.status >= 300 && response.status < 400 &&
            curl_easy_getinfo(handle_, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location)
            response.redirect_url = location;
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

    // The value of header line `line` when it is header `name` (lower case), trimmed.
    static std::optional<std::string> header_value(std::string_view line, std::string_view name) {
        if (line.size() <= name.size() || line[name.size()] != ':')
            return std::nullopt;
        for (std::size_t i = 0; i < name.size(); ++i)
            if (std::tolower(static_cast<unsigned char>(line[i])) != name[i])
                return std::nullopt;
        const auto value = line.substr(name.size() + 1);
        const auto first = value.find_first_not_of(" \t");
        const auto last = value.find_last_not_of(" \t\r\n");
        if (first == std::string_view::npos || last == std::string_view::npos)
            return std::string();
        return std::string(value.substr(first, last - first + 1));
    }

    // Keeps the Link header(s) and X-Total-Count of the last response read: a status line starts
    // a new one (a 100 Continue or a proxy's CONNECT answer come before the real one).
    static size_t header_line(char* data, size_t size, size_t count, void* sink) {
        auto& response = *static_cast<http_response*>(sink);
        const std::string_view line(data, size * count);
        if (line.rfind("HTTP/", 0) == 0) {
            response.link.clear();
            response.total_count.clear();
        } else if (const auto link = header_value(line, "link"); link && !link->empty()) {
            response.link += (response.link.empty() ? "" : ", ") + *link;
        } else if (const auto total = header_value(line, "x-total-count")) {
            response.total_count = *total;
        }
        return size * count;
    }

    CURL* handle_ = nullptr;
};

} // namespace

std::unique_ptr<http_client> make_curl_client() {
    return std::make_unique<curl_client>();
}

namespace {

std::string hmac_hex(const EVP_MD* digest_kind, const char* name, std::string_view secret,
                     std::string_view body) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!HMAC(digest_kind, secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length))
        throw internal_error(std::string(name) + " failed");
    static const char hex[] = "0123456789abcdef";
    std::string text;
    for (unsigned int i = 0; i < length; ++i) {
        text += hex[digest[i] >> 4];
        text += hex[digest[i] & 0x0F];
    }
    return text;
}

} // namespace

std::string hmac_sha256_hex(std::string_view secret, std::string_view body) {
    return hmac_hex(EVP_sha256(), "HMAC-SHA256", secret, body);
}

std::string hmac_sha1_hex(std::string_view secret, std::string_view body) {
    return hmac_hex(EVP_sha1(), "HMAC-SHA1", secret, body);
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

std::string with_query_parameter(const std::string& url, std::string_view name,
                                 std::string_view value) {
    const auto fragment = std::min(url.find('#'), url.size());
    const auto query = url.find('?');
    std::string out = url.substr(0, fragment);
    if (query != std::string::npos && query < fragment) {
        const std::string_view params(url.data() + query + 1, fragment - query - 1);
        for (std::size_t start = 0; start <= params.size();) {
            auto end = params.find('&', start);
            if (end == std::string_view::npos)
                end = params.size();
            const auto pair = params.substr(start, end - start);
            if (pair.substr(0, pair.find('=')) == name)
                return url;
            start = end + 1;
        }
        if (!params.empty() && params.back() != '&')
            out += '&';
    } else {
        out += '?';
    }
    out.append(name).append("=").append(value);
    return out + url.substr(fragment);
}

namespace {

bool is_link_space(char c) {
    return c == ' ' || c == '\t';
}

// `reference` resolved against `base` as a browser would; as given when libcurl cannot.
std::string resolve_url(const std::string& base, const std::string& reference) {
    CURLU* parsed = curl_url();
    if (!parsed)
        throw internal_error("cannot allocate a URL parser");
    std::string resolved = reference;
    char* text = nullptr;
    if (curl_url_set(parsed, CURLUPART_URL, base.c_str(), 0) == CURLUE_OK &&
        curl_url_set(parsed, CURLUPART_URL, reference.c_str(), 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_URL, &text, 0) == CURLUE_OK && text)
        resolved = text;
    curl_free(text);
    curl_url_cleanup(parsed);
    return resolved;
}

} // namespace

std::optional<std::string> next_link(std::string_view header, const std::string& base) {
    std::size_t at = 0;
    const auto skip_space = [&] {
        while (at < header.size() && is_link_space(header[at]))
            ++at;
    };
    while (at < header.size()) {
        while (at < header.size() && (is_link_space(header[at]) || header[at] == ','))
            ++at;
        if (at >= header.size())
            break;
        std::optional<std::string> target;
        if (header[at] == '<') {
            const auto close = header.find('>', at);
            if (close == std::string_view::npos)
                return std::nullopt;
            target = std::string(header.substr(at + 1, close - at - 1));
            at = close + 1;
        }
        std::optional<std::string> rel;
        // Parameters up to the comma that ends this link; a quoted value may hold commas.
        while (at < header.size() && header[at] != ',') {
            skip_space();
            if (at < header.size() && header[at] == ';') {
                ++at;
                skip_space();
            }
            const auto name_start = at;
            while (at < header.size() && header[at] != '=' && header[at] != ';' &&
                   header[at] != ',' && !is_link_space(header[at]))
                ++at;
            const auto name = ascii_lower(header.substr(name_start, at - name_start));
            skip_space();
            std::string value;
            if (at < header.size() && header[at] == '=') {
                ++at;
                skip_space();
                if (at < header.size() && header[at] == '"') {
                    for (++at; at < header.size() && header[at] != '"'; ++at) {
                        if (header[at] == '\\' && at + 1 < header.size())
                            ++at;
                        value += header[at];
                    }
                    at = std::min(at + 1, header.size()); // the closing quote
                } else {
                    const auto value_start = at;
                    while (at < header.size() && header[at] != ';' && header[at] != ',' &&
                           !is_link_space(header[at]))
                        ++at;
                    value = std::string(header.substr(value_start, at - value_start));
                }
            }
            if (name == "rel" && !rel) // RFC 8288: the first rel counts
                rel = ascii_lower(value);
            if (name.empty() && at < header.size() && header[at] != ',' && header[at] != ';')
                ++at; // a stray character: step over it rather than loop
        }
        if (!target || !rel)
            continue;
        for (std::size_t start = 0; start < rel->size();) {
            const auto end = std::min(rel->find_first_of(" \t", start), rel->size());
            if (rel->compare(start, end - start, "next") == 0)
                return resolve_url(base, *target);
            start = end + 1;
        }
    }
    return std::nullopt;
}

std::optional<std::string> url_origin(const std::string& url) {
    CURLU* parsed = curl_url();
    if (!parsed)
        throw internal_error("cannot allocate a URL parser");
    std::optional<std::string> origin;
    char *scheme = nullptr, *host = nullptr, *port = nullptr;
    if (curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        origin = ascii_lower(scheme) + "://" + ascii_lower(host) + ":" + port;
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(parsed);
    return origin;
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
