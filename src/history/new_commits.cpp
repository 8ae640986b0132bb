#include "trunkgate/history/new_commits.hpp"

#include <optional>
#include <queue>
#include <set>
#include <string_view>

#include "trunkgate/history/commit_nodes.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/ref_scan.hpp"
#include "trunkgate/policy/glob.hpp"

namespace trunkgate {

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

bool wanted(const hidden_commits& which, std::string_view ref_name) {
    if (which.except.count(ref_name))
        return false;
    const auto name = server_name(ref_name, which.developer_clone);
    return name && (which.only.empty() || glob_match_any(which.only, *name));
}

// The commit a ref names, reading as little as possible: a commit the graph has is a commit;
// packed-refs may carry a tag's peeled value; otherwise the object's type decides.
std::optional<git_oid> ref_target_commit(git_repository* repo, git_odb* odb,
                                         const commit_graph* graph, const scanned_ref& ref) {
    if (graph && graph->find(ref.target))
        return ref.target;
    if (ref.peeled)
        return ref.peeled; // a tag; the walk drops it if it names no commit
    std::size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    if (git_odb_read_header(&size, &type, odb, &ref.target) != 0) {
        git_error_clear();
        return std::nullopt;
    }
    if (type == GIT_OBJECT_COMMIT)
        return ref.target;
    if (type != GIT_OBJECT_TAG)
        return std::nullopt;
    return commit_of(repo, to_hex(ref.target));
}

// The literal beginnings of the globs: only refs under them need reading.
std::vector<std::string> scan_prefixes(const hidden_commits& which) {
    if (which.only.empty() || which.developer_clone)
        return {"refs/"};
    std::set<std::string> prefixes;
    for (const auto& glob : which.only) {
        auto literal = glob.substr(0, glob.find_first_of("*?[\\"));
        if (literal.rfind("refs/", 0) != 0)
            return {"refs/"};
        prefixes.insert(std::move(literal));
    }
    std::vector<std::string> minimal; // sorted, so a prefix comes before what it covers
    for (const auto& prefix : prefixes)
        if (minimal.empty() || prefix.rfind(minimal.back(), 0) != 0)
            minimal.push_back(prefix);
    return minimal;
}

std::vector<git_oid> ref_commits(git_repository* repo, const commit_graph* graph,
                                 const hidden_commits& which) {
    git_odb* odb_raw = nullptr;
    check(git_repository_odb(&odb_raw, repo), "open the object database");
    odb_ptr odb(odb_raw);
    std::vector<git_oid> commits;
    for (const auto& prefix : scan_prefixes(which))
        scan_refs(repo, prefix, [&](const scanned_ref& ref) {
            if (wanted(which, ref.name))
                if (const auto commit = ref_target_commit(repo, odb.get(), graph, ref))
                    commits.push_back(*commit);
        });
    return commits;
}

enum : std::uint8_t { hidden = 1, processed = 2, queued = 4 };

// The paint of git's limit_list: hidden-ness flows from the hidden tips down to their
// ancestors; a commit is new when the paint is over and it was reached from a tip and never
// hidden.
class new_commit_walk {
  public:
    new_commit_walk(git_repository* repo, const commit_graph* graph)
        : nodes_(repo, graph), has_graph_(graph != nullptr) {}

    std::vector<found_commit> run(const std::vector<git_oid>& tips,
                                  const std::vector<git_oid>& hidden_tips) {
        nodes_.reserve(2 * (tips.size() + hidden_tips.size()) + 1024);
        for (const auto& tip : hidden_tips)
            hide(nodes_.node_for(tip));
        for (const auto& tip : hidden_tips)
            enqueue(nodes_.node_for(tip));
        for (const auto& tip : tips)
            enqueue(nodes_.node_for(tip));
        paint();
        return children_first();
    }

  private:
    void enqueue(std::uint32_t index) {
        if (nodes_[index].flags & (processed | queued) || !nodes_.prepare_key(index))
            return;
        auto& node = nodes_[index]; // parse() may have grown the nodes
        node.flags |= queued;
        if (!(node.flags & hidden))
            ++new_in_queue_;
        queue_.emplace(nodes_.key(index), index);
    }

