#pragma once
// The commits a history walk has seen, numbered densely, each with its parents, committer time
// and generation: read from the commit-graph where it has them (no object is read or inflated),
// otherwise from the commit object's header lines. A walk mixes both: commits the graph does not
// cover (a new push, the quarantine, a graph older than the newest commits) have an infinite
// generation, which is true, since no commit in the graph can reach one outside it.

#include <git2.h>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "trunkgate/history/commit_graph.hpp"
#include "trunkgate/history/git.hpp"

namespace trunkgate {

class commit_nodes {
  public:
    static constexpr std::uint64_t infinite_generation = std::numeric_limits<std::uint64_t>::max();

    struct node {
        git_oid id;
        std::int64_t time = 0;
        std::uint64_t generation = infinite_generation;
        std::uint32_t graph_position = commit_graph::no_position;
        std::uint32_t parents_begin = 0; ///< into parent_pool
        std::uint32_t parent_count = 0;
        bool keyed = false;       ///< time and generation are read
        bool parsed = false;      ///< and the parents
        bool missing = false;     ///< no such commit (a shallow or broken history ends there)
        std::uint8_t flags = 0;   ///< the walk's own marks
        std::uint32_t queued = 0; ///< the walk's own count of queue entries
    };

    /// The order walks visit in: higher generation first, then newer committer time. Along every
    /// edge of the graph the child comes first; among commits outside it, only committer dates
    /// order them, as in git without a commit-graph.
    struct walk_key {
        std::uint64_t generation;
        std::int64_t time;
        bool operator<(const walk_key& other) const {
            return generation != other.generation ? generation < other.generation
                                                  : time < other.time;
        }
    };

    /// `graph` may be null: every commit is then read from the objects. Throws libgit2_error when
    /// the object database cannot be opened.
    commit_nodes(git_repository* repo, const commit_graph* graph);

    /// The node of commit `id`, made on first sight (not yet parsed).
    std::uint32_t node_for(const git_oid& id);
    /// Reads the node's parents, time and generation once. Returns false when the object is
    /// missing or is no commit. Throws commit_graph_doubt when the graph contradicts itself.
    bool parse(std::uint32_t index);
    /// Reads only what key() needs where that is cheaper (a commit in the graph); otherwise as
    /// parse().
    bool prepare_key(std::uint32_t index);
    void reserve(std::size_t nodes) { nodes_.reserve(nodes); }

    node& operator[](std::uint32_t index) { return nodes_[index]; }
    const node& operator[](std::uint32_t index) const { return nodes_[index]; }
    std::size_t size() const { return nodes_.size(); }
    walk_key key(std::uint32_t index) const {
        return {nodes_[index].generation, nodes_[index].time};
    }
    /// The parents' node indexes: valid until the next node is made.
    const std::uint32_t* parents(std::uint32_t index) const {
        return parent_pool_.data() + nodes_[index].parents_begin;
    }
    /// Copies the parents' node indexes (safe across node_for).
    std::vector<std::uint32_t> parent_list(std::uint32_t index) const {
        const auto* first = parents(index);
        return {first, first + nodes_[index].parent_count};
    }
    const commit_graph* graph() const { return graph_; }

  private:
    std::uint32_t node_at(std::uint32_t position);
    void parse_from_graph(std::uint32_t index);
    void parse_from_object(std::uint32_t index);

    git_repository* repo_;
    const commit_graph* graph_;
    odb_ptr odb_;
    std::vector<node> nodes_;
    std::vector<std::uint32_t> parent_pool_;
    std::vector<std::uint32_t> graph_parents_; // scratch
    oid_map<std::uint32_t> by_id_;
    struct free_deleter {
        void operator()(std::uint32_t* table) const noexcept { std::free(table); }
    };
    std::unique_ptr<std::uint32_t[], free_deleter> by_position_;
};

/// Runs `walk(graph)` with the repository's commit-graph when it has a usable one, and again with
/// nullptr when there is none or it proved self-contradictory: a damaged graph costs time, never
/// a wrong answer.
template <typename Walk> auto with_commit_graph(git_repository* repo, Walk&& walk) {
    if (const auto graph = commit_graph::shared(repo)) {
        try {
            return walk(graph.get());
        } catch (const commit_graph_doubt&) {
        }
    }
    return walk(static_cast<const commit_graph*>(nullptr));
}

} // namespace trunkgate
