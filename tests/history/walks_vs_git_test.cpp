// Every history walk answers as git does on generated histories (issue 13): with no commit-graph,
// with a full one, with split chains, with graphs that miss the newest commits, and with damaged
// graphs, whose answers must stay those git gives for the undamaged repository.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/sandbox.hpp"
#include "trunkgate/events/pushed_history.hpp"
#include "trunkgate/gate/commits.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/history.hpp"
#include "trunkgate/report/report_walks.hpp"

using namespace trunkgate;
namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------------------------------------
// Generated histories

// One commit of a generated history: its parents (indexes of earlier commits) and committer time.
// `stage` says which third of the history it was made in, so graphs can cover a prefix of it.
struct planned_commit {
    std::vector<int> parents;
    long long time = 0;
    int stage = 0;
};

struct history_plan {
    std::vector<planned_commit> commits;
    std::vector<int> trunk;                        ///< trunk commits, oldest first
    std::vector<std::pair<std::string, int>> refs; ///< branch refs and the commit each names
    std::vector<int> pushed_tips;                  ///< on no ref, like commits in a quarantine
    std::vector<int> octopus_merges;               ///< trunk merges with three or more parents
};

// How the committer dates of a side branch run: each commit after its parent; the first one
// dated before its parent and the rest after it (a rebase with --committer-date-is-author-date,
// a skewed clock); every commit dated before its parent; all at the same second.
enum class dating { forward, rebased, backwards, frozen };

// How a generated history is dated. `increasing`: every commit after its parents. `skewed`:
// also parents and children at the same second, rebased branches, and branches dated days
// before their parents. Without a commit-graph, measure_branch trusts committer dates (history.hpp,
// docs/design.md) and miscounts such histories; with a full graph it must be exact on them
// (issue 13).
enum class dates { increasing, skewed };

// Builds a trunk with side branches forked at various depths (some off other side branches),
// merged back one at a time or several at once (octopus), branches that merge trunk into
// themselves, branches dated before their parents, and runs of equal timestamps. Deterministic
// for a seed.
class history_generator {
  public:
    history_generator(unsigned seed, dates dating_mode) : random_(seed), dates_(dating_mode) {}

    history_plan generate(int trunk_length) {
        clock_ = 1700000000;
        plan_.trunk.push_back(add({}, clock_));
        for (int i = 1; i < trunk_length; ++i) {
            stage_ = i * 3 / trunk_length;
            clock_ += dates_ == dates::skewed && chance(15) ? 0 : uniform(1, 3600);
            const int roll = uniform(0, 99);
            if (i % (trunk_length / 3) == 0)
                merge_fresh_octopus();
            else if (roll < 14)
                fork_side_branch();
            else if (roll < 24 && !open_.empty())
                merge_open_branches();
            else if (roll < 30 && !open_.empty())
                merge_trunk_into_a_branch();
            else
                plan_.trunk.push_back(add({plan_.trunk.back()}, clock_));
        }
        stage_ = 2;
        name_refs_and_pushes();
        return plan_;
    }

  private:
    int uniform(int low, int high) {
        return std::uniform_int_distribution<int>(low, high)(random_);
    }
    bool chance(int percent) { return uniform(0, 99) < percent; }
    template <typename T> const T& pick(const std::vector<T>& from) {
        return from[static_cast<std::size_t>(uniform(0, static_cast<int>(from.size()) - 1))];
    }

    int add(std::vector<int> parents, long long time) {
        plan_.commits.push_back({std::move(parents), time, stage_});
        return static_cast<int>(plan_.commits.size()) - 1;
    }

    long long time_of(int commit) const {
        return plan_.commits[static_cast<std::size_t>(commit)].time;
    }

    // `length` commits on top of `base`, each dated by `style` relative to its parent.
    int grow_branch(int base, int length, dating style) {
        int tip = base;
        for (int i = 0; i < length; ++i) {
            long long when = time_of(tip);
            if (style == dating::forward || (style == dating::rebased && i > 0))
                when += uniform(1, 1800);
            else if (style == dating::rebased)
                when -= uniform(60, 2 * 3600); // a few trunk commits deep
            else if (style == dating::backwards)
                when -= uniform(3600, 5 * 86400); // across dozens of trunk commits
            tip = add({tip}, when);
        }
        return tip;
    }

    dating random_dating() {
        const int roll = uniform(0, 99);
        if (dates_ == dates::increasing)
            return dating::forward;
        return roll < 15   ? dating::rebased
               : roll < 30 ? dating::backwards
               : roll < 45 ? dating::frozen
                           : dating::forward;
    }

    int trunk_commit_back(int most) {
        const int back = uniform(0, std::min(most, static_cast<int>(plan_.trunk.size()) - 1));
        return plan_.trunk[plan_.trunk.size() - 1 - static_cast<std::size_t>(back)];
    }

    void fork_side_branch() {
        const int base = !open_.empty() && chance(20) ? pick(open_) : trunk_commit_back(60);
        open_.push_back(grow_branch(base, uniform(1, 8), random_dating()));
        plan_.trunk.push_back(add({plan_.trunk.back()}, clock_));
    }

    // A trunk commit whose parents are trunk's tip and then `branches`, dated after all of them
    // (a branch grown forward from an old fork point may be newer than trunk's clock).
    void merge_into_trunk(const std::vector<int>& branches) {
        std::vector<int> parents{plan_.trunk.back()};
        parents.insert(parents.end(), branches.begin(), branches.end());
        for (const int parent : parents)
            clock_ = std::max(clock_, time_of(parent) + 1);
        plan_.trunk.push_back(add(parents, clock_));
        if (parents.size() >= 3)
            plan_.octopus_merges.push_back(plan_.trunk.back());
    }

