#include "trunkgate/report/report_statuses.hpp"

#include <algorithm>

#include "trunkgate/util/error.hpp"

namespace trunkgate {

const status_map& status_cache::of(const git_oid& commit) {
    auto found = cache_.find(commit);
    if (found != cache_.end())
        return found->second;
    status_map statuses;
    try {
        statuses = read_statuses(repo_, notes_ref_, commit);
    } catch (const input_error& e) {
        notes_.push_back("the status note of " + to_hex(commit) +
                         " is damaged and was read as empty: " + e.what());
    }
    return cache_.emplace(commit, std::move(statuses)).first->second;
}

std::vector<unmet_check> failing_checks(const std::vector<std::string>& required,
                                        const status_map& statuses, bool missing_fails) {
    auto unmet = unmet_checks(required, statuses);
    unmet.erase(std::remove_if(unmet.begin(), unmet.end(),
                               [&](const unmet_check& check) {
                                   return check.state == "pending" ||
                                          (check.state == "missing" && !missing_fails);
                               }),
                unmet.end());
    return unmet;
}

} // namespace trunkgate
