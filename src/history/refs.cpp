#include "trunkgate/history/refs.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "trunkgate/history/git.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"

namespace trunkgate {

namespace {

const std::string zeros(GIT_OID_HEXSZ, '0');

} // namespace

std::optional<git_oid> read_ref(git_repository* repo, const std::string& name) {
    git_oid id;
    const int rc = git_reference_name_to_id(&id, repo, name.c_str());
    if (rc == GIT_ENOTFOUND) {
        git_error_clear();
        return std::nullopt;
    }
    check(rc, "read " + name);
    return id;
}

ref_update write_ref(git_repository* repo, const std::string& name, const git_oid& target,
                     const std::string& log) {
    const auto old = read_ref(repo, name);
    git_reference* raw = nullptr;
    check(git_reference_create(&raw, repo, name.c_str(), &target, 1, log.c_str()), "write " + name);
    git_reference_free(raw);
    return {old ? to_hex(*old) : zeros, to_hex(target), name};
}

std::optional<ref_update> delete_ref(git_repository* repo, const std::string& name) {
    git_reference* raw = nullptr;
    const int rc = git_reference_lookup(&raw, repo, name.c_str());
    if (rc == GIT_ENOTFOUND) {
        git_error_clear();
        return std::nullopt;
    }
    check(rc, "read " + name);
    const auto old = read_ref(repo, name);
    const int deleted = git_reference_delete(raw);
    git_reference_free(raw);
    check(deleted, "delete " + name);
    return ref_update{old ? to_hex(*old) : zeros, zeros, name};
}

swap_outcome swap_ref(git_repository* repo, const std::string& name, const git_oid& target,
                      const git_oid& expected, const std::string& log) {
    git_reference* raw = nullptr;
    const int rc =
        git_reference_create_matching(&raw, repo, name.c_str(), &target, 1, &expected, log.c_str());
    if (rc == 0) {
        git_reference_free(raw);
        return swap_outcome::moved;
    }
    if (rc == GIT_EMODIFIED) {
        git_error_clear();
        return swap_outcome::modified;
    }
    if (rc == GIT_ELOCKED) {
        git_error_clear();
        return swap_outcome::locked;
    }
    check(rc, "move " + name);
    return swap_outcome::modified;
}

bool remove_abandoned_ref_lock(git_repository* repo, const std::string& name,
                               const git_oid& target) {
    const auto path = git_dir(repo) + name + ".lock";
    const auto held = read_file(path);
    if (!held || held->substr(0, GIT_OID_HEXSZ) != to_hex(target))
        return false;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw file_error("cannot remove " + path + ": " + std::strerror(errno), errno);
    return true;
}

} // namespace trunkgate
