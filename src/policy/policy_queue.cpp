// [[queue]]: a merge queue in front of one branch (docs/queue.md).
#include "trunkgate/policy/policy_reader.hpp"

namespace trunkgate {

namespace {

constexpr std::int64_t most_parallel_builds = 64;
constexpr std::int64_t most_retries = 10;
constexpr std::int64_t most_batched_changes = 64;

queue_method read_method(table_reader& reader, const toml::table& table) {
    const auto method = reader.string("method").value_or("rebase");
    if (method == "rebase")
        return queue_method::rebase;
    if (method == "merge")
        return queue_method::merge;
    if (method == "fast-forward-only")
        return queue_method::fast_forward_only;
    reader.fail(table.get("method")->source(),
                "'queue.method' is \"rebase\", \"merge\" or \"fast-forward-only\"");
}

// runner = "auto" (the default) or "manual".
bool read_runner(table_reader& reader, const toml::table& table) {
    const auto runner = reader.string("runner").value_or("auto");
    if (runner != "auto" && runner != "manual")
        reader.fail(table.get("runner")->source(), "'queue.runner' is \"auto\" or \"manual\"");
    return runner == "auto";
}

// The integer at `key` within [low, high], or `fallback` when absent.
std::int64_t bounded(table_reader& reader, const toml::table& table, const std::string& key,
                     std::int64_t fallback, std::int64_t low, std::int64_t high) {
    const auto value = reader.count(key).value_or(fallback);
    if (value < low || value > high)
        reader.fail(table.get(key)->source(), reader.name(key) + " must be between " +
                                                  std::to_string(low) + " and " +
                                                  std::to_string(high));
    return value;
}

} // namespace

std::string_view to_string(queue_method method) {
    switch (method) {
    case queue_method::rebase:
        return "rebase";
    case queue_method::merge:
        return "merge";
    case queue_method::fast_forward_only:
        return "fast-forward-only";
    }
    return "rebase";
}

queue_rule read_queue(const toml::table& table, const std::string& file) {
    table_reader reader(table, "queue", file);
    queue_rule rule;
    const auto target = reader.string("target");
    if (!target)
        reader.fail(table.source(), "every [[queue]] entry needs 'target', the branch it guards "
                                    "(\"refs/heads/main\")");
    if (target->rfind("refs/heads/", 0) != 0 || target->size() == 11 ||
        target->find_first_of("*?[") != std::string::npos)
        reader.fail(table.get("target")->source(),
                    "'queue.target' is one full branch name such as \"refs/heads/main\"");
    rule.target = *target;
    rule.method = read_method(reader, table);
    rule.max_parallel = bounded(reader, table, "max_parallel", 4, 1, most_parallel_builds);
    rule.batch_size = bounded(reader, table, "batch_size", 1, 1, most_batched_changes);
    rule.check_timeout_minutes =
        bounded(reader, table, "check_timeout_minutes", 60, 1, 7 * 24 * 60);
    rule.retries = bounded(reader, table, "retries", 0, 0, most_retries);
    if (auto priority = reader.strings("priority"))
        rule.priority = *priority;
    if (auto allowed = reader.strings("allowed"))
        rule.allowed = *allowed;
    rule.automatic_runner = read_runner(reader, table);
    reader.finish();
    return rule;
}

} // namespace trunkgate
