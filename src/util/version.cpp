#include "trunkgate/util/version.hpp"

#include "trunkgate/util/files.hpp"

namespace trunkgate {

namespace {

// "\ntrunkgate-version: 0.1.0\n" in the program's read-only data. The reader below builds the
// prefix at run time, so the `trunkgate` program that reads markers holds no second copy of it.
constexpr char version_marker[] = "\ntrunkgate-version: " TRUNKGATE_VERSION "\n";
constexpr std::size_t prefix_size = sizeof("\ntrunkgate-version: ") - 1;

} // namespace

std::string_view trunkgate_version() noexcept {
    return std::string_view(version_marker + prefix_size, sizeof version_marker - prefix_size - 2);
}

std::optional<std::string> program_version(const std::string& path) {
    const auto content = read_file(path);
    if (!content)
        return std::nullopt;
    std::string prefix = "\ntrunkgate-";
    prefix += "version: ";
    for (auto at = content->find(prefix); at != std::string::npos;
         at = content->find(prefix, at + 1)) {
        const auto start = at + prefix.size();
        const auto end = content->find('\n', start);
        if (end == std::string::npos || end == start || end - start > 64)
            continue;
        const auto version = content->substr(start, end - start);
        if (version.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyz"
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ.+-~") == std::string::npos)
            return version;
    }
    return std::nullopt;
}

} // namespace trunkgate
