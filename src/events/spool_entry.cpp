#include "trunkgate/events/spool_entry.hpp"

#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>

#include "trunkgate/util/error.hpp"
#include "trunkgate/util/json_input.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

bool valid_id(const std::string& id) {
    return !id.empty() && id.size() <= 64 &&
           id.find_first_not_of("0123456789abcdef-") == std::string::npos;
}

bool is_entry_file(const std::string& name) {
    return name.size() > 5 && name[0] != '.' && name.compare(name.size() - 5, 5, ".json") == 0;
}

std::string new_uuid() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        throw internal_error("no randomness for a delivery id");
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);
    char text[37];
    std::snprintf(text, sizeof text,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                  bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                  bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
    return text;
}

std::string entry_json(const spool_entry& entry) {
    const nlohmann::ordered_json document{{"id", entry.id},
                                          {"ref", entry.ref},
                                          {"url", entry.url},
                                          {"secret_env", entry.secret_env},
                                          {"secret_file", entry.secret_file},
                                          {"auth_env", entry.auth_env},
                                          {"auth_file", entry.auth_file},
                                          {"ca_file", entry.ca_file},
                                          {"timeout_ms", entry.timeout_ms},
                                          {"headers", entry.headers},
                                          {"state", entry.state},
                                          {"created_at", entry.created_at},
                                          {"order", entry.order},
                                          {"next_try", entry.next_try},
                                          {"attempts", entry.attempts},
                                          {"last_status", entry.last_status},
                                          {"last_error", entry.last_error},
                                          {"delivered_at", entry.delivered_at},
                                          {"body", entry.body}};
    return document.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

namespace {

// The longest a retry is ever scheduled ahead (delivery's backoff caps at 75 minutes): a later
// next_try would park the entry for good.
constexpr std::int64_t max_retry_ahead_seconds = 86400;

// The entry's fixed headers: "Name: value" lines, each name an HTTP token and no line breaks,
// so a damaged entry cannot smuggle a header or a request into the delivery.
std::vector<std::string> header_lines(const nlohmann::json& document) {
    std::vector<std::string> lines;
    const auto found = document.find("headers");
    if (found == document.end() || found->is_null())
        return lines;
    if (!found->is_array())
        throw input_error("'headers' must be an array of \"Name: value\" strings");
    for (const auto& item : *found) {
        if (!item.is_string())
            throw input_error("'headers' must be an array of \"Name: value\" strings");
        const auto& line = item.get_ref<const std::string&>();
        const auto colon = line.find(": ");
        const bool token_name =
            colon != std::string::npos && colon > 0 &&
            std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon),
                        [](unsigned char c) { return std::isalnum(c) || c == '-'; });
        if (!token_name || line.find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
            throw input_error("'headers' holds a line that is not one \"Name: value\" header");
        lines.push_back(line);
    }
    return lines;
}

spool_entry entry_of(const std::string& text, std::int64_t now) {
    const auto document = parse_json_input(text);
    if (!document.is_object())
        throw input_error("a spool entry must be a JSON object, not " + json_kind(document));
    const std::string where;
    spool_entry entry;
    entry.id = required_string(document, "id", where);
    if (!valid_id(entry.id))
        throw input_error("bad delivery id");
    entry.ref = required_string(document, "ref", where);
    entry.url = required_string(document, "url", where);
    entry.secret_env = optional_string(document, "secret_env", where);
    entry.secret_file = optional_string(document, "secret_file", where);
    entry.auth_env = optional_string(document, "auth_env", where);
    entry.auth_file = optional_string(document, "auth_file", where);
    entry.ca_file = optional_string(document, "ca_file", where);
    // The limits of [[events.endpoint]] timeout_ms (docs/policy.md).
    entry.timeout_ms = optional_integer(document, "timeout_ms", 1, 600000, where).value_or(5000);
    entry.headers = header_lines(document);
    if (const auto state = optional_string(document, "state", where); !state.empty())
        entry.state = state;
    const auto created_at = optional_unix_seconds(document, "created_at", where);
    if (!created_at)
        throw input_error("'created_at' is missing");
    entry.created_at = *created_at;
    if (const auto future = future_time_problem(entry.created_at, now))
        throw input_error("'created_at' is " + *future);
    // Events of one push keep their order; an old entry without one sorts by creation time.
    const std::int64_t by_creation =
        entry.created_at <= INT64_MAX / 1000000000 ? entry.created_at * 1000000000 : INT64_MAX;
    entry.order = optional_integer(document, "order", 0, INT64_MAX, where).value_or(by_creation);
    entry.next_try = optional_unix_seconds(document, "next_try", where).value_or(0);
    if (entry.next_try - now > max_retry_ahead_seconds + clock_skew_seconds)
        throw input_error("'next_try' is more than a day ahead (" +
                          std::to_string(entry.next_try - now) + " s)");
    entry.attempts = optional_integer(document, "attempts", 0, 1000000, where).value_or(0);
    entry.last_status =
        static_cast<long>(optional_integer(document, "last_status", 0, 999, where).value_or(0));
    entry.last_error = optional_string(document, "last_error", where);
    entry.delivered_at = optional_unix_seconds(document, "delivered_at", where).value_or(0);
    if (const auto future = future_time_problem(entry.delivered_at, now))
        throw input_error("'delivered_at' is " + *future);
    entry.body = required_string(document, "body", where);
    return entry;
}

} // namespace

spool_entry parse_entry(const std::string& text, std::int64_t now) {
    try {
        return entry_of(text, now);
    } catch (const input_error& e) {
        throw input_error(std::string("malformed spool entry: ") + e.what());
    } catch (const nlohmann::json::exception& e) {
        throw input_error(std::string("malformed spool entry: ") + e.what());
    }
}

} // namespace trunkgate
