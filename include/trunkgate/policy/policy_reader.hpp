#pragma once
// Reading the policy's TOML tables: what policy.cpp, policy_tables.cpp and policy_events.cpp share.

#include <toml++/toml.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "trunkgate/policy/policy.hpp"
#include "trunkgate/util/error.hpp"

namespace trunkgate {

/// Reads one TOML table, remembering which keys were read so that `finish` can report the
/// first unknown one: a typo must never silently disable a rule.
class table_reader {
  public:
    /// Reads `table`, which `path` names in messages ("checks.http"; "" for the top level).
    /// `table` and `file` must outlive the reader.
    table_reader(const toml::table& table, std::string path, const std::string& file)
        : table_(table), path_(std::move(path)), file_(file) {}

    /// Throws policy_error for `file` at `where`, saying `problem`.
    [[noreturn]] void fail(const toml::source_region& where, const std::string& problem) const {
        throw policy_error(file_, where.begin.line, where.begin.column, problem);
    }

    /// The node at `key`, or nullptr; marks `key` as known either way.
    const toml::node* find(const std::string& key) {
        known_.insert(key);
        return table_.get(key);
    }

    /// The string at `key`, or nullopt when absent; throws policy_error when it is not a string.
    std::optional<std::string> string(const std::string& key) {
        const auto* node = find(key);
        if (!node)
            return std::nullopt;
        if (!node->is_string())
            fail(node->source(), name(key) + " must be a string");
        return node->value<std::string>();
    }

    /// The boolean at `key`, or `fallback` when absent; throws policy_error when it is not one.
    bool boolean(const std::string& key, bool fallback) {
        const auto* node = find(key);
        if (!node)
            return fallback;
        if (!node->is_boolean())
            fail(node->source(), name(key) + " must be true or false");
        return *node->value<bool>();
    }

    /// The non-negative integer at `key`, or nullopt when absent; throws policy_error otherwise.
    std::optional<std::int64_t> count(const std::string& key) {
        const auto* node = find(key);
        if (!node)
            return std::nullopt;
        if (!node->is_integer() || *node->value<std::int64_t>() < 0)
            fail(node->source(), name(key) + " must be a non-negative integer");
        return node->value<std::int64_t>();
    }

    /// The array of strings at `key`, or nullopt when absent; throws policy_error otherwise.
    std::optional<std::vector<std::string>> strings(const std::string& key) {
        const auto* node = find(key);
        if (!node)
            return std::nullopt;
        const auto* array = node->as_array();
        if (!array)
            fail(node->source(), name(key) + " must be an array of strings");
        std::vector<std::string> items;
        for (const auto& item : *array) {
            if (!item.is_string())
                fail(item.source(), name(key) + " must contain only strings");
            items.push_back(*item.value<std::string>());
        }
        return items;
    }

    /// The RE2 pattern at `key`, compiled, or nullopt when absent or empty; throws policy_error
    /// when it is not a string or does not compile.
    std::optional<pattern> regex(const std::string& key) {
        const auto text = string(key);
        if (!text || text->empty())
            return std::nullopt;
        RE2::Options options;
        options.set_log_errors(false);
        auto compiled = std::make_shared<const RE2>(*text, options);
        if (!compiled->ok())
            fail(table_.get(key)->source(),
                 name(key) + " is not a valid RE2 pattern: " + compiled->error());
        return pattern{*text, std::move(compiled)};
    }

    /// The table [`key`], borrowed from the document, or nullptr when absent; throws policy_error
    /// when `key` is not a table.
    const toml::table* table(const std::string& key) {
        const auto* node = find(key);
        if (!node)
            return nullptr;
        if (!node->is_table())
            fail(node->source(), name(key) + " must be a table ([" + key + "])");
        return node->as_table();
    }

    /// The array of tables [[`key`]], borrowed from the document, or nullptr when absent; throws
    /// policy_error when `key` is not one.
    const toml::array* table_array(const std::string& key) {
        const auto* node = find(key);
        if (!node)
            return nullptr;
        if (!node->is_array_of_tables())
            fail(node->source(), name(key) + " must be an array of tables ([[" + key + "]])");
        return node->as_array();
    }

    /// Throws policy_error at the first key of the table that nothing read.
    void finish() const {
        for (const auto& [key, node] : table_)
            if (!known_.count(std::string(key.str())))
                fail(key.source(), "unknown key " + name(std::string(key.str())) +
                                       " (see docs/policy.md for the keys trunkgate reads)");
    }

    /// `key` as messages quote it, with the table's path: 'checks.http.url'.
    std::string name(const std::string& key) const {
        return path_.empty() ? "'" + key + "'" : "'" + path_ + "." + key + "'";
    }

  private:
    const toml::table& table_;
    std::string path_;
    const std::string& file_;
    std::set<std::string> known_;
};

/// The size at `key`: a number of bytes or a string such as "5 MiB", or nullopt when absent;
/// throws policy_error otherwise.
inline std::optional<std::int64_t> read_size(table_reader& reader, const std::string& key) {
    const auto* node = reader.find(key);
    if (!node)
        return std::nullopt;
    if (node->is_integer() && *node->value<std::int64_t>() >= 0)
        return node->value<std::int64_t>();
    const auto size = node->is_string() ? parse_size(*node->value<std::string>()) : std::nullopt;
    if (!size)
        reader.fail(node->source(), reader.name(key) + " must be a size such as \"5 MiB\" or a " +
                                        "number of bytes");
    return size;
}

/// Reads [repository] (policy_events.cpp). Throws policy_error.
repository_policy read_repository(const toml::table& table, const std::string& file);

/// Reads [events] and its [[events.endpoint]] entries (policy_events.cpp). Throws policy_error.
events_policy read_events(const toml::table& table, const std::string& file);

/// Reads every table of the policy document `root` into `result` (policy_tables.cpp). Throws
/// policy_error at the first problem, naming `file`.
void read_top_level(const toml::table& root, const std::string& file, policy& result);

/// Reads one [[queue]] entry (policy_queue.cpp). Throws policy_error.
queue_rule read_queue(const toml::table& table, const std::string& file);

} // namespace trunkgate
