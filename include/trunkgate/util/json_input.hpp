#pragma once
// Reading JSON that comes from outside (notes, a status API, spool files): every error, whatever
// nlohmann's kind (parse_error, out_of_range for 1e400, type_error), becomes one input_error that
// names the field and what is wrong. For trunkgate_core's own files: nlohmann is a private
// dependency of the core, so whatever else includes this header must link it itself.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace trunkgate {

/// Parses one JSON document. Throws input_error "not JSON: ..." (syntax) or "a number out of
/// range: ..." (1e400), never a nlohmann exception.
nlohmann::json parse_json_input(std::string_view text);

/// How a value is named in messages: "a string", "an array", "the decimal number 1.5", ...
std::string json_kind(const nlohmann::json& value);

/// `object[key]` as a string; "" when absent or null. Throws input_error
/// "<where>'<key>' must be a string, not an array" for any other kind.
std::string optional_string(const nlohmann::json& object, const char* key,
                            const std::string& where);

/// `object[key]` as a string, which must be there and not be null. Throws input_error.
std::string required_string(const nlohmann::json& object, const char* key,
                            const std::string& where);

/// `object[key]` as an integer in [min, max]; nullopt when absent. Decimal numbers (1.5, 1.0,
/// 1e3), strings, null and anything else throw input_error, as do integers out of range.
std::optional<std::int64_t> optional_integer(const nlohmann::json& object, const char* key,
                                             std::int64_t min, std::int64_t max,
                                             const std::string& where);

/// `object[key]` as Unix seconds in [0, max_unix_seconds] (see unix_time.hpp); nullopt when
/// absent. Throws input_error for other kinds, negative times and milliseconds.
std::optional<std::int64_t> optional_unix_seconds(const nlohmann::json& object, const char* key,
                                                  const std::string& where);

} // namespace trunkgate
