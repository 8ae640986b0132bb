#include "trunkgate/hook/hook_chain.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "trunkgate/util/error.hpp"

namespace trunkgate {

hook_chain parse_hook_arguments(const std::vector<std::string>& args) {
    hook_chain chain;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--chain" && i + 1 < args.size() && !chain.chained_hook)
            chain.chained_hook = args[++i];
        else if (args[i] == "--chain-repository" && !chain.repository_hook)
            chain.repository_hook = true;
        else
            throw input_error("usage: trunkgate-<hook> [--chain HOOK] [--chain-repository] < "
                              "update lines");
    }
    return chain;
}

std::vector<std::string> chained_hooks(const hook_chain& chain, const std::string& git_dir,
                                       std::string_view hook_name) {
    std::vector<std::string> candidates;
    if (chain.chained_hook)
        candidates.push_back(*chain.chained_hook);
    if (chain.repository_hook && !git_dir.empty())
        candidates.push_back(git_dir + "hooks/" + std::string(hook_name) + ".chained");
    std::vector<std::string> hooks;
    std::vector<std::pair<dev_t, ino_t>> seen;
    for (const auto& path : candidates) {
        struct stat info {};
        if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode) ||
            ::access(path.c_str(), X_OK) != 0)
            continue;
        const std::pair<dev_t, ino_t> identity{info.st_dev, info.st_ino};
        bool duplicate = false;
        for (const auto& other : seen)
            duplicate = duplicate || other == identity;
        if (duplicate)
            continue;
        seen.push_back(identity);
        hooks.push_back(path);
    }
    return hooks;
}

} // namespace trunkgate
