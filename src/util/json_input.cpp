#include "trunkgate/util/json_input.hpp"

#include <limits>

#include "trunkgate/util/error.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

std::string field_name(const std::string& where, const char* key) {
    return where + "'" + key + "'";
}

// The integer value of `value`, or nullopt when it is an integer outside int64.
std::optional<std::int64_t> as_int64(const nlohmann::json& value) {
    if (value.is_number_unsigned()) {
        const auto unsigned_value = value.get<std::uint64_t>();
        if (unsigned_value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return std::nullopt;
        return static_cast<std::int64_t>(unsigned_value);
    }
    return value.get<std::int64_t>();
}

const nlohmann::json* find_field(const nlohmann::json& object, const char* key) {
    if (!object.is_object())
        return nullptr;
    const auto found = object.find(key);
    return found == object.end() ? nullptr : &*found;
}

} // namespace

nlohmann::json parse_json_input(std::string_view text) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::out_of_range& e) {
        throw input_error(std::string("a number out of range: ") + e.what());
    } catch (const nlohmann::json::exception& e) {
        throw input_error(std::string("not JSON: ") + e.what());
    }
}

std::string json_kind(const nlohmann::json& value) {
    if (value.is_number_float())
        return "the decimal number " + value.dump();
    if (value.is_number_integer())
        return "the number " + value.dump();
    if (value.is_array())
        return "an array";
    if (value.is_object())
        return "an object";
    if (value.is_boolean())
        return value.get<bool>() ? "true" : "false";
    if (value.is_null())
        return "null";
    if (value.is_string())
        return "a string";
    return std::string("a ") + value.type_name();
}

std::string optional_string(const nlohmann::json& object, const char* key,
                            const std::string& where) {
    const auto* value = find_field(object, key);
    if (!value || value->is_null())
        return "";
    if (!value->is_string())
        throw input_error(field_name(where, key) + " must be a string, not " + json_kind(*value));
    return value->get<std::string>();
}

std::string required_string(const nlohmann::json& object, const char* key,
                            const std::string& where) {
    const auto* value = find_field(object, key);
    if (!value || value->is_null())
        throw input_error(field_name(where, key) + " is missing");
    return optional_string(object, key, where);
}

std::optional<std::int64_t> optional_integer(const nlohmann::json& object, const char* key,
                                             std::int64_t min, std::int64_t max,
                                             const std::string& where) {
    const auto* value = find_field(object, key);
    if (!value)
        return std::nullopt;
    // is_number_integer() rather than get<int64_t>(): get() converts 1.5 to 1 and 1e300 to
    // whatever an out-of-range float-to-integer cast gives (undefined behaviour).
    if (!value->is_number_integer())
        throw input_error(field_name(where, key) + " must be an integer, not " + json_kind(*value));
    const auto number = as_int64(*value);
    if (!number || *number < min || *number > max)
        throw input_error(field_name(where, key) + " must be between " + std::to_string(min) +
                          " and " + std::to_string(max) + ", not " + value->dump());
    return number;
}

std::optional<std::int64_t> optional_unix_seconds(const nlohmann::json& object, const char* key,
                                                  const std::string& where) {
    const auto* value = find_field(object, key);
    if (!value)
        return std::nullopt;
    if (!value->is_number_integer())
        throw input_error(field_name(where, key) + " must be Unix seconds (an integer), not " +
                          json_kind(*value));
    const auto number = as_int64(*value);
    if (!number)
        throw input_error(field_name(where, key) + " must be Unix seconds, not " + value->dump());
    if (const auto problem = unix_seconds_problem(*number))
        throw input_error(field_name(where, key) + " must be Unix seconds: " + *problem);
    return number;
}

} // namespace trunkgate