    void merge_open_branches() {
        const auto count = std::min<std::size_t>(open_.size(), chance(30) ? 3 : 1);
        std::vector<int> merged;
        for (std::size_t i = 0; i < count; ++i) {
            const auto at =
                static_cast<std::size_t>(uniform(0, static_cast<int>(open_.size()) - 1));
            merged.push_back(open_[at]);
            open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(at));
        }
        merge_into_trunk(merged);
    }

    // Every history has octopus merges, whatever the dice say: their extra parents live in the
    // graph's EDGE chunk, which the damage cases need.
    void merge_fresh_octopus() {
        const int base = trunk_commit_back(20);
        merge_into_trunk({grow_branch(base, uniform(1, 4), dating::forward),
                          grow_branch(base, uniform(1, 4), random_dating()),
                          grow_branch(base, uniform(1, 4), random_dating())});
    }

    void merge_trunk_into_a_branch() {
        auto& branch =
            open_[static_cast<std::size_t>(uniform(0, static_cast<int>(open_.size()) - 1))];
        branch = add({branch, plan_.trunk.back()}, std::max(time_of(branch), clock_) + 1);
        branch = grow_branch(branch, uniform(0, 2), random_dating());
        plan_.trunk.push_back(add({plan_.trunk.back()}, clock_));
    }

    // Branches still open get refs, except every third, which is left on no ref as a push in
    // flight; more pushes grow from old and new commits, some merging trunk.
    void name_refs_and_pushes() {
        plan_.refs.emplace_back("refs/heads/main", plan_.trunk.back());
        for (std::size_t i = 0; i < open_.size(); ++i) {
            if (i % 3 == 2)
                plan_.pushed_tips.push_back(open_[i]);
            else
                plan_.refs.emplace_back("refs/heads/topic/" + std::to_string(i), open_[i]);
        }
        const std::vector<int> push_bases{plan_.trunk.back(), trunk_commit_back(100),
                                          plan_.refs.back().second, trunk_commit_back(250)};
        for (const int base : push_bases) {
            int tip = grow_branch(base, uniform(1, 5), random_dating());
            if (chance(50))
                tip = add({tip, trunk_commit_back(30)}, std::max(time_of(tip), clock_) + 1);
            plan_.pushed_tips.push_back(grow_branch(tip, uniform(0, 3), random_dating()));
        }
    }

    std::mt19937 random_;
    dates dates_;
    history_plan plan_;
    std::vector<int> open_; ///< tips of side branches not merged yet
    long long clock_ = 0;
    int stage_ = 0;
};

// A bare repository holding a generated history, made with `git fast-import`.
struct generated_repository {
    std::string path;
    history_plan plan;
    std::vector<std::string> ids; ///< the object id of each planned commit
};

std::string fast_import_stream(const history_plan& plan) {
    std::ostringstream stream;
    for (std::size_t i = 0; i < plan.commits.size(); ++i) {
        const auto& commit = plan.commits[i];
        const auto message = "commit " + std::to_string(i) + "\n";
        if (commit.parents.empty())
            stream << "reset refs/heads/scratch\n"; // a root: forget the scratch ref's tip
        stream << "commit refs/heads/scratch\nmark :" << i + 1 << "\ncommitter Dev Eloper "
               << "<dev@example.com> " << commit.time << " +0000\ndata " << message.size() << "\n"
               << message;
        for (std::size_t p = 0; p < commit.parents.size(); ++p)
            stream << (p == 0 ? "from :" : "merge :") << commit.parents[p] + 1 << "\n";
        stream << "\n";
    }
    for (const auto& [ref, commit] : plan.refs)
        stream << "reset " << ref << "\nfrom :" << commit + 1 << "\n\n";
    return stream.str();
}

