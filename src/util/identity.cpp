#include "trunkgate/util/identity.hpp"

#include <cstdlib>

namespace trunkgate {

env_lookup process_environment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (!value)
            return std::nullopt;
        return std::string(value);
    };
}

std::string resolve_identity(const std::vector<std::string>& names, const env_lookup& env) {
    for (const auto& name : names)
        if (auto value = env(name); value && !value->empty())
            return *value;
    return "";
}

std::vector<std::string> read_push_options(const env_lookup& env) {
    std::vector<std::string> options;
    const auto count_text = env("GIT_PUSH_OPTION_COUNT");
    if (!count_text)
        return options;
    char* end = nullptr;
    const unsigned long count = std::strtoul(count_text->c_str(), &end, 10);
    if (end == count_text->c_str() || *end != '\0')
        return options;
    // git sends at most a few options; the bound keeps a hostile environment from costing much.
    for (unsigned long i = 0; i < count && i < 1000; ++i)
        if (auto option = env("GIT_PUSH_OPTION_" + std::to_string(i)))
            options.push_back(*option);
    return options;
}

} // namespace trunkgate
