#include "trunkgate/history/history.hpp"

#include <cstring>
#include <functional>
#include <limits>
#include <queue>

#include "trunkgate/history/git.hpp"
#include "trunkgate/policy/glob.hpp"

namespace trunkgate {

namespace {

enum : std::uint8_t { on_trunk = 1, on_tip = 2, stale = 4, pending = 8, finalized = 16 };

// The two-colour paint of git's merge-base search (paint_down_to_common), extended to count the
// commits only one side reaches. A commit's colours are final once the walk has moved past its
// commit time, so commits are counted a time level at a time.
class two_sided_walk {
  public:
    two_sided_walk(git_repository* repo, const branch_limits& limits)
        : repo_(repo), limits_(limits) {}

    branch_measure run(const git_oid& tip, const git_oid& trunk) {
        prepaint(node_for(trunk), on_trunk);
        prepaint(node_for(tip), on_tip);
        while (nonstale_queued_ > 0) {
            const auto [time, index] = queue_.top();
            queue_.pop();
            leave_queue(index);
            if (time < level_) {
                finalize_pending();
                if (decided()) {
                    result_.complete = false;
                    break;
                }
                level_ = time;
            }
            visit(index);
        }
        finalize_pending();
        mark_bounds();
        return result_;
    }

  private:
    struct node {
        git_oid oid;
        std::int64_t time = 0;
        std::vector<std::uint32_t> parents;
        bool parsed = false;
        std::uint8_t flags = 0;
        std::uint32_t queued = 0;
    };

    std::uint32_t node_for(const git_oid& oid) {
        const auto [it, inserted] =
            index_.try_emplace(oid, static_cast<std::uint32_t>(nodes_.size()));
        if (inserted) {
            nodes_.emplace_back();
            nodes_.back().oid = oid;
        }
        return it->second;
    }

    // Reads a commit's time and parents; the parents themselves are read when first painted.
    void parse(std::uint32_t index) {
        if (nodes_[index].parsed)
            return;
        git_commit* raw = nullptr;
        check(git_commit_lookup(&raw, repo_, &nodes_[index].oid), "read commit");
        commit_ptr commit(raw);
        nodes_[index].time = git_commit_time(commit.get());
        nodes_[index].parsed = true;
        const auto count = git_commit_parentcount(commit.get());
        std::vector<git_oid> parent_ids;
        for (unsigned i = 0; i < count; ++i)
            parent_ids.push_back(*git_commit_parent_id(commit.get(), i));
        commit.reset();
        std::vector<std::uint32_t> parents;
        for (const auto& id : parent_ids)
            parents.push_back(node_for(id));
        nodes_[index].parents = std::move(parents);
    }

    // Colours the nearest ancestors of one side, breadth first, before the date-ordered walk
    // begins. Colours only grow and these are true, so this cannot make a count wrong; it makes
    // counts right where committer dates run backwards (a rebase with
    // --committer-date-is-author-date, a skewed clock): trunk commits just under such a branch
    // would otherwise be counted as behind before the walk reaches the branch commits.
    // The budget is small on purpose: every commit read here is a page-faulting index look-up in
    // a large repository (bench/: 512 made a 10-commit push cost in proportion to the history).
    // Each commit passes on every colour it has, so where the sides meet, common ancestors get
    // both at once.
    void prepaint(std::uint32_t start, std::uint8_t colour) {
        constexpr std::size_t budget = 64;
        paint(start, colour);
        std::vector<std::uint32_t> seen{start};
        for (std::size_t i = 0; i < seen.size() && seen.size() < budget; ++i) {
            parse(seen[i]);
            const auto colours =
                static_cast<std::uint8_t>(nodes_[seen[i]].flags & (on_trunk | on_tip));
            const auto parents = nodes_[seen[i]].parents;
            for (const auto parent : parents) {
                if ((nodes_[parent].flags & colours) == colours)
                    continue;
                paint(parent, colours);
                seen.push_back(parent);
            }
        }
    }

    // Adds `colours` to a node and queues it when that changed anything.
    void paint(std::uint32_t index, std::uint8_t colours) {
        parse(index);
        auto& target = nodes_[index];
        if ((target.flags & colours) == colours)
            return;
        const bool was_stale = target.flags & stale;
        target.flags |= colours;
        if (!was_stale && (target.flags & stale))
            nonstale_queued_ -= target.queued;
        ++target.queued;
        if (!(target.flags & stale))
            ++nonstale_queued_;
        queue_.emplace(target.time, index);
    }

    void leave_queue(std::uint32_t index) {
        auto& left = nodes_[index];
        --left.queued;
        if (!(left.flags & stale))
            --nonstale_queued_;
    }

    void visit(std::uint32_t index) {
        auto& visited = nodes_[index];
        if ((visited.flags & (on_trunk | on_tip)) == (on_trunk | on_tip) &&
            !(visited.flags & stale)) {
            visited.flags |= stale;
            nonstale_queued_ -= visited.queued;
        }
        if (!(visited.flags & pending)) {
            visited.flags |= pending;
            pending_.push_back(index);
        }
        const auto colours = static_cast<std::uint8_t>(visited.flags & (on_trunk | on_tip | stale));
        const auto parents = visited.parents; // paint() may grow nodes_
        for (const auto parent : parents)
            paint(parent, colours);
    }