std::string must_git(const testing::git_sandbox& sandbox, const std::string& repo,
                     const std::vector<std::string>& args, const std::string& input = "") {
    std::vector<std::string> argv{"git"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto result = testing::run(argv, repo, sandbox.environment(), input);
    INFO("git " << args.front() << ": " << result.all());
    REQUIRE(result.status == 0);
    return result.out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            lines.push_back(line);
    return lines;
}

generated_repository make_repository(const testing::git_sandbox& sandbox, const std::string& name,
                                     unsigned seed, int trunk_length, dates dating_mode) {
    generated_repository made{sandbox.dir() + "/" + name,
                              history_generator(seed, dating_mode).generate(trunk_length),
                              {}};
    must_git(sandbox, sandbox.dir(), {"init", "-q", "--bare", made.path});
    const auto marks = sandbox.dir() + "/" + name + ".marks";
    must_git(sandbox, made.path, {"fast-import", "--quiet", "--export-marks=" + marks},
             fast_import_stream(made.plan));
    must_git(sandbox, made.path, {"update-ref", "-d", "refs/heads/scratch"});
    made.ids.resize(made.plan.commits.size());
    for (const auto& line : lines_of(testing::read_file(marks))) {
        const auto space = line.find(' ');
        made.ids[std::stoul(line.substr(1, space - 1)) - 1] = line.substr(space + 1);
    }
    REQUIRE(std::none_of(made.ids.begin(), made.ids.end(),
                         [](const std::string& id) { return id.empty(); }));
    return made;
}

// ---------------------------------------------------------------------------------------------
// git's answers

// Asks git, never through a commit-graph. Every answer comes from full `git rev-list X` lists,
// which no date or generation cut can shorten: `git rev-list --count A..B` gives the same counts
// on these histories (checked while writing this test), but is itself a walk that stops on dates,
// and `git merge-base --is-ancestor A D` answers whether A is in `git rev-list D`.
class git_oracle {
  public:
    git_oracle(const testing::git_sandbox& sandbox, const std::string& repo)
        : sandbox_(sandbox), repo_(repo) {}

    std::vector<std::string> rev_list(const std::vector<std::string>& args) {
        std::vector<std::string> full{"-c", "core.commitGraph=false", "rev-list"};
        full.insert(full.end(), args.begin(), args.end());
        return lines_of(must_git(sandbox_, repo_, full));
    }

    const std::set<std::string>& reachable_from(const std::string& id) {
        auto known = reachable_.find(id);
        if (known == reachable_.end()) {
            const auto listed = rev_list({id});
            known =
                reachable_.emplace(id, std::set<std::string>(listed.begin(), listed.end())).first;
        }
        return known->second;
    }

  private:
    const testing::git_sandbox& sandbox_;
    std::string repo_;
    std::map<std::string, std::set<std::string>> reachable_;
};

std::set<std::string> minus(const std::set<std::string>& from, const std::set<std::string>& gone) {
    std::set<std::string> left;
    std::set_difference(from.begin(), from.end(), gone.begin(), gone.end(),
                        std::inserter(left, left.end()));
    return left;
}

// What git says about one (tip, trunk) pair.
struct branch_case {
    std::string tip, trunk;
    std::int64_t ahead = 0, behind = 0;
    std::optional<long long> oldest_time; ///< of the tip commits not on trunk
    std::set<std::string> oldest_commits; ///< those with that time (equal timestamps happen)
    std::set<std::string> merges;         ///< merge commits in trunk..tip
};

struct ancestry_case {
    std::string ancestor, descendant;
    bool answer = false;
};

// What git says about the pushes in flight: commits reachable from their tips and from no ref.
struct push_case {
    std::vector<std::string> tips;
    std::vector<std::set<std::string>> new_per_tip; ///< `git rev-list TIP --not --all`
    std::vector<std::set<std::string>> merges_per_tip;
    std::set<std::string> new_commits;            ///< `git rev-list TIPS... --not --all`
    std::map<std::string, std::size_t> first_tip; ///< the first tip (push order) adding each
};

struct git_answers {
    std::vector<branch_case> branches;
    std::vector<ancestry_case> ancestry;
    push_case push;
    std::map<std::string, std::string> labels; ///< object id -> name in messages
};

// The commits the queries start from: every branch and push tip, the trunk commits the damage
// cases aim at (a third and two thirds of the way up), the octopus merges and their parents, and
// random commits. git lists the ancestors of each once; every pair is answered from those lists.
std::vector<int> query_endpoints(const history_plan& plan, std::mt19937& random) {
    std::set<int> endpoints(plan.pushed_tips.begin(), plan.pushed_tips.end());
    for (const auto& [ref, commit] : plan.refs)
        endpoints.insert(commit);
    const std::size_t third = plan.trunk.size() / 3;
    for (const std::size_t at : {third, third + 1, 2 * third, 2 * third + 1, std::size_t{0}})
        endpoints.insert(plan.trunk[at]);
    for (const int octopus : plan.octopus_merges) {
        const auto& parents = plan.commits[static_cast<std::size_t>(octopus)].parents;
        endpoints.insert(octopus);
        endpoints.insert(parents.begin(), parents.end());
    }
    std::uniform_int_distribution<int> any_commit(0, static_cast<int>(plan.commits.size()) - 1);
    for (int i = 0; i < 12; ++i)
        endpoints.insert(any_commit(random));
    return {endpoints.begin(), endpoints.end()};
}

// (tip, trunk) pairs: every branch and push against trunk, and random pairs of endpoints.
std::vector<std::pair<int, int>>
branch_pairs(const history_plan& plan, const std::vector<int>& endpoints, std::mt19937& random) {
    std::uniform_int_distribution<std::size_t> any(0, endpoints.size() - 1);
    std::vector<std::pair<int, int>> pairs;
    for (const auto& [ref, tip] : plan.refs)
        pairs.emplace_back(tip, plan.trunk.back());
    for (const int tip : plan.pushed_tips)
        pairs.emplace_back(tip, plan.trunk.back());
    for (int i = 0; i < 24; ++i)
        pairs.emplace_back(endpoints[any(random)], endpoints[any(random)]);
    pairs.emplace_back(plan.trunk.front(), plan.trunk.back());
    return pairs;
}

// Each endpoint against trunk's tip both ways round and against two random endpoints.
std::vector<std::pair<int, int>>
ancestry_pairs(const history_plan& plan, const std::vector<int>& endpoints, std::mt19937& random) {
    std::uniform_int_distribution<std::size_t> any(0, endpoints.size() - 1);
    std::vector<std::pair<int, int>> pairs;
    for (const int endpoint : endpoints) {
        pairs.emplace_back(endpoint, plan.trunk.back());
        pairs.emplace_back(plan.trunk.back(), endpoint);
        pairs.emplace_back(endpoint, endpoints[any(random)]);
        pairs.emplace_back(endpoints[any(random)], endpoint);
    }
    return pairs;
}

std::string commit_label(const generated_repository& repo, int commit) {
    for (const auto& [ref, tip] : repo.plan.refs)
        if (tip == commit)
            return ref;
    return "c" + std::to_string(commit);
}

// Asked once per history, before any commit-graph exists: damaged graphs are then judged
// against answers no graph could have influenced.
git_answers ask_git(const testing::git_sandbox& sandbox, const generated_repository& repo,
                    unsigned seed) {
    git_oracle git(sandbox, repo.path);
    git_answers answers;
    for (std::size_t i = 0; i < repo.ids.size(); ++i)
        answers.labels[repo.ids[i]] = commit_label(repo, static_cast<int>(i));
    std::map<std::string, long long> times;
    std::vector<std::string> everything{"--all", "--timestamp"};
    for (const int tip : repo.plan.pushed_tips)
        everything.push_back(repo.ids[static_cast<std::size_t>(tip)]);
    for (const auto& line : git.rev_list(everything))
        times[line.substr(line.find(' ') + 1)] = std::stoll(line.substr(0, line.find(' ')));
    everything[1] = "--merges";
    const auto merge_list = git.rev_list(everything);
    const std::set<std::string> merges(merge_list.begin(), merge_list.end());
    const auto merges_in = [&](const std::set<std::string>& commits) {
        std::set<std::string> found;
        for (const auto& id : commits)
            if (merges.count(id))
                found.insert(id);
        return found;
    };

    std::mt19937 random(seed);
    const auto endpoints = query_endpoints(repo.plan, random);
    for (const auto& [tip_index, trunk_index] : branch_pairs(repo.plan, endpoints, random)) {
        branch_case one;
        one.tip = repo.ids[static_cast<std::size_t>(tip_index)];
        one.trunk = repo.ids[static_cast<std::size_t>(trunk_index)];
        const auto ahead = minus(git.reachable_from(one.tip), git.reachable_from(one.trunk));
        one.ahead = static_cast<std::int64_t>(ahead.size());
        one.behind = static_cast<std::int64_t>(
            minus(git.reachable_from(one.trunk), git.reachable_from(one.tip)).size());
        for (const auto& id : ahead) {
            if (!one.oldest_time || times.at(id) < *one.oldest_time) {
                one.oldest_time = times.at(id);
                one.oldest_commits.clear();
            }
            if (times.at(id) == *one.oldest_time)
                one.oldest_commits.insert(id);
        }
        one.merges = merges_in(ahead);
        answers.branches.push_back(std::move(one));
    }
    for (const auto& [a, d] : ancestry_pairs(repo.plan, endpoints, random)) {
        const auto& ancestor = repo.ids[static_cast<std::size_t>(a)];
        const auto& descendant = repo.ids[static_cast<std::size_t>(d)];
        answers.ancestry.push_back(
            {ancestor, descendant, git.reachable_from(descendant).count(ancestor) != 0});
    }

    const auto on_refs = git.rev_list({"--all"});
    const std::set<std::string> referenced(on_refs.begin(), on_refs.end());
    auto& push = answers.push;
    for (const int tip : repo.plan.pushed_tips) {
        push.tips.push_back(repo.ids[static_cast<std::size_t>(tip)]);
        push.new_per_tip.push_back(minus(git.reachable_from(push.tips.back()), referenced));
        push.merges_per_tip.push_back(merges_in(push.new_per_tip.back()));
        for (const auto& id : push.new_per_tip.back()) {
            push.first_tip.emplace(id, push.tips.size() - 1);
            push.new_commits.insert(id);
        }
    }
    return answers;
}

// ---------------------------------------------------------------------------------------------
// The walks' answers

git_oid oid_of(const std::string& hex) {
    git_oid oid;
    REQUIRE(git_oid_fromstr(&oid, hex.c_str()) == 0);
    return oid;
}

std::set<std::string> hex_set(const std::vector<git_oid>& ids) {
    std::set<std::string> hex;
    for (const auto& id : ids)
        hex.insert(to_hex(id));
    return hex;
}

// Collects every answer that differs from git's, so a failure lists them all at once.
class mismatches {
  public:
    explicit mismatches(const git_answers& answers) : answers_(answers) {}

    std::string name(const std::string& id) const {
        const auto found = answers_.labels.find(id);
        return found == answers_.labels.end() ? id.substr(0, 12) : found->second;
    }

    template <typename T>
    void expect_equal(const std::string& what, const T& walked, const T& git_said) {
        if (!(walked == git_said)) {
            std::ostringstream text;
            text << what << ": walk says " << describe(walked) << ", git says "
                 << describe(git_said);
            found_.push_back(text.str());
        }
    }
    void expect(const std::string& what, bool holds) {
        if (!holds)
            found_.push_back(what);
    }
    // Runs one query; an exception is a wrong answer too (a damaged graph must make the walks
    // fall back, not reject the push).
    void ask(const std::string& what, const std::function<void()>& query) {
        try {
            query();
        } catch (const std::exception& error) {
            found_.push_back(what + ": threw " + error.what());
        }
    }

    const std::vector<std::string>& found() const { return found_; }

  private:
    static std::string describe(std::int64_t value) { return std::to_string(value); }
    static std::string describe(bool value) { return value ? "true" : "false"; }
    std::string describe(const std::set<std::string>& ids) const {
        std::string text = std::to_string(ids.size()) + " commits {";
        for (const auto& id : ids)
            text += " " + name(id);
        return text + " }";
    }

    const git_answers& answers_;
    std::vector<std::string> found_;
};

branch_limits exact_limits() {
    branch_limits limits;
    limits.max_behind = 1000000000;
    limits.max_ahead = 1000000000;
    return limits;
}

std::string pair_name(const branch_case& pair, const mismatches& out) {
    return "(" + out.name(pair.tip) + " vs " + out.name(pair.trunk) + ")";
}

void compare_measure(git_repository* repo, const branch_case& expected, mismatches& out) {
    const auto what = pair_name(expected, out);
    out.ask("measure_branch" + what, [&] {
        const auto measured =
            measure_branch(repo, oid_of(expected.tip), oid_of(expected.trunk), exact_limits());
        out.expect_equal("ahead" + what, measured.ahead.count, expected.ahead);
        out.expect_equal("behind" + what, measured.behind.count, expected.behind);
        out.expect("complete" + what,
                   measured.complete && !measured.ahead.at_least && !measured.behind.at_least);
        out.expect_equal("has an oldest branch commit" + what, measured.oldest.has_value(),
                         expected.oldest_time.has_value());
        if (measured.oldest && expected.oldest_time) {
            out.expect_equal("oldest time" + what, measured.oldest_time,
                             static_cast<std::int64_t>(*expected.oldest_time));
            out.expect("oldest commit" + what + " is " + out.name(to_hex(*measured.oldest)),
                       expected.oldest_commits.count(to_hex(*measured.oldest)) != 0);
        }
    });
}

void compare_merges(git_repository* repo, const branch_case& expected, mismatches& out) {
    const auto what = pair_name(expected, out);
    out.ask("find_merge_commits" + what, [&] {
        const auto merges = find_merge_commits(repo, oid_of(expected.tip), oid_of(expected.trunk),
                                               false, {}, expected.merges.size());
        out.expect_equal("merges" + what, merges.total,
                         static_cast<std::int64_t>(expected.merges.size()));
        std::vector<git_oid> listed;
        for (const auto& merge : merges.listed)
            listed.push_back(merge.id);
        out.expect_equal("listed merges" + what, hex_set(listed), expected.merges);
    });
}

void compare_ancestry(git_repository* repo, const ancestry_case& expected, mismatches& out) {
    const auto what =
        "is_ancestor(" + out.name(expected.ancestor) + ", " + out.name(expected.descendant) + ")";
    out.ask(what, [&] {
        out.expect_equal(what,
                         is_ancestor(repo, oid_of(expected.ancestor), oid_of(expected.descendant)),
                         expected.answer);
    });
}

// A push that creates refs/heads/new/<i> at each tip in flight.
struct pushed_refs {
    policy rules_policy;
    push_view view{rules_policy, {}, std::nullopt, {}, {}};

    explicit pushed_refs(const std::vector<std::string>& tips) {
        for (std::size_t i = 0; i < tips.size(); ++i) {
            ref_facts ref;
            ref.update = {testing::zero_id, tips[i], "refs/heads/new/" + std::to_string(i)};
            ref.kind = update_kind::create;
            ref.new_target = {true, GIT_OBJECT_COMMIT, oid_of(tips[i])};
            view.pushed_tips[ref.update.ref] = oid_of(tips[i]);
            view.refs.push_back(std::move(ref));
        }
    }
};

void compare_push(git_repository* repo, const push_case& expected, mismatches& out) {
    std::vector<git_oid> tips;
    for (const auto& tip : expected.tips)
        tips.push_back(oid_of(tip));
    out.ask("pushed_history", [&] {
        const pushed_history history(repo, tips, pre_push_tips(repo, {}));
        std::set<std::string> is_new;
        for (const auto& id : expected.new_commits)
            if (history.is_new(oid_of(id)))
                is_new.insert(id);
        out.expect_equal("pushed_history new commits", is_new, expected.new_commits);
        out.expect_equal("pushed_history size", static_cast<std::int64_t>(history.size()),
                         static_cast<std::int64_t>(expected.new_commits.size()));
        const ref_lister lister(repo, history);
        for (std::size_t i = 0; i < tips.size(); ++i) {
            const auto listed = lister.list(tips[i], std::nullopt, 1000000);
            out.expect_equal("event commits of " + out.name(expected.tips[i]),
                             hex_set(listed.newest_first), expected.new_per_tip[i]);
        }
    });
    for (std::size_t i = 0; i < tips.size(); ++i)
        out.ask("find_merge_commits(" + out.name(expected.tips[i]) + " --not --all)", [&] {
            const auto merges = find_merge_commits(repo, tips[i], std::nullopt, false, {}, 0);
            out.expect_equal("merges of " + out.name(expected.tips[i]) + " --not --all",
                             merges.total,
                             static_cast<std::int64_t>(expected.merges_per_tip[i].size()));
        });
    out.ask("for_each_new_commit", [&] {
        const pushed_refs push(expected.tips);
        commit_walk_options options;
        options.diffs = false;
        std::set<std::string> visited;
        std::set<std::string> misattributed;
        for_each_new_commit(repo, push.view, options, [&](const commit_facts& commit) {
            const auto id = to_hex(commit.id);
            visited.insert(id);
            const auto first = expected.first_tip.find(id);
            if (first != expected.first_tip.end() &&
                commit.ref != push.view.refs[first->second].update.ref)
                misattributed.insert(id);
        });
        out.expect_equal("[commits] new commits", visited, expected.new_commits);
        out.expect_equal("[commits] commits given to a later ref", misattributed, {});
    });
}

enum class walks { all, all_but_measure_branch, only_measure_branch, only_ancestry };

// The walks' answers against git's, through a freshly opened repository (so that nothing read
// from an earlier graph state is reused). `state` names the graph state in the failure.
void check_walks_equal_git(const std::string& repo_path, const git_answers& expected,
                           const std::string& state, walks compared = walks::all) {
    const auto repo = open_repository(repo_path);
    mismatches out(expected);
    const bool measure = compared == walks::all || compared == walks::only_measure_branch;
    const bool new_commit_walks =
        compared == walks::all || compared == walks::all_but_measure_branch;
    for (const auto& branch : expected.branches) {
        if (measure)
            compare_measure(repo.get(), branch, out);
        if (new_commit_walks)
            compare_merges(repo.get(), branch, out);
    }
    if (compared != walks::only_measure_branch)
        for (const auto& ancestry : expected.ancestry)
            compare_ancestry(repo.get(), ancestry, out);
    if (new_commit_walks)
        compare_push(repo.get(), expected.push, out);
    INFO("commit-graph state: " << state);
    CHECK(out.found() == std::vector<std::string>{});
}

// ---------------------------------------------------------------------------------------------
// Commit-graph files

std::string graph_file(const std::string& repo) {
    return repo + "/objects/info/commit-graph";
}
std::string graph_chain_dir(const std::string& repo) {
    return repo + "/objects/info/commit-graphs";
}
std::string graph_chain_file(const std::string& repo) {
    return graph_chain_dir(repo) + "/commit-graph-chain";
}

void remove_commit_graphs(const std::string& repo) {
    fs::remove(graph_file(repo));
    fs::remove_all(graph_chain_dir(repo));
}

std::vector<std::string> ids_of_stages(const generated_repository& repo, int last_stage) {
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < repo.ids.size(); ++i)
        if (repo.plan.commits[i].stage <= last_stage)
            ids.push_back(repo.ids[i]);
    return ids;
}