    // Marks `start` and everything already painted below it as reachable from a hidden tip.
    void hide(std::uint32_t start) {
        std::vector<std::uint32_t> pending{start};
        while (!pending.empty()) {
            const auto index = pending.back();
            pending.pop_back();
            auto& node = nodes_[index];
            if (node.flags & hidden)
                continue;
            node.flags |= hidden;
            if (node.flags & queued)
                --new_in_queue_;
            if (node.flags & processed)
                for (const auto parent : nodes_.parent_list(index))
                    pending.push_back(parent);
        }
    }

    // Once nothing queued can be new, the paint may stop where what is left cannot reach a
    // commit it called new. With a graph: once only graph commits are left (generations order
    // them exactly), so every hidden commit outside the graph, however it is dated, is painted
    // first; there are only as many as were made since the graph was written. Without one, only
    // committer dates order the queue, and the paint looks a few commits further, as git's
    // limit_list does, trusting the dates for the rest.
    void paint() {
        constexpr int slop = 5;
        int left = slop;
        while (!queue_.empty()) {
            if (new_in_queue_ == 0) {
                const bool outside_graph_left =
                    queue_.top().first.generation == commit_nodes::infinite_generation;
                if (has_graph_ ? !outside_graph_left : left-- == 0)
                    break;
            } else
                left = slop;
            const auto index = queue_.top().second;
            queue_.pop();
            auto& node = nodes_[index];
            node.flags = static_cast<std::uint8_t>((node.flags & ~queued) | processed);
            if (!(node.flags & hidden))
                --new_in_queue_;
            nodes_.parse(index);
            visit(index);
        }
    }

    void visit(std::uint32_t index) {
        const bool is_hidden = nodes_[index].flags & hidden;
        for (const auto parent : nodes_.parent_list(index)) {
            if (is_hidden)
                hide(parent);
            enqueue(parent);
        }
    }

    // Kahn's order over the new commits: a commit once all its new children are out, the
    // newest of those ready first.
    std::vector<found_commit> children_first() {
        std::vector<std::uint32_t> found;
        for (std::uint32_t i = 0; i < nodes_.size(); ++i)
            if ((nodes_[i].flags & (processed | hidden)) == processed)
                found.push_back(i);
        std::unordered_map<std::uint32_t, std::uint32_t> children;
        for (const auto index : found)
            for (const auto parent : nodes_.parent_list(index))
                if ((nodes_[parent].flags & (processed | hidden)) == processed)
                    ++children[parent];
        std::priority_queue<std::pair<commit_nodes::walk_key, std::uint32_t>> ready;
        for (const auto index : found)
            if (children.count(index) == 0)
                ready.emplace(nodes_.key(index), index);
        std::vector<found_commit> ordered;
        ordered.reserve(found.size());
        while (!ready.empty()) {
            const auto index = ready.top().second;
            ready.pop();
            found_commit commit{nodes_[index].id, {}};
            for (const auto parent : nodes_.parent_list(index)) {
                commit.parents.push_back(nodes_[parent].id);
                const auto waiting = children.find(parent);
                if (waiting != children.end() && --waiting->second == 0)
                    ready.emplace(nodes_.key(parent), parent);
            }
            ordered.push_back(std::move(commit));
        }
        return ordered;
    }

    commit_nodes nodes_;
    bool has_graph_;
    std::priority_queue<std::pair<commit_nodes::walk_key, std::uint32_t>> queue_;
    std::size_t new_in_queue_ = 0;
};

} // namespace

std::vector<git_oid> existing_ref_commits(git_repository* repo, const hidden_commits& which) {
    return with_commit_graph(
        repo, [&](const commit_graph* graph) { return ref_commits(repo, graph, which); });
}

std::vector<found_commit> new_commits(git_repository* repo, const std::vector<git_oid>& tips,
                                      const hidden_commits& hidden) {
    return with_commit_graph(repo, [&](const commit_graph* graph) {
        auto hidden_tips = hidden.commits;
        if (hidden.existing_refs) {
            const auto refs = ref_commits(repo, graph, hidden);
            hidden_tips.insert(hidden_tips.end(), refs.begin(), refs.end());
        }
        return new_commit_walk(repo, graph).run(tips, hidden_tips);
    });
}

} // namespace trunkgate
