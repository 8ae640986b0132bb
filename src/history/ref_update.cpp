#include "trunkgate/history/ref_update.hpp"

#include <algorithm>
#include <cctype>

#include "trunkgate/util/error.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

update_kind ref_update::kind() const {
    if (is_zero_id(old_hex))
        return update_kind::create;
    if (is_zero_id(new_hex))
        return update_kind::remove;
    return update_kind::update;
}

std::string ref_update::short_name() const {
    for (std::string_view prefix : {"refs/heads/", "refs/tags/"})
        if (ref.rfind(prefix, 0) == 0)
            return ref.substr(prefix.size());
    return ref;
}

bool is_object_id(std::string_view text) {
    if (text.size() != 40 && text.size() != 64)
        return false;
    return std::all_of(text.begin(), text.end(),
                       [](unsigned char c) { return std::isxdigit(c) != 0; });
}

bool is_zero_id(std::string_view hex) {
    return is_object_id(hex) && hex.find_first_not_of('0') == std::string_view::npos;
}

namespace {

void check_ref_name(std::string_view ref) {
    if (ref.empty())
        throw input_error("missing ref name");
    if (ref.find('\0') != std::string_view::npos)
        throw input_error("ref name contains a NUL byte");
}

} // namespace

ref_update parse_update_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    const auto first = line.find(' ');
    const auto second = first == std::string_view::npos ? first : line.find(' ', first + 1);
    if (second == std::string_view::npos)
        throw input_error("expected '<old-oid> <new-oid> <ref-name>', got '" +
                          printable(line.substr(0, 120)) + "'");
    ref_update update{std::string(line.substr(0, first)),
                      std::string(line.substr(first + 1, second - first - 1)),
                      std::string(line.substr(second + 1))};
    for (const auto* id : {&update.old_hex, &update.new_hex})
        if (!is_object_id(*id))
            throw input_error("'" + printable(id->substr(0, 80)) +
                              "' is not an object id (40 or 64 hex digits)");
    if (update.old_hex.size() != update.new_hex.size())
        throw input_error("old and new object ids differ in length");
    update.old_hex = ascii_lower(update.old_hex);
    update.new_hex = ascii_lower(update.new_hex);
    check_ref_name(update.ref);
    if (is_zero_id(update.old_hex) && is_zero_id(update.new_hex))
        throw input_error("both object ids are zero for " + printable(update.ref));
    return update;
}

std::vector<ref_update> parse_updates(std::istream& in) {
    std::vector<ref_update> updates;
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        try {
            updates.push_back(parse_update_line(line));
        } catch (const input_error& e) {
            throw input_error("update line " + std::to_string(number) + ": " + e.what());
        }
    }
    return updates;
}

std::vector<ref_update> updates_from_args(const std::vector<std::string>& args) {
    if (args.size() % 3 != 0)
        throw input_error("updates are given as OLD NEW REF triples; got " +
                          std::to_string(args.size()) + " arguments");
    std::vector<ref_update> updates;
    for (std::size_t i = 0; i < args.size(); i += 3)
        updates.push_back(parse_update_line(args[i] + ' ' + args[i + 1] + ' ' + args[i + 2]));
    return updates;
}

} // namespace trunkgate