// One graph file (or, with `split`, one more layer of the chain) holding the commits named and
// their ancestors.
void write_graph_of(const testing::git_sandbox& sandbox, const std::string& repo,
                    const std::vector<std::string>& commits, bool split) {
    std::string input;
    for (const auto& id : commits)
        input += id + "\n";
    std::vector<std::string> args{"commit-graph", "write", "--no-progress", "--stdin-commits"};
    if (split)
        args.push_back("--split=no-merge");
    must_git(sandbox, repo, args, input);
}

void write_reachable_graph(const testing::git_sandbox& sandbox, const std::string& repo,
                           bool split) {
    std::vector<std::string> args{"commit-graph", "write", "--no-progress", "--reachable"};
    if (split)
        args.push_back("--split=no-merge");
    must_git(sandbox, repo, args);
}

// A chain of one layer per stage up to `last_stage`, then one with every reachable commit when
// `cover_everything`.
void write_graph_chain(const testing::git_sandbox& sandbox, const generated_repository& repo,
                       int last_stage, bool cover_everything) {
    remove_commit_graphs(repo.path);
    for (int stage = 0; stage <= last_stage; ++stage)
        write_graph_of(sandbox, repo.path, ids_of_stages(repo, stage), true);
    if (cover_everything)
        write_reachable_graph(sandbox, repo.path, true);
    REQUIRE_FALSE(fs::exists(graph_file(repo.path)));
    REQUIRE(lines_of(testing::read_file(graph_chain_file(repo.path))).size() ==
            static_cast<std::size_t>(last_stage + 1 + (cover_everything ? 1 : 0)));
}

