#include "trunkgate/history/git.hpp"

#include <climits>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

#include "trunkgate/util/ownership.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

void check(int rc, std::string_view what) {
    if (rc >= 0)
        return;
    const ::git_error* last = git_error_last();
    std::string message(what);
    message += ": ";
    message += last && last->message ? last->message : "libgit2 error " + std::to_string(rc);
    const int klass = last ? last->klass : 0;
    git_error_clear();
    throw libgit2_error(rc, klass, message);
}

libgit2_guard::libgit2_guard() {
    check(git_libgit2_init(), "initialise libgit2");
    // A hook reads each commit and tree of a push about once; libgit2's cache, once full, evicts
    // by scanning its table on every store, which made a 100,000-commit import 3x slower than
    // git and 350 MiB large (bench/run-commits). Without it: about git's time, 150 MiB.
    check(git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0), "turn off the object cache");
    // git index-pack verified every pushed object before the hook runs; hashing each object
    // again on every read cost about 7 % of a long walk (bench/).
    check(git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0), "skip re-hashing objects");
}
libgit2_guard::~libgit2_guard() {
    git_libgit2_shutdown();
}

repository_ptr open_repository_from_env() {
    git_repository* raw = nullptr;
    check(git_repository_open_ext(&raw, nullptr, GIT_REPOSITORY_OPEN_FROM_ENV, nullptr),
          "open the repository named by GIT_DIR");
    return repository_ptr(raw);
}

repository_ptr open_repository(const std::string& path) {
    git_repository* raw = nullptr;
    check(git_repository_open_ext(&raw, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr),
          "open repository " + path);
    return repository_ptr(raw);
}

std::optional<std::string> discover_git_dir(const std::string& path, bool search) {
    buffer found;
    const int rc = git_repository_discover(&found.buf, path.c_str(), 0, nullptr);
    if (rc == GIT_ENOTFOUND) {
        git_error_clear();
        return std::nullopt;
    }
    check(rc, "look for a git repository at " + path);
    auto dir = found.str();
    if (!dir.empty() && dir.back() != '/')
        dir += '/';
    if (search)
        return dir;
    // Exactly `path`: the repository itself or the .git of its work tree, not one above it.
    char* real = ::realpath(path.c_str(), nullptr);
    if (!real)
        return std::nullopt;
    const std::string here = std::string(real) + (std::string_view(real) == "/" ? "" : "/");
    std::free(real);
    if (dir == here || dir == here + ".git/")
        return dir;
    return std::nullopt;
}

repository_ptr open_repository_at(const std::string& path, bool search) {
    git_repository* raw = nullptr;
    const int rc = git_repository_open_ext(&raw, path.c_str(),
                                           search ? 0 : GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
    if (rc == 0)
        return repository_ptr(raw);
    // libgit2's message first, before the look-up below replaces it.
    const ::git_error* last = git_error_last();
    const std::string message =
        last && last->message ? last->message : "libgit2 error " + std::to_string(rc);
    const int klass = last ? last->klass : 0;
    git_error_clear();
    const auto dir = discover_git_dir(path, search);
    if (!dir)
        throw input_error(path +
                          (search ? " is not in a git repository" : " is not a git repository"));
    std::string owner;
    struct stat info {};
    // libgit2 1.5 reports its ownership check as "config value 'safe.directory' was not found":
    // name the real cause next to what it said.
    if (::stat(dir->c_str(), &info) == 0 && info.st_uid != ::geteuid())
        owner = " (the repository belongs to " + user_name(info.st_uid) + ", not to " +
                user_name(::geteuid()) +
                ", and libgit2 opens only repositories of the user it runs as, like git's "
                "\"dubious ownership\" check; see \"Running as root\" in docs/cli.md)";
    throw libgit2_error(rc, klass, "cannot open the repository " + *dir + ": " + message + owner);
}

void reset_config_search_paths() {
    check(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, nullptr),
          "reset the global git config path");
    check(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, nullptr),
          "reset the XDG git config path");
}

std::string git_dir(git_repository* repo) {
    std::string path = git_repository_path(repo);
    if (!path.empty() && path.back() != '/')
        path += '/';
    return path;
}

std::string to_hex(const git_oid& oid) {
    char hex[GIT_OID_HEXSZ + 1];
    git_oid_tostr(hex, sizeof hex, &oid);
    return hex;
}

std::string short_id(const git_oid& oid) {
    return to_hex(oid).substr(0, 7);
}

std::optional<commit_ptr> find_commit(git_repository* repo, const git_oid& oid) {
    git_commit* raw = nullptr;
    const int rc = git_commit_lookup(&raw, repo, &oid);
    if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) {
        git_error_clear();
        return std::nullopt;
    }
    check(rc, "read commit " + to_hex(oid));
    return commit_ptr(raw);
}

std::optional<git_oid> ref_commit(git_reference* ref) {
    git_object* raw = nullptr;
    if (git_reference_peel(&raw, ref, GIT_OBJECT_COMMIT) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    object_ptr peeled(raw);
    return *git_object_id(peeled.get());
}

void for_each_ref_commit(
    git_repository* repo, const char* glob,
    const std::function<void(std::string_view name, const git_oid& commit)>& visit) {
    git_reference_iterator* raw = nullptr;
    check(glob ? git_reference_iterator_glob_new(&raw, repo, glob)
               : git_reference_iterator_new(&raw, repo),
          "list refs");
    reference_iterator_ptr refs(raw);
    git_reference* ref_raw = nullptr;
    int rc;
    while ((rc = git_reference_next(&ref_raw, refs.get())) == 0) {
        reference_ptr ref(ref_raw);
        if (const auto commit = ref_commit(ref.get()))
            visit(git_reference_name(ref.get()), *commit);
    }
    if (rc != GIT_ITEROVER)
        check(rc, "list refs");
}

std::optional<git_oid> commit_of(git_repository* repo, std::string_view hex) {
    git_oid id;
    if (hex.size() != GIT_OID_HEXSZ || hex.find_first_not_of('0') == std::string_view::npos ||
        git_oid_fromstrn(&id, hex.data(), hex.size()) != 0)
        return std::nullopt;
    git_object* raw = nullptr;
    if (git_object_lookup(&raw, repo, &id, GIT_OBJECT_ANY) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    object_ptr object(raw);
    git_object* peeled_raw = nullptr;
    if (git_object_peel(&peeled_raw, object.get(), GIT_OBJECT_COMMIT) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    object_ptr peeled(peeled_raw);
    return *git_object_id(peeled.get());
}

std::optional<std::string> config_string(git_repository* repo, const char* key) {
    git_config* raw = nullptr;
    check(git_repository_config_snapshot(&raw, repo), "read the repository's git config");
    config_ptr config(raw);
    const char* value = nullptr;
    const int rc = git_config_get_string(&value, config.get(), key);
    if (rc == GIT_ENOTFOUND) {
        git_error_clear();
        return std::nullopt;
    }
    check(rc, std::string("read git config ") + key);
    return std::string(value);
}

git_oid resolve_commit(git_repository* repo, const std::string& spec) {
    git_object* raw = nullptr;
    if (git_revparse_single(&raw, repo, spec.c_str()) != 0) {
        git_error_clear();
        throw input_error("'" + printable(spec) + "' names no object in this repository");
    }
    object_ptr object(raw);
    git_object* peeled = nullptr;
    if (git_object_peel(&peeled, object.get(), GIT_OBJECT_COMMIT) != 0) {
        git_error_clear();
        throw input_error("'" + printable(spec) + "' is not a commit");
    }
    object_ptr commit(peeled);
    return *git_object_id(commit.get());
}

} // namespace trunkgate
