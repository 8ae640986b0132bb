#include "trunkgate/admin/doctor_checks.hpp"

#include "trunkgate/history/commit_graph.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/util/error.hpp"
#include "trunkgate/util/files.hpp"
#include "trunkgate/util/text.hpp"

namespace trunkgate {

// ---------------------------------------------------------------------------------------------
// The commit-graph (issue 13): where one is usable, the hooks walk history by generation number
// without reading commit objects; without one they read every commit they pass, which on a large
// history costs hundreds of milliseconds per push. Graded as doctor grades the rest, by what the
// hooks would do: without a graph, or with one they do not use, their verdicts are right and only
// slower (notes); a graph that fails its checksum can make them wrong (a problem).

namespace {

// The commits reachable from the branches and HEAD, counted up to `limit` and no further: a
// libgit2 walk in no particular order, which reads one commit object per step, so a history of
// any size costs at most `limit` reads (tens of milliseconds).
std::size_t commits_up_to(git_repository* repo, std::size_t limit) {
    git_revwalk* raw = nullptr;
    check(git_revwalk_new(&raw, repo), "start a history walk");
    revwalk_ptr walk(raw);
    check(git_revwalk_push_glob(walk.get(), "refs/heads/*"), "walk from the branches");
    if (git_revwalk_push_head(walk.get()) != 0)
        git_error_clear(); // an unborn or dangling HEAD: the branches are the history
    std::size_t count = 0;
    git_oid id;
    while (count < limit) {
        const int rc = git_revwalk_next(&id, walk.get());
        if (rc == GIT_ITEROVER)
            break;
        check(rc, "walk the history");
        ++count;
    }
    return count;
}

// The config entry `key` with the level it comes from; nullopt when it is unset.
struct config_setting {
    std::string value;
    git_config_level_t level;
};

std::optional<config_setting> config_entry(git_repository* repo, const char* key) {
    git_config* raw = nullptr;
    check(git_repository_config_snapshot(&raw, repo), "read the repository's git config");
    config_ptr config(raw);
    git_config_entry* entry = nullptr;
    const int rc = git_config_get_entry(&entry, config.get(), key);
    if (rc == GIT_ENOTFOUND) {
        git_error_clear();
        return std::nullopt;
    }
    check(rc, std::string("read git config ") + key);
    config_setting found{entry->value ? entry->value : "", entry->level};
    git_config_entry_free(entry);
    return found;
}

// The command that unsets core.commitGraph where it is set, as the user who may change it there.
std::string unset_commit_graph(const examination& exam, git_config_level_t level) {
    const auto unset = std::string(" --unset-all core.commitGraph");
    switch (level) {
    case GIT_CONFIG_LEVEL_LOCAL:
        return exam.as_owner("git --git-dir=" + shell_quote(without_slash(exam.git_dir)) +
                             " config" + unset);
    case GIT_CONFIG_LEVEL_GLOBAL:
        return exam.as_owner("git config --global" + unset);
    case GIT_CONFIG_LEVEL_SYSTEM:
        return exam.as_root("git config --system" + unset);
    default:
        return "unset core.commitGraph where it is set (git config --show-origin "
               "core.commitGraph names the file)";
    }
}

} // namespace

void check_commit_graph(examination& exam) {
    git_repository* repo = exam.repo.get();
    const std::string common = git_repository_commondir(repo);
    const auto single = common + "objects/info/commit-graph";
    const auto chain_dir = common + "objects/info/commit-graphs";
    const auto chain = chain_dir + "/commit-graph-chain";
    const auto dir = shell_quote(without_slash(exam.git_dir));
    const auto write = exam.as_owner("git --git-dir=" + dir + " commit-graph write --reachable");

    if (!file_exists(single) && !file_exists(chain)) {
        if (commits_up_to(repo, large_history_commits) < large_history_commits)
            return;
        exam.add("commit-graph-missing",
                 "the history has at least " + std::to_string(large_history_commits) +
                     " commits and no commit-graph (objects/info/commit-graph or "
                     "objects/info/commit-graphs/commit-graph-chain): trunkgate's hooks, like "
                     "git, read every commit object a walk passes, so a behind count or a "
                     "[commits] rule on an old branch costs in proportion to the history",
                 write + "; to keep it current: " +
                     exam.as_owner("git --git-dir=" + dir + " maintenance start") +
                     ", or `git gc` now and then (gc.writeCommitGraph is true by default)",
                 common + "objects/info", true);
        return;
    }

    const auto where = file_exists(single) ? single : chain;
    std::string why_not;
    const auto graph = commit_graph::open(repo, &why_not);
    if (!graph) {
        if (why_not.empty())
            return; // gone since we looked
        const auto disabled = config_entry(repo, "core.commitGraph");
        int enabled = 1;
        if (disabled && git_config_parse_bool(&enabled, disabled->value.c_str()) != 0) {
            git_error_clear();
            enabled = 1; // as the reader takes a value that is no boolean
        }
        if (!enabled)
            exam.add("commit-graph-unused",
                     where + " is not used: " + why_not +
                         ", so trunkgate's hooks, like git, walk history through the commit "
                         "objects (slower on a long history)",
                     unset_commit_graph(exam, disabled->level), where, true);
        else if (file_exists(common + "shallow") || file_exists(common + "info/grafts"))
            exam.add("commit-graph-unused",
                     where + " is not used: " + why_not +
                         " (git ignores it there too); trunkgate's hooks walk history through "
                         "the commit objects",
                     "", where, true);
        else
            exam.add("commit-graph-unused",
                     where + " is not used: " + why_not +
                         "; trunkgate's hooks walk history through the commit objects instead "
                         "(slower on a long history)",
                     write, where, true);
        return;
    }

    if (const auto problem = graph->verify()) {
        // A layer of a chain cannot go alone: the chain file names every layer by checksum.
        const bool chained = graph->files().front() != single;
        const auto remove = chained ? exam.as_owner("rm -rf " + shell_quote(chain_dir))
                                    : exam.as_owner("rm -f " + shell_quote(single));
        exam.add("commit-graph-corrupt",
                 *problem +
                     ": trunkgate's hooks check only what a walk reads, not the checksum on each "
                     "push (too costly per push), so they, like git, may read wrong parents or "
                     "dates from it and give a wrong verdict",
                 remove + " && " + write, chained ? chain_dir : single);
    }
}

} // namespace trunkgate