// git writes graph files read-only.
void overwrite_file(const std::string& path, const std::string& bytes) {
    if (fs::exists(path))
        fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

std::uint32_t get_u32(const std::string& bytes, std::size_t at) {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i)
        value = (value << 8) | static_cast<unsigned char>(bytes.at(at + i));
    return value;
}
std::uint64_t get_u64(const std::string& bytes, std::size_t at) {
    return (std::uint64_t{get_u32(bytes, at)} << 32) | get_u32(bytes, at + 4);
}
void put_u32(std::string& bytes, std::size_t at, std::uint32_t value) {
    for (std::size_t i = 0; i < 4; ++i)
        bytes.at(at + i) = static_cast<char>((value >> (8 * (3 - i))) & 0xff);
}
void put_u64(std::string& bytes, std::size_t at, std::uint64_t value) {
    put_u32(bytes, at, static_cast<std::uint32_t>(value >> 32));
    put_u32(bytes, at + 4, static_cast<std::uint32_t>(value));
}

// Where things are in a commit-graph file (git's gitformat-commit-graph): an 8-byte header, a
// table of (chunk id, offset) entries ending in a zero id, the chunks, a trailing checksum.
struct graph_layout {
    static constexpr std::size_t hash_size = 20;
    static constexpr std::size_t cdat_row = hash_size + 16;
    static constexpr std::uint32_t no_parent = 0x70000000;
    static constexpr std::uint32_t edge_flag = 0x80000000;

