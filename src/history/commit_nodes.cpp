#include "trunkgate/history/commit_nodes.hpp"

#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <string_view>

namespace trunkgate {

namespace {

struct odb_object_deleter {
    void operator()(git_odb_object* object) const noexcept { git_odb_object_free(object); }
};
using odb_object_ptr = std::unique_ptr<git_odb_object, odb_object_deleter>;

// Parents and committer time from a commit's header lines, as git's parse_commit_buffer.
void parse_header(std::string_view text, std::vector<git_oid>& parents, std::int64_t& time) {
    text = text.substr(0, text.find("\n\n"));
    std::size_t line_start = 0;
    while (line_start < text.size()) {
        auto line_end = text.find('\n', line_start);
        if (line_end == std::string_view::npos)
            line_end = text.size();
        const auto line = text.substr(line_start, line_end - line_start);
        git_oid parent;
        if (line.rfind("parent ", 0) == 0 && line.size() >= 7 + GIT_OID_HEXSZ &&
            git_oid_fromstrn(&parent, line.data() + 7, GIT_OID_HEXSZ) == 0)
            parents.push_back(parent);
        else if (line.rfind("committer ", 0) == 0) {
            const auto close = line.rfind('>');
            if (close != std::string_view::npos)
                time = std::strtoll(std::string(line.substr(close + 1)).c_str(), nullptr, 10);
        }
        line_start = line_end + 1;
    }
}

} // namespace

commit_nodes::commit_nodes(git_repository* repo, const commit_graph* graph)
    : repo_(repo), graph_(graph) {
    git_odb* raw = nullptr;
    check(git_repository_odb(&raw, repo_), "open the object database");
    odb_.reset(raw);
    // Room for every commit of the graph: an address range, not memory, until a walk touches
    // it, and the nodes are never copied as the walk grows (that copying was a quarter of a
    // 45,000-commit walk).
    if (graph_)
        nodes_.reserve(std::size_t(graph_->size()) + 1024);
}

// Commits of the graph are found by position, so only the others are kept by id.
std::uint32_t commit_nodes::node_for(const git_oid& id) {
    const auto known = by_id_.find(id);
    if (known != by_id_.end())
        return known->second;
    if (const auto position = graph_ ? graph_->find(id) : std::nullopt)
        return node_at(*position);
    const auto index = static_cast<std::uint32_t>(nodes_.size());
    nodes_.emplace_back();
    nodes_.back().id = id;
    by_id_.emplace(id, index);
    return index;
}

// The node of the graph's commit at `position`; found by position, so no id is hashed.
// The table is as long as the graph but calloc'd: only the pages a walk touches cost anything.
std::uint32_t commit_nodes::node_at(std::uint32_t position) {
    if (!by_position_) {
        by_position_.reset(static_cast<std::uint32_t*>(std::calloc(graph_->size(), 4)));
        if (!by_position_)
            throw std::bad_alloc();
    }
    auto& slot = by_position_.get()[position]; // 0: none yet, else index + 1
    if (slot == 0) {
        nodes_.emplace_back();
        nodes_.back().id = graph_->id(position);
        nodes_.back().graph_position = position;
        slot = static_cast<std::uint32_t>(nodes_.size());
    }
    return slot - 1;
}

bool commit_nodes::prepare_key(std::uint32_t index) {
    auto& keyed = nodes_[index];
    if (keyed.keyed || keyed.graph_position == commit_graph::no_position)
        return parse(index);
    const auto record = graph_->key(keyed.graph_position);
    keyed.time = record.time;
    keyed.generation = record.generation;
    keyed.keyed = true;
    return true;
}

bool commit_nodes::parse(std::uint32_t index) {
    if (!nodes_[index].parsed) {
        if (nodes_[index].graph_position != commit_graph::no_position)
            parse_from_graph(index);
        else
            parse_from_object(index);
        nodes_[index].parsed = true;
        nodes_[index].keyed = true;
    }
    return !nodes_[index].missing;
}

void commit_nodes::parse_from_graph(std::uint32_t index) {
    const auto position = nodes_[index].graph_position;
    graph_parents_.clear();
    const auto record = graph_->read(position, graph_parents_);
    const auto begin = static_cast<std::uint32_t>(parent_pool_.size());
    for (const auto parent : graph_parents_)
        parent_pool_.push_back(node_at(parent));
    auto& parsed = nodes_[index];
    parsed.time = record.time;
    parsed.generation = record.generation;
    parsed.parents_begin = begin;
    parsed.parent_count = static_cast<std::uint32_t>(graph_parents_.size());
}

void commit_nodes::parse_from_object(std::uint32_t index) {
    git_odb_object* raw = nullptr;
    const auto id = nodes_[index].id;
    if (git_odb_read(&raw, odb_.get(), &id) != 0) {
        git_error_clear();
        nodes_[index].missing = true;
        return;
    }
    odb_object_ptr object(raw);
    if (git_odb_object_type(object.get()) != GIT_OBJECT_COMMIT) {
        nodes_[index].missing = true;
        return;
    }
    std::vector<git_oid> parent_ids;
    std::int64_t time = 0;
    parse_header({static_cast<const char*>(git_odb_object_data(object.get())),
                  git_odb_object_size(object.get())},
                 parent_ids, time);
    object.reset();
    const auto begin = static_cast<std::uint32_t>(parent_pool_.size());
    for (const auto& parent : parent_ids)
        parent_pool_.push_back(node_for(parent));
    auto& parsed = nodes_[index];
    parsed.time = time;
    parsed.parents_begin = begin;
    parsed.parent_count = static_cast<std::uint32_t>(parent_ids.size());
}

} // namespace trunkgate
