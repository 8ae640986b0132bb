#pragma once
// A read-only view of git's commit-graph (objects/info/commit-graph, or a chain of layers in
// objects/info/commit-graphs/), mapped into memory: each commit's parents, committer time and
// generation number without reading or inflating the commit object. The format is git's
// gitformat-commit-graph. The file is doubted: whatever it says is checked as far as it can be
// without reading every byte, and a contradiction throws commit_graph_doubt so that the walk can
// be redone from the objects.

#include <git2.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace trunkgate {

/// The commit-graph contradicted itself (a parent out of range, generations out of order, ids
/// out of order): nothing it said can be trusted for this walk.
class commit_graph_doubt : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class commit_graph {
  public:
    /// No parent (GRAPH_PARENT_NONE's role in the file).
    static constexpr std::uint32_t no_position = 0xffffffffu;

    /// The repository's commit-graph, or nullptr when there is none to use: no file, git told not
    /// to use one (core.commitGraph = false), a shallow or grafted repository (where parents are
    /// not what the objects say), or files that fail validation. `why_not`, when given, receives
    /// the reason for a file that exists but is not used.
    static std::unique_ptr<commit_graph> open(git_repository* repo, std::string* why_not = nullptr);

    /// The same graph, opened once per process and file: a later call in the same repository
    /// reuses it while its file (or chain) is unchanged, so a push of 10,000 refs maps it once.
    static std::shared_ptr<const commit_graph> shared(git_repository* repo);

    ~commit_graph();
    commit_graph(const commit_graph&) = delete;
    commit_graph& operator=(const commit_graph&) = delete;

    /// Commits in all layers.
    std::uint32_t size() const { return size_; }
    /// True when generations are corrected commit dates (GDA2), false for topological levels.
    bool corrected_dates() const { return corrected_dates_; }
    /// The files read, base layer first.
    std::vector<std::string> files() const;

    /// The commit's position, or nullopt when the graph does not have it.
    std::optional<std::uint32_t> find(const git_oid& id) const;

    /// One commit's record: its committer time and generation (greater than every parent's).
    struct record_view {
        std::int64_t time;
        std::uint64_t generation;
    };

    /// The accessors throw commit_graph_doubt when a record disagrees with its parents: a parent
    /// outside the graph or of a generation not below its own, or a generation other than the one
    /// its parents and time give. (The order of the ids and the fanout are checked when the file
    /// is opened, so a commit find() does not find is not in the graph.)
    git_oid id(std::uint32_t position) const;
    std::uint64_t generation(std::uint32_t position) const;
    /// The record without its parents (which are still read, to check it).
    record_view key(std::uint32_t position) const;
    /// The record, with the parents' positions appended to `parents` in order.
    record_view read(std::uint32_t position, std::vector<std::uint32_t>& parents) const;

    /// What `git commit-graph verify` checks first and a walk cannot afford to: each layer's
    /// trailing checksum (and, in a chain, that it matches the layer's file name) and the order of
    /// every id. Returns the first problem, or nullopt when the files are sound.
    std::optional<std::string> verify() const;

    struct layer;

  private:
    commit_graph() = default;
    const layer& layer_of(std::uint32_t position) const;
    record_view unchecked_record(const layer& file, std::uint32_t position) const;
    template <typename Visit>
    void for_each_parent(const layer& file, std::uint32_t position, Visit&& visit) const;

    std::vector<std::unique_ptr<layer>> layers_;
    std::uint32_t size_ = 0;
    bool corrected_dates_ = true;
};

} // namespace trunkgate