    std::uint32_t commits = 0;
    std::map<std::string, std::size_t> chunk_start;
    std::map<std::string, std::size_t> chunk_end;
    std::map<std::string, std::size_t> table_entry; ///< where each chunk's offset is written

    explicit graph_layout(const std::string& bytes) {
        REQUIRE(bytes.compare(0, 4, "CGPH") == 0);
        const std::size_t chunk_count = static_cast<unsigned char>(bytes.at(6));
        for (std::size_t i = 0; i < chunk_count; ++i) {
            const std::size_t entry = 8 + 12 * i;
            const auto id = bytes.substr(entry, 4);
            chunk_start[id] = get_u64(bytes, entry + 4);
            chunk_end[id] = get_u64(bytes, entry + 12 + 4);
            table_entry[id] = entry;
        }
        REQUIRE(chunk_start.count("OIDF"));
        REQUIRE(chunk_start.count("OIDL"));
        REQUIRE(chunk_start.count("CDAT"));
        commits = get_u32(bytes, chunk_start["OIDF"] + 4 * 255);
    }

    std::size_t fanout(std::size_t first_byte) const {
        return chunk_start.at("OIDF") + 4 * first_byte;
    }
    std::size_t oid(std::uint32_t position) const {
        return chunk_start.at("OIDL") + hash_size * position;
    }
    std::size_t row(std::uint32_t position) const {
        return chunk_start.at("CDAT") + cdat_row * position;
    }
    std::size_t first_parent(std::uint32_t position) const { return row(position) + hash_size; }
    std::size_t second_parent(std::uint32_t position) const {
        return row(position) + hash_size + 4;
    }
    std::size_t level_and_time(std::uint32_t position) const {
        return row(position) + hash_size + 8;
    }
    std::size_t corrected_date_offset(std::uint32_t position) const {
        return chunk_start.at("GDA2") + 4 * position;
    }

    // The position of commit `hex` in the file (its index in OIDL).
    std::uint32_t position_of(const std::string& bytes, const std::string& hex) const {
        const auto raw = oid_of(hex);
        const std::string wanted(reinterpret_cast<const char*>(raw.id), hash_size);
        for (std::uint32_t i = 0; i < commits; ++i)
            if (bytes.compare(oid(i), hash_size, wanted) == 0)
                return i;
        FAIL("commit " << hex << " is not in the commit-graph");
        return 0;
    }
};

// Writes the SHA-1 of everything before the trailer into the trailer, so that a damaged file
// still passes a checksum test: otherwise a reader that hashes the file would reject every case
// below for one reason and never show that its other checks work. (git does not hash the file
// when it reads it; only `git commit-graph verify` does.)
void reseal(const testing::git_sandbox& sandbox, std::string& bytes) {
    const auto body = bytes.substr(0, bytes.size() - graph_layout::hash_size);
    const auto hashed = testing::run({"sha1sum"}, sandbox.dir(), {}, body);
    REQUIRE(hashed.status == 0);
    for (std::size_t i = 0; i < graph_layout::hash_size; ++i)
        bytes[body.size() + i] =
            static_cast<char>(std::stoi(hashed.out.substr(2 * i, 2), nullptr, 16));
}

// The commits the damage cases aim at, all on trunk so that many answers pass through them.
struct damage_targets {
    std::string victim;        ///< a trunk commit a third of the way up
    std::string victim_parent; ///< its first parent
    std::string trunk_tip;
    std::string late_victim, late_victim_parent; ///< the same two thirds of the way up
};

damage_targets pick_targets(const generated_repository& repo) {
    const auto& trunk = repo.plan.trunk;
    const auto id = [&](std::size_t at) { return repo.ids[static_cast<std::size_t>(trunk[at])]; };
    const std::size_t third = trunk.size() / 3;
    return {id(third + 1), id(third), id(trunk.size() - 1), id(2 * third + 1), id(2 * third)};
}

// One way of damaging a commit-graph file in place, keeping its size unless it truncates.
struct graph_damage {
    std::string name;
    std::function<void(std::string& bytes, const graph_layout& layout,
                       const damage_targets& targets)>
        apply;
    bool reseal = true; ///< write a matching checksum afterwards
};

graph_damage truncation(const std::string& where,
                        std::function<std::size_t(const graph_layout&)> length) {
    return {"truncated " + where,
            [length](std::string& bytes, const graph_layout& layout, const damage_targets&) {
                bytes.resize(length(layout));
            },
            false};
}

graph_damage byte_change(const std::string& name, std::size_t at, char value) {
    return {name, [at, value](std::string& bytes, const graph_layout&, const damage_targets&) {
                bytes.at(at) = value;
            }};
}

// The last octopus merge in the file: its second-parent word points into EDGE.
std::uint32_t an_octopus_position(const std::string& bytes, const graph_layout& layout) {
    for (std::uint32_t i = layout.commits; i-- > 0;)
        if (get_u32(bytes, layout.second_parent(i)) & graph_layout::edge_flag &&
            get_u32(bytes, layout.second_parent(i)) != graph_layout::no_parent)
            return i;
    FAIL("the commit-graph has no octopus merge");
    return 0;
}