    void finalize_pending() {
        for (const auto index : pending_) {
            auto& counted = nodes_[index];
            if (counted.flags & finalized)
                continue;
            counted.flags |= finalized;
            const auto side = counted.flags & (on_trunk | on_tip);
            if (side == on_trunk)
                ++result_.behind.count;
            else if (side == on_tip)
                count_ahead(counted);
        }
        pending_.clear();
    }

    void count_ahead(const node& counted) {
        ++result_.ahead.count;
        if (!result_.oldest || counted.time < result_.oldest_time) {
            result_.oldest = counted.oid;
            result_.oldest_time = counted.time;
        }
    }

    static bool exceeded(const std::optional<std::int64_t>& limit, const bounded_count& value) {
        return limit && value.count > *limit;
    }

    // True when every fact asked for is known well enough to judge it.
    bool decided() const {
        if (limits_.stop_when_behind_exceeded && exceeded(limits_.max_behind, result_.behind))
            return true;
        const bool behind_known =
            !limits_.max_behind || exceeded(limits_.max_behind, result_.behind);
        const bool ahead_known = !limits_.max_ahead || exceeded(limits_.max_ahead, result_.ahead);
        const bool age_known =
            !limits_.oldest_allowed_time ||
            (result_.oldest && result_.oldest_time < *limits_.oldest_allowed_time);
        return behind_known && ahead_known && age_known;
    }

    void mark_bounds() {
        if (result_.complete)
            return;
        result_.behind.at_least = true;
        result_.ahead.at_least = true;
        result_.oldest_at_least = true;
    }

    git_repository* repo_;
    const branch_limits& limits_;
    std::vector<node> nodes_;
    oid_map<std::uint32_t> index_;
    std::priority_queue<std::pair<std::int64_t, std::uint32_t>> queue_;
    std::vector<std::uint32_t> pending_;
    std::int64_t nonstale_queued_ = 0;
    std::int64_t level_ = std::numeric_limits<std::int64_t>::max();
    branch_measure result_;
};

} // namespace

branch_measure measure_branch(git_repository* repo, const git_oid& tip, const git_oid& trunk,
                              const branch_limits& limits) {
    if (!limits.max_behind && !limits.max_ahead && !limits.oldest_allowed_time)
        return {};
    return two_sided_walk(repo, limits).run(tip, trunk);
}

namespace {

// The name a ref has on the server: refs/remotes/origin/x is the server's refs/heads/x.
std::optional<std::string> server_name(std::string_view name, bool developer_clone) {
    if (!developer_clone)
        return std::string(name);
    if (name.rfind("refs/tags/", 0) == 0)
        return std::string(name);
    if (name.rfind("refs/remotes/", 0) != 0)
        return std::nullopt;
    const auto slash = name.find('/', 13);
    if (slash == std::string_view::npos)
        return std::nullopt;
    return "refs/heads/" + std::string(name.substr(slash + 1));
}

} // namespace

// Not git_revwalk_hide_glob: libgit2 matches its glob with WM_PATHNAME, so "refs/*" would
// reach no ref below refs/heads/ and hide nothing.
void hide_refs(git_repository* repo, git_revwalk* walk,
               const std::function<bool(std::string_view name)>& wanted) {
    for_each_ref_commit(repo, nullptr, [&](std::string_view name, const git_oid& commit) {
        if (wanted(name))
            check(git_revwalk_hide(walk, &commit), "hide an existing ref");
    });
}

void hide_existing_refs(git_repository* repo, git_revwalk* walk, bool developer_clone,
                        const std::vector<std::string>& only) {
    hide_refs(repo, walk, [&](std::string_view ref_name) {
        const auto name = server_name(ref_name, developer_clone);
        return name && (only.empty() || glob_match_any(only, *name));
    });
}

merge_commits find_merge_commits(git_repository* repo, const git_oid& tip,
                                 const std::optional<git_oid>& exclude, bool developer_clone,
                                 const std::vector<std::string>& hidden_refs,
                                 std::size_t max_listed) {
    git_revwalk* raw = nullptr;
    check(git_revwalk_new(&raw, repo), "start a history walk");
    revwalk_ptr walk(raw);
    check(git_revwalk_push(walk.get(), &tip), "walk from the new tip");
    if (exclude)
        check(git_revwalk_hide(walk.get(), &*exclude), "hide the old tip");
    else
        hide_existing_refs(repo, walk.get(), developer_clone, hidden_refs);
    merge_commits merges;
    git_oid id;
    int rc;
    while ((rc = git_revwalk_next(&id, walk.get())) == 0) {
        git_commit* commit_raw = nullptr;
        check(git_commit_lookup(&commit_raw, repo, &id), "read commit");
        commit_ptr commit(commit_raw);
        if (git_commit_parentcount(commit.get()) > 1) {
            if (merges.listed.size() < max_listed) {
                const char* summary = git_commit_summary(commit.get());
                merges.listed.push_back({id, summary ? summary : ""});
            }
            ++merges.total;
        }
    }
    if (rc != GIT_ITEROVER)
        check(rc, "walk the pushed commits");
    return merges;
}

bool is_ancestor(git_repository* repo, const git_oid& ancestor, const git_oid& descendant) {
    if (git_oid_equal(&ancestor, &descendant))
        return true;
    const int rc = git_graph_descendant_of(repo, &descendant, &ancestor);
    check(rc, "compare the old and new tips");
    return rc == 1;
}

} // namespace trunkgate
