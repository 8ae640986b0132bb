#include "trunkgate/ownership.hpp"

#include <pwd.h>
#include <unistd.h>
#include <vector>

namespace trunkgate {

std::string user_name(uid_t uid) {
    passwd entry{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found)
        return found->pw_name;
    return std::to_string(uid);
}

} // namespace trunkgate