std::vector<graph_damage> single_file_damages() {
    using targets_t = damage_targets;
    return {
        truncation("inside the header", [](const graph_layout&) { return 6; }),
        truncation("inside the chunk table", [](const graph_layout&) { return 8 + 12 + 5; }),
        truncation("inside the fanout",
                   [](const graph_layout& l) { return l.chunk_start.at("OIDF") + 100; }),
        truncation("inside the commit data",
                   [](const graph_layout& l) { return l.row(l.commits / 2) + 3; }),
        truncation("by one byte of the checksum",
                   [](const graph_layout& l) { return l.chunk_end.at("CDAT") + 1; }),
        byte_change("with a wrong signature", 0, 'X'),
        byte_change("with version 2", 4, 2),
        byte_change("with hash version 2 (SHA-256) in a SHA-1 repository", 5, 2),
        byte_change("with an unknown hash version", 5, 9),
        {"with a wrong checksum",
         [](std::string& bytes, const graph_layout&, const targets_t&) { bytes.back() ^= 1; },
         false},
        {"with the CDAT chunk offset past the end of the file",
         [](std::string& bytes, const graph_layout& l, const targets_t&) {
             put_u64(bytes, l.table_entry.at("CDAT") + 4, bytes.size() + 4096);
         }},
        {"with the OIDL and CDAT chunk offsets out of order",
         [](std::string& bytes, const graph_layout& l, const targets_t&) {
             put_u64(bytes, l.table_entry.at("OIDL") + 4, l.chunk_start.at("CDAT"));
             put_u64(bytes, l.table_entry.at("CDAT") + 4, l.chunk_start.at("OIDL"));
         }},
        {"with a fanout that decreases",
         [](std::string& bytes, const graph_layout& l, const targets_t&) {
             put_u32(bytes, l.fanout(127), l.commits);
         }},
        {"with two OIDL entries out of order",
         [](std::string& bytes, const graph_layout& l, const targets_t& t) {
             // Swapped with its neighbour, the victim's row is read for the neighbour's id.
             const auto at = l.position_of(bytes, t.victim);
             const auto other = at + 1 < l.commits ? at + 1 : at - 1;
             const auto first = bytes.substr(l.oid(at), graph_layout::hash_size);
             bytes.replace(l.oid(at), graph_layout::hash_size,
                           bytes.substr(l.oid(other), graph_layout::hash_size));
             bytes.replace(l.oid(other), graph_layout::hash_size, first);
         }},
        {"with a parent position beyond the number of commits",
         [](std::string& bytes, const graph_layout& l, const targets_t& t) {
             put_u32(bytes, l.first_parent(l.position_of(bytes, t.victim)), l.commits + 7);
         }},
        {"with a parent of higher generation (trunk's tip as a parent of an old commit)",
         [](std::string& bytes, const graph_layout& l, const targets_t& t) {
             put_u32(bytes, l.first_parent(l.position_of(bytes, t.victim)),
                     l.position_of(bytes, t.trunk_tip));
         }},
        {"with a topological level (CDAT) of a parent above its child's",
         [](std::string& bytes, const graph_layout& l, const targets_t& t) {
             const auto at = l.level_and_time(l.position_of(bytes, t.late_victim_parent));
             put_u32(bytes, at, (0x3fffffffu << 2) | (get_u32(bytes, at) & 3));
         }},
        {"with a topological level (CDAT) of a child below its parent's",
         [](std::string& bytes, const graph_layout& l, const targets_t& t) {
             const auto at = l.level_and_time(l.position_of(bytes, t.late_victim));
             put_u32(bytes, at, (1u << 2) | (get_u32(bytes, at) & 3));
         }},
        {"with a corrected commit date (GDA2) of a parent above its child's",
         [](std::string& bytes, const graph_layout& l, const targets_t& t) {
             REQUIRE(l.chunk_start.count("GDA2"));
             put_u32(bytes, l.corrected_date_offset(l.position_of(bytes, t.late_victim_parent)),
                     0x7fffffff);
         }},
        {"with a corrected commit date (GDA2) overflow entry past GDO2",
         [](std::string& bytes, const graph_layout& l, const targets_t& t) {
             REQUIRE(l.chunk_start.count("GDA2"));
             put_u32(bytes, l.corrected_date_offset(l.position_of(bytes, t.late_victim)),
                     0x80000000u | 1000);
         }},
        {"with the EDGE list's last entry lacking its terminator bit",
         [](std::string& bytes, const graph_layout& l, const targets_t&) {
             REQUIRE(l.chunk_start.count("EDGE"));
             const auto last = l.chunk_end.at("EDGE") - 4;
             put_u32(bytes, last, get_u32(bytes, last) & ~graph_layout::edge_flag);
         }},
        {"with an octopus merge's EDGE index past the EDGE chunk",
         [](std::string& bytes, const graph_layout& l, const targets_t&) {
             REQUIRE(l.chunk_start.count("EDGE"));
             const auto edges = (l.chunk_end.at("EDGE") - l.chunk_start.at("EDGE")) / 4;
             put_u32(bytes, l.second_parent(an_octopus_position(bytes, l)),
                     graph_layout::edge_flag | static_cast<std::uint32_t>(edges + 3));
         }},
    };
    // Out of scope: damage that leaves a consistent but wrong graph, e.g. a parent position
    // changed to another commit of lower generation, or a commit time changed within what its
    // generation allows. Nothing short of re-reading every commit object can tell those from the
    // truth, and git trusts them too.
}

// The walks against git's answers with no graph, one file with every commit on a ref, one file
// missing the newest two thirds of the history (as when commits arrived after `git gc`, or sit
// in a push's quarantine: walks cross from commits outside the graph into it), and split chains
// with and without the newest commits. `expected` is asked before any graph exists.
void check_every_graph_state(const testing::git_sandbox& sandbox, const generated_repository& repo,
                             const git_answers& expected, walks compared,
                             bool without_graph = true) {
    if (without_graph)
        check_walks_equal_git(repo.path, expected, "none", compared);

    write_reachable_graph(sandbox, repo.path, false);
    check_walks_equal_git(repo.path, expected, "one file with every commit on a ref", compared);

    remove_commit_graphs(repo.path);
    write_graph_of(sandbox, repo.path, ids_of_stages(repo, 0), false);
    check_walks_equal_git(repo.path, expected, "one file with the oldest third", compared);

    write_graph_chain(sandbox, repo, 0, true);
    check_walks_equal_git(repo.path, expected, "a chain of two layers with everything", compared);

    write_graph_chain(sandbox, repo, 1, false);
    check_walks_equal_git(repo.path, expected, "a chain of two layers missing the newest third",
                          compared);

    write_graph_chain(sandbox, repo, 1, true);
    check_walks_equal_git(repo.path, expected, "a chain of three layers with everything", compared);
    remove_commit_graphs(repo.path);
}

} // namespace

TEST_CASE("history walks: answers equal git's with and without a commit-graph",
          "[history][graph]") {
    libgit2_guard libgit2;
    testing::git_sandbox sandbox;
    const unsigned seed = GENERATE(1u, 2u);
    INFO("history seed " << seed);
    const auto repo = make_repository(sandbox, "generated.git", seed, 160, dates::increasing);
    REQUIRE(repo.plan.octopus_merges.size() >= 2);
    check_every_graph_state(sandbox, repo, ask_git(sandbox, repo, seed), walks::all);
}

// Without a graph, the walks that list new commits stop on committer dates as git's limit_list
// does, and dates days before their parents can mislead them too (the history this seed makes
// under clang did); ancestry is still exact. With a graph, commits outside it are all painted
// before the walk stops, so every walk but measure_branch is exact in every graph state, the
// partial ones included.
TEST_CASE("history walks: skewed and equal dates mislead only the date-trusting walks",
          "[history][graph]") {
    libgit2_guard libgit2;
    testing::git_sandbox sandbox;
    const unsigned seed = 4;
    const auto repo = make_repository(sandbox, "generated.git", seed, 200, dates::skewed);
    const auto expected = ask_git(sandbox, repo, seed);
    check_walks_equal_git(repo.path, expected, "none", walks::only_ancestry);
    check_every_graph_state(sandbox, repo, expected, walks::all_but_measure_branch,
                            /*without_graph=*/false);
}

