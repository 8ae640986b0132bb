#include "trunkgate/history/history.hpp"

#include <cstring>
#include <functional>
#include <limits>
#include <queue>

#include "trunkgate/history/commit_nodes.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/new_commits.hpp"

namespace trunkgate {

namespace {

enum : std::uint8_t { on_trunk = 1, on_tip = 2, stale = 4, pending = 8, finalized = 16 };

// The two-colour paint of git's merge-base search (paint_down_to_common), extended to count the
// commits only one side reaches. A commit's colours are final once the walk has moved past its
// key (generation, then committer time: see commit_nodes::walk_key), so commits are counted a
// key level at a time.
class two_sided_walk {
  public:
    two_sided_walk(git_repository* repo, const commit_graph* graph, const branch_limits& limits)
        : nodes_(repo, graph), limits_(limits) {}

    branch_measure run(const git_oid& tip, const git_oid& trunk) {
        prepaint(nodes_.node_for(trunk), on_trunk);
        prepaint(nodes_.node_for(tip), on_tip);
        while (nonstale_queued_ > 0) {
            const auto [key, index] = queue_.top();
            queue_.pop();
            leave_queue(index);
            if (key < level_) {
                finalize_pending();
                if (decided()) {
                    result_.complete = false;
                    break;
                }
                level_ = key;
            }
            visit(index);
        }
        finalize_pending();
        mark_bounds();
        return result_;
    }

  private:
    // Reads a commit's key and parents; the parents themselves are read when first painted.
    void parse(std::uint32_t index) {
        if (!nodes_.parse(index))
            throw internal_error("commit " + to_hex(nodes_[index].id) + " is missing");
    }

    // Colours the nearest ancestors of one side, breadth first, before the walk begins. Colours
    // only grow and these are true, so this cannot make a count wrong; it makes counts right
    // where committer dates run backwards among commits the commit-graph does not order (a
    // rebase with --committer-date-is-author-date, a skewed clock): trunk commits just under such
    // a branch would otherwise be counted as behind before the walk reaches the branch commits.
    // The budget is small on purpose: every commit read here is a page-faulting index look-up in
    // a large repository without a graph (bench/: 512 made a 10-commit push cost in proportion to
    // the history). Each commit passes on every colour it has, so where the sides meet, common
    // ancestors get both at once.
    void prepaint(std::uint32_t start, std::uint8_t colour) {
        constexpr std::size_t budget = 64;
        paint(start, colour);
        std::vector<std::uint32_t> seen{start};
        for (std::size_t i = 0; i < seen.size() && seen.size() < budget; ++i) {
            parse(seen[i]);
            const auto colours =
                static_cast<std::uint8_t>(nodes_[seen[i]].flags & (on_trunk | on_tip));
            for (const auto parent : nodes_.parent_list(seen[i])) {
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
        queue_.emplace(nodes_.key(index), index);
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
        for (const auto parent : nodes_.parent_list(index)) // paint() may grow the nodes
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

    void count_ahead(const commit_nodes::node& counted) {
        ++result_.ahead.count;
        if (!result_.oldest || counted.time < result_.oldest_time) {
            result_.oldest = counted.id;
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

    commit_nodes nodes_;
    const branch_limits& limits_;
    std::priority_queue<std::pair<commit_nodes::walk_key, std::uint32_t>> queue_;
    std::vector<std::uint32_t> pending_;
    std::int64_t nonstale_queued_ = 0;
    commit_nodes::walk_key level_{commit_nodes::infinite_generation,
                                  std::numeric_limits<std::int64_t>::max()};
    branch_measure result_;
};

} // namespace

branch_measure measure_branch(git_repository* repo, const git_oid& tip, const git_oid& trunk,
                              const branch_limits& limits) {
    if (!limits.max_behind && !limits.max_ahead && !limits.oldest_allowed_time)
        return {};
    return with_commit_graph(repo, [&](const commit_graph* graph) {
        return two_sided_walk(repo, graph, limits).run(tip, trunk);
    });
}

merge_commits find_merge_commits(git_repository* repo, const git_oid& tip,
                                 const std::optional<git_oid>& exclude, bool developer_clone,
                                 const std::vector<std::string>& hidden_refs,
                                 std::size_t max_listed) {
    hidden_commits hidden;
    if (exclude)
        hidden.commits.push_back(*exclude);
    else {
        hidden.existing_refs = true;
        hidden.developer_clone = developer_clone;
        hidden.only = hidden_refs;
    }
    merge_commits merges;
    for (const auto& found : new_commits(repo, {tip}, hidden)) {
        if (found.parents.size() < 2)
            continue;
        if (merges.listed.size() < max_listed) {
            const auto commit = find_commit(repo, found.id);
            const char* summary = commit ? git_commit_summary(commit->get()) : nullptr;
            merges.listed.push_back({found.id, summary ? summary : ""});
        }
        ++merges.total;
    }
    return merges;
}

namespace {

// Whether `ancestor` is reachable from `descendant`, from the commit-graph's generation numbers:
// no commit of a generation at or below the ancestor's can reach it, so the search never goes
// below it. An ancestor outside the graph has an infinite generation: then only commits outside
// the graph (those since it was written) can reach it, and the search never enters the graph. It
// does not use libgit2's git_graph_descendant_of, which would map the graph a second time and
// hash all of it.
bool reachable_by_generation(git_repository* repo, const commit_graph& graph,
                             const git_oid& ancestor, const git_oid& descendant) {
    commit_nodes nodes(repo, &graph);
    const auto target = nodes.node_for(ancestor);
    if (!nodes.parse(target))
        return false;
    const auto floor = nodes[target].generation;
    std::vector<std::uint32_t> pending{nodes.node_for(descendant)};
    constexpr std::uint8_t seen = 1;
    nodes[pending.back()].flags = seen;
    while (!pending.empty()) {
        const auto index = pending.back();
        pending.pop_back();
        if (index == target)
            return true;
        if (!nodes.parse(index))
            continue;
        const auto generation = nodes[index].generation;
        const bool cannot_reach = floor == commit_nodes::infinite_generation
                                      ? generation != commit_nodes::infinite_generation
                                      : generation <= floor;
        if (cannot_reach)
            continue;
        for (const auto parent : nodes.parent_list(index))
            if (!(nodes[parent].flags & seen)) {
                nodes[parent].flags = seen;
                pending.push_back(parent);
            }
    }
    return false;
}

} // namespace

bool is_ancestor(git_repository* repo, const git_oid& ancestor, const git_oid& descendant) {
    if (git_oid_equal(&ancestor, &descendant))
        return true;
    return with_commit_graph(repo, [&](const commit_graph* graph) {
        if (graph)
            return reachable_by_generation(repo, *graph, ancestor, descendant);
        const int rc = git_graph_descendant_of(repo, &descendant, &ancestor);
        check(rc, "compare the old and new tips");
        return rc == 1;
    });
}

} // namespace trunkgate
