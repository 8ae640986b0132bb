#include "trunkgate/gate/commits.hpp"

#include "trunkgate/history/git.hpp"
#include "trunkgate/history/new_commits.hpp"
#include "trunkgate/history/tree_diff.hpp"
#include "trunkgate/policy/glob.hpp"

namespace trunkgate {

namespace {

// The new commits in visiting order, with their parents (for attributing them to refs).
struct new_commit_set {
    std::vector<git_oid> ids;
    std::vector<std::vector<git_oid>> parents;
    std::vector<std::uint32_t> ref_index; ///< index into the push's refs
    oid_map<std::uint32_t> position;
};

std::vector<std::size_t> matching_refs(const push_view& push, const commit_walk_options& options) {
    std::vector<std::size_t> indexes;
    for (std::size_t i = 0; i < push.refs.size(); ++i) {
        const auto& ref = push.refs[i];
        // A queue submission's commits are judged as its target's would be.
        const auto& judged_as = ref.queue_target.empty() ? ref.update.ref : ref.queue_target;
        if (ref.kind != update_kind::remove && ref.new_target.commit &&
            glob_match_any(options.refs, judged_as))
            indexes.push_back(i);
    }
    return indexes;
}

new_commit_set list_new_commits(git_repository* repo, const push_view& push,
                                const commit_walk_options& options,
                                const std::vector<std::size_t>& refs) {
    std::vector<git_oid> tips;
    for (const auto index : refs)
        tips.push_back(*push.refs[index].new_target.commit);
    // Only refs the commit rules cover count as "already checked": a commit that came in through
    // a ref outside [commits].refs is judged when it first reaches one inside.
    hidden_commits hidden;
    hidden.existing_refs = true;
    hidden.developer_clone = push.context.developer_clone;
    hidden.only = options.refs;
    auto found = new_commits(repo, tips, hidden);
    new_commit_set set;
    // Parents first, as the commits were made.
    for (auto it = found.rbegin(); it != found.rend(); ++it) {
        set.position.emplace(it->id, static_cast<std::uint32_t>(set.ids.size()));
        set.ids.push_back(it->id);
        set.parents.push_back(std::move(it->parents));
    }
    return set;
}

// Each new commit belongs to the first ref (in push order) whose new tip reaches it.
void attribute_to_refs(const push_view& push, const std::vector<std::size_t>& refs,
                       new_commit_set& set) {
    constexpr auto unassigned = static_cast<std::uint32_t>(-1);
    if (refs.size() == 1) {
        set.ref_index.assign(set.ids.size(), static_cast<std::uint32_t>(refs.front()));
        return;
    }
    set.ref_index.assign(set.ids.size(), unassigned);
    std::vector<std::uint32_t> stack;
    for (const auto index : refs) {
        const auto tip = set.position.find(*push.refs[index].new_target.commit);
        if (tip == set.position.end() || set.ref_index[tip->second] != unassigned)
            continue;
        stack.push_back(tip->second);
        set.ref_index[tip->second] = static_cast<std::uint32_t>(index);
        while (!stack.empty()) {
            const auto current = stack.back();
            stack.pop_back();
            for (const auto& parent : set.parents[current]) {
                const auto found = set.position.find(parent);
                if (found == set.position.end() || set.ref_index[found->second] != unassigned)
                    continue;
                set.ref_index[found->second] = static_cast<std::uint32_t>(index);
                stack.push_back(found->second);
            }
        }
    }
}

std::string_view first_line(std::string_view message) {
    return message.substr(0, message.find('\n'));
}

std::string_view email_of(const git_signature* signature) {
    return signature && signature->email ? signature->email : "";
}

void visit_commit(git_repository* repo, git_odb* odb, const git_oid& id, const std::string& ref,
                  const commit_walk_options& options,
                  const std::function<void(const commit_facts&)>& visit) {
    const auto commit = find_commit(repo, id);
    if (!commit)
        throw internal_error("commit " + to_hex(id) + " is missing");
    commit_facts facts;
    facts.id = id;
    facts.ref = ref;
    const char* raw_message = git_commit_message_raw(commit->get());
    facts.message = raw_message ? raw_message : "";
    facts.subject = first_line(facts.message);
    facts.author_email = email_of(git_commit_author(commit->get()));
    facts.committer_email = email_of(git_commit_committer(commit->get()));
    if (options.diffs) {
        const tree_change_visitor record = [&](tree_change change, const std::string& path,
                                               const git_tree_entry* entry) {
            ++facts.changed_paths;
            if (change == tree_change::removed)
                return;
            changed_entry changed{path, *git_tree_entry_id(entry), git_tree_entry_filemode(entry),
                                  std::nullopt};
            const bool blob =
                changed.mode == GIT_FILEMODE_BLOB || changed.mode == GIT_FILEMODE_BLOB_EXECUTABLE;
            if (options.sizes && blob) {
                std::size_t size = 0;
                git_object_t type;
                check(git_odb_read_header(&size, &type, odb, &changed.id),
                      "read the size of " + path);
                changed.size = static_cast<std::int64_t>(size);
            }
            facts.entries.push_back(std::move(changed));
        };
        diff_commit(repo, commit->get(), record);
    }
    visit(facts);
}

} // namespace

void for_each_new_commit(git_repository* repo, const push_view& push,
                         const commit_walk_options& options,
                         const std::function<void(const commit_facts&)>& visit) {
    const auto refs = matching_refs(push, options);
    if (refs.empty())
        return;
    auto set = list_new_commits(repo, push, options, refs);
    attribute_to_refs(push, refs, set);
    git_odb* odb_raw = nullptr;
    check(git_repository_odb(&odb_raw, repo), "open the object database");
    odb_ptr odb(odb_raw);
    for (std::size_t i = 0; i < set.ids.size(); ++i)
        visit_commit(repo, odb.get(), set.ids[i], push.refs[set.ref_index[i]].update.ref, options,
                     visit);
}

} // namespace trunkgate