// Issue 13: with a graph, walks are ordered by generation numbers, not by dates, so
// measure_branch is exact where, without one, equal and skewed dates mislead it.
TEST_CASE("history walks: with a full commit-graph measure_branch is exact on skewed dates",
          "[history][graph]") {
    libgit2_guard libgit2;
    testing::git_sandbox sandbox;
    const unsigned seed = 4;
    const auto repo = make_repository(sandbox, "generated.git", seed, 200, dates::skewed);
    const auto expected = ask_git(sandbox, repo, seed);
    write_reachable_graph(sandbox, repo.path, false);
    check_walks_equal_git(repo.path, expected, "one file with every commit on a ref",
                          walks::only_measure_branch);
    write_graph_chain(sandbox, repo, 1, true);
    check_walks_equal_git(repo.path, expected, "a chain of three layers with everything",
                          walks::only_measure_branch);
}

TEST_CASE("history walks: a damaged commit-graph changes no answer", "[history][graph]") {
    libgit2_guard libgit2;
    testing::git_sandbox sandbox;
    const unsigned seed = 3;
    const auto repo = make_repository(sandbox, "generated.git", seed, 100, dates::increasing);
    const auto expected = ask_git(sandbox, repo, seed);
    write_reachable_graph(sandbox, repo.path, false);
    const auto pristine = testing::read_file(graph_file(repo.path));
    const graph_layout layout(pristine);
    const auto targets = pick_targets(repo);

    for (const auto& damage : single_file_damages()) {
        auto bytes = pristine;
        damage.apply(bytes, layout, targets);
        if (damage.reseal)
            reseal(sandbox, bytes);
        REQUIRE(bytes != pristine);
        overwrite_file(graph_file(repo.path), bytes);
        check_walks_equal_git(repo.path, expected, "one file " + damage.name);
    }

    // A graph from another repository whose history shares its first commits with this one (the
    // same seed, a shorter trunk): it names commits this repository lacks, and for the shared
    // ones it is right.
    const auto other = make_repository(sandbox, "other.git", seed, 40, dates::increasing);
    REQUIRE(other.ids.front() == repo.ids.front());
    REQUIRE(other.ids.back() != repo.ids.back());
    write_reachable_graph(sandbox, other.path, false);
    overwrite_file(graph_file(repo.path), testing::read_file(graph_file(other.path)));
    check_walks_equal_git(repo.path, expected, "one file copied from another repository");

    // core.commitGraph=false: the file is not read, so noise after a valid header and chunk
    // table does no harm (whatever a reader's checks would make of it).
    auto noise = pristine;
    std::mt19937 random(seed);
    for (std::size_t i = layout.chunk_start.at("OIDF"); i < noise.size(); ++i)
        noise[i] = static_cast<char>(random() & 0xff);
    overwrite_file(graph_file(repo.path), noise);
    must_git(sandbox, repo.path, {"config", "core.commitGraph", "false"});
    check_walks_equal_git(repo.path, expected, "noise, with core.commitGraph=false");
    must_git(sandbox, repo.path, {"config", "--unset", "core.commitGraph"});

    const auto layer_file = [&](const std::string& hash) {
        return graph_chain_dir(repo.path) + "/graph-" + hash + ".graph";
    };
    const auto chain_of_two_layers = [&] {
        write_graph_chain(sandbox, repo, 0, true);
        return lines_of(testing::read_file(graph_chain_file(repo.path)));
    };

    auto layers = chain_of_two_layers();
    fs::remove(layer_file(layers.front()));
    check_walks_equal_git(repo.path, expected, "a chain naming a missing base layer");

    layers = chain_of_two_layers();
    overwrite_file(graph_chain_file(repo.path),
                   layers[0] + "\n" + layers[1] + "\n" + std::string(40, 'a') + "\n");
    check_walks_equal_git(repo.path, expected, "a chain naming a layer that does not exist");

    layers = chain_of_two_layers();
    const auto top = testing::read_file(layer_file(layers.back()));
    overwrite_file(layer_file(layers.back()), top.substr(0, top.size() / 2));
    check_walks_equal_git(repo.path, expected, "a chain whose top layer is cut in half");

    layers = chain_of_two_layers();
    overwrite_file(graph_chain_file(repo.path), layers[1] + "\n" + layers[0] + "\n");
    check_walks_equal_git(repo.path, expected, "a chain listing its layers in the wrong order");
}

// The report measures live branches from trunk's ancestry (report/report_walks.hpp): pure set
// arithmetic, so exact whatever the dates and with or without a graph, wherever it answers.
TEST_CASE("history walks: the report's trunk ancestry counts like git on skewed dates",
          "[history][graph][report]") {
    libgit2_guard libgit2;
    testing::git_sandbox sandbox;
    const unsigned seed = 4;
    const auto repo = make_repository(sandbox, "generated.git", seed, 200, dates::skewed);
    const auto expected = ask_git(sandbox, repo, seed);
    for (const bool graph : {false, true}) {
        if (graph)
            write_reachable_graph(sandbox, repo.path, false);
        const auto opened = open_repository(repo.path);
        mismatches out(expected);
        with_commit_graph(opened.get(), [&](const commit_graph* file) {
            commit_nodes nodes(opened.get(), file);
            std::map<std::string, trunk_ancestry> by_trunk;
            for (const auto& pair : expected.branches) {
                auto found = by_trunk.find(pair.trunk);
                if (found == by_trunk.end())
                    found = by_trunk.emplace(pair.trunk, trunk_ancestry(nodes, oid_of(pair.trunk)))
                                .first;
                const auto measured = found->second.measure(oid_of(pair.tip));
                const auto what = pair_name(pair, out);
                out.expect_equal("ahead" + what, measured.ahead, pair.ahead);
                out.expect_equal("behind" + what, measured.behind, pair.behind);
                out.expect("oldest time" + what, measured.oldest_time == pair.oldest_time);
            }
            return 0;
        });
        INFO("commit-graph: " << (graph ? "every commit" : "none"));
        CHECK(out.found() == std::vector<std::string>{});
        CHECK(expected.branches.size() >= 10);
    }
}
