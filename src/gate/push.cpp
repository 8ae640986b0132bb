#include "trunkgate/gate/push.hpp"

#include <chrono>
#include <map>

#include "trunkgate/events/events.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/policy/glob.hpp"
#include "trunkgate/util/identity.hpp"

namespace trunkgate {

namespace {

constexpr std::size_t merges_listed = 5;
// Pages of statuses (or of check runs) read for one commit, 100 each; more is "unavailable".
constexpr int max_status_pages = 50;
// Same-server redirects followed for one request (a renamed repository, a moved API).
constexpr int max_status_redirects = 3;

target_info describe_target(git_repository* repo, const std::string& hex) {
    target_info target;
    git_oid oid;
    if (is_zero_id(hex) || hex.size() != GIT_OID_HEXSZ ||
        git_oid_fromstrn(&oid, hex.data(), hex.size()) != 0)
        return target;
    git_object* raw = nullptr;
    const int rc = git_object_lookup(&raw, repo, &oid, GIT_OBJECT_ANY);
    if (rc == GIT_ENOTFOUND)
        return target;
    check(rc, "read object " + hex);
    object_ptr object(raw);
    target.exists = true;
    target.type = git_object_type(object.get());
    git_object* peeled_raw = nullptr;
    if (git_object_peel(&peeled_raw, object.get(), GIT_OBJECT_COMMIT) == 0) {
        object_ptr peeled(peeled_raw);
        target.commit = *git_object_id(peeled.get());
    } else {
        git_error_clear();
    }
    return target;
}

std::optional<git_oid> resolve_commit_ref(git_repository* repo, const std::string& name) {
    git_reference* raw = nullptr;
    const int rc = git_reference_lookup(&raw, repo, name.c_str());
    if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) {
        git_error_clear();
        return std::nullopt;
    }
    check(rc, "read " + name);
    reference_ptr ref(raw);
    return ref_commit(ref.get());
}

branch_limits limits_for(const policy& rules_policy, std::int64_t now) {
    const auto& branches = rules_policy.branches;
    branch_limits limits;
    if (rules_policy.level_of("up-to-date", level::block) != level::off)
        limits.max_behind = branches.max_behind;
    if (rules_policy.level_of("branch-size", level::block) != level::off)
        limits.max_ahead = branches.max_ahead;
    if (branches.max_age_days && rules_policy.level_of("branch-age", level::block) != level::off)
        limits.oldest_allowed_time = now - *branches.max_age_days * 86400;
    limits.stop_when_behind_exceeded =
        rules_policy.mode == policy_mode::enforce &&
        rules_policy.level_of("up-to-date", level::block) == level::block;
    return limits;
}

// The refs that promise linear history: merges reachable from them were judged when they came.
std::vector<std::string> linear_refs(const policy& rules_policy) {
    std::vector<std::string> globs;
    for (const auto& protection : rules_policy.protect)
        if (protection.linear_history)
            globs.insert(globs.end(), protection.refs.begin(), protection.refs.end());
    return globs;
}

bool wants_linear_history(const ref_facts& facts) {
    for (const auto* protection : facts.protections)
        if (protection->linear_history)
            return true;
    return false;
}

// Status look-ups for one push: each commit asked once, all of them within one time budget.
class status_lookups {
  public:
    status_lookups(git_repository* repo, const policy& rules_policy, const push_context& context)
        : repo_(repo), policy_(rules_policy), client_(context.status_client) {}

    // The statuses of `commit`, or nullopt with `problem` set when the backend gave no answer
    // or `damaged` set when the commit's status note does not parse.
    std::optional<status_map> statuses(const git_oid& commit, std::string& problem,
                                       std::string& damaged) {
        const auto& checks = policy_.checks;
        if (checks.source == checks_policy::source_kind::notes) {
            try {
                return read_statuses(repo_, checks.notes_ref, commit);
            } catch (const input_error& e) {
                damaged = e.what();
                return std::nullopt;
            }
        }
        const auto hex = to_hex(commit);
        if (const auto cached = answers_.find(hex); cached != answers_.end()) {
            problem = cached->second.second;
            return cached->second.first;
        }
        auto answer = ask(hex, problem);
        answers_[hex] = {answer, problem};
        return answer;
    }

  private:
    std::optional<status_map> ask(const std::string& hex, std::string& problem) {
        const auto& checks = policy_.checks;
        const auto full_name = repository_full_name(policy_, git_dir(repo_));
        status_map statuses, runs;
        // Across pages the first status of a context still wins: the newest comes first.
        const auto read_statuses_page = [&](const std::string& body, std::size_t& entries) {
            const auto page = parse_combined_status(body, &entries);
            statuses.insert(page.begin(), page.end());
        };
        std::size_t runs_read = 0;
        std::uint64_t runs_declared = 0; // the largest total_count a page gave
        const auto read_runs_page = [&](const std::string& body, std::size_t& entries) {
            std::optional<std::uint64_t> total;
            merge_statuses(runs, parse_check_runs(body, &entries, &total));
            runs_read += entries;
            runs_declared = std::max(runs_declared, total.value_or(0));
        };
        if (!checks.http_url.empty() && !read_pages(status_url(checks.http_url, full_name, hex), "",
                                                    problem, read_statuses_page))
            return std::nullopt;
        if (!checks.http_check_runs_url.empty() &&
            !read_pages(status_url(checks.http_check_runs_url, full_name, hex),
                        "check runs: ", problem, read_runs_page))
            return std::nullopt;
        if (runs_declared > runs_read) { // pages that lost runs on the way: never a pass
            problem = "check runs: the API counts " + std::to_string(runs_declared) +
                      " (total_count) but its pages held " + std::to_string(runs_read);
            return std::nullopt;
        }
        merge_statuses(statuses, runs);
        return statuses;
    }

    // Reads every page of a list, from `first` on, following Link rel="next" on the same
    // server. False with `problem` set (prefixed with `what`) when any page has no usable answer,
    // when the budget runs out before the last page or when there are more than max_status_pages:
    // a list read in part could hide the failing check, so it is never a pass.
    template <typename page_reader>
    bool read_pages(const std::string& first, const std::string& what, std::string& problem,
                    page_reader&& read_page) {
        const auto origin = url_origin(first);
        auto url = with_query_parameter(first, "per_page", "100");
        std::size_t entries = 0;
        for (int page = 1;; ++page) {
            const auto where = page == 1 ? "" : " (page " + std::to_string(page) + ")";
            if (page > max_status_pages) {
                problem = what + "more than " + std::to_string(max_status_pages) +
                          " pages for one commit";
                return false;
            }
            auto response = get_following_redirects(url, problem);
            if (!response) {
                problem = what + problem + where;
                return false;
            }
            try {
                std::size_t on_page = 0;
                read_page(response->body, on_page);
                entries += on_page;
            } catch (const input_error& e) {
                problem = what + "invalid answer" + where + ": " + e.what();
                return false;
            }
            const auto next = next_link(response->link, url);
            if (!next)
                return all_read(response->total_count, entries, what, problem);
            if (!origin || url_origin(*next) != origin) {
                problem = what + "the next page is on another server, " + url_authority(*next) +
                          " (" + redact_url(*next) + "): not read" + where;
                return false;
            }
            url = *next;
        }
    }

    // Gitea pages its combined status without a Link header and says how many entries there are
    // in X-Total-Count: fewer read than that is a list cut short, never a pass.
    static bool all_read(const std::string& total_count, std::size_t entries,
                         const std::string& what, std::string& problem) {
        if (total_count.empty() ||
            total_count.find_first_not_of("0123456789") != std::string::npos ||
            total_count.size() > 18 || std::stoull(total_count) <= entries)
            return true;
        problem = what + "the API counts " + total_count + " (X-Total-Count) but its pages held " +
                  std::to_string(entries) + " and named no next page (Link)";
        return false;
    }

    // GET `url`, following at most max_status_redirects redirects to the same scheme, host and port
    // (a renamed repository answers 301). libcurl follows none itself, so the token is never
    // sent to another server. `url` becomes the URL that answered.
    std::optional<http_response> get_following_redirects(std::string& url, std::string& problem) {
        const auto& checks = policy_.checks;
        for (int redirects = 0;; ++redirects) {
            const auto budget = std::chrono::milliseconds(2 * checks.http_timeout_ms);
            const auto spent = std::chrono::steady_clock::now() - started_;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(budget - spent);
            // Under a millisecond left is none: libcurl reads a timeout of 0 as "no timeout".
            if (left.count() < 1) {
                problem = "status look-ups for this push took longer than " +
                          std::to_string(budget.count()) + " ms";
                return std::nullopt;
            }
            if (!client_) {
                owned_client_ = make_curl_client();
                client_ = owned_client_.get();
            }
            http_request request;
            request.url = url;
            request.timeout_ms =
                static_cast<long>(std::min<std::int64_t>(checks.http_timeout_ms, left.count()));
            // What GitHub documents for its REST API; Gitea ignores what it does not need.
            request.headers = {"Accept: application/vnd.github+json",
                               "X-GitHub-Api-Version: 2022-11-28",
                               "User-Agent: trunkgate/" TRUNKGATE_VERSION};
            if (!checks.http_token_env.empty())
                if (const auto token = process_environment()(checks.http_token_env);
                    token && !token->empty())
                    request.headers.push_back("Authorization: Bearer " + *token);
            auto response = client_->get(request);
            const auto status = response.status;
            if (status == 301 || status == 302 || status == 307 || status == 308) {
                const auto& target = response.redirect_url;
                if (target.empty()) {
                    problem = "HTTP " + std::to_string(status) + " without a Location";
                    return std::nullopt;
                }
                const auto origin = url_origin(url);
                if (!origin || url_origin(target) != origin) {
                    problem = "HTTP " + std::to_string(status) + " to another server, " +
                              url_authority(target) + " (" + redact_url(target) +
                              "): not followed, the token is only sent to " + url_authority(url);
                    return std::nullopt;
                }
                if (redirects == max_status_redirects) {
                    problem = "more than " + std::to_string(max_status_redirects) +
                              " redirects (the last to " + redact_url(target) + ")";
                    return std::nullopt;
                }
                url = target;
                continue;
            }
            if (status < 200 || status >= 300) {
                problem = status ? "HTTP " + std::to_string(status) : response.error;
                return std::nullopt;
            }
            return response;
        }
    }

    git_repository* repo_;
    const policy& policy_;
    http_client* client_;
    std::unique_ptr<http_client> owned_client_;
    std::map<std::string, std::pair<std::optional<status_map>, std::string>> answers_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// The names a commit's author may go by: name, email and the email's local part.
std::vector<std::string> author_names_of(git_repository* repo, const git_oid& id) {
    const auto commit = find_commit(repo, id);
    if (!commit)
        return {};
    const auto* author = git_commit_author(commit->get());
    if (!author)
        return {};
    std::string email = author->email ? author->email : "";
    return {author->name ? author->name : "", email, email.substr(0, email.find('@'))};
}

// Facts for the gates of protected refs: required checks, promotion, approval.
void gather_gates(git_repository* repo, const push_view& view, ref_facts& facts, const git_oid& tip,
                  status_lookups& lookups) {
    bool wants_checks = false, wants_approval = false;
    for (const auto* protection : facts.protections) {
        wants_checks = wants_checks || !protection->required_checks.empty();
        wants_approval = wants_approval || protection->require_approval.has_value();
        if (protection->promote_from.empty())
            continue;
        const auto source = tip_after_push(repo, view, protection->promote_from);
        facts.promotions.emplace_back(protection->promote_from,
                                      source && is_ancestor(repo, tip, *source));
    }
    if (wants_checks)
        facts.statuses = lookups.statuses(tip, facts.statuses_unavailable, facts.statuses_damaged);
    if (wants_approval) {
        try {
            facts.approvals = read_approvals(repo, tip);
        } catch (const input_error& e) {
            facts.approvals = std::vector<approval>{}; // a damaged note approves nothing
            facts.approvals_damaged = e.what();
        }
        facts.author_names = author_names_of(repo, tip);
    }
}

ref_facts gather_ref(git_repository* repo, const push_view& view, const ref_update& update,
                     status_lookups& lookups) {
    const auto& rules_policy = view.rules_policy;
    ref_facts facts;
    facts.update = update;
    facts.kind = update.kind();
    facts.protections = rules_policy.protections_for(update.ref);
    facts.short_lived = update.is_branch() && update.ref != rules_policy.trunk_ref() &&
                        facts.protections.empty() &&
                        glob_match_any(rules_policy.branches.refs, update.ref);
    if (update.new_hex.size() != GIT_OID_HEXSZ) {
        facts.rejected_before_measuring =
            "SHA-256 object ids are not supported by this build (libgit2 reads SHA-1 repositories)";
        return facts;
    }
    facts.old_target = describe_target(repo, update.old_hex);
    facts.new_target = describe_target(repo, update.new_hex);
    const auto& old_commit = facts.old_target.commit;
    const auto& new_commit = facts.new_target.commit;
    if (facts.kind == update_kind::remove || !new_commit)
        return facts;
    // An old value that is not a readable commit cannot be shown to be contained in the new one:
    // fail closed and call it a rewrite.
    if (facts.kind == update_kind::update)
        facts.fast_forward = old_commit && is_ancestor(repo, *old_commit, *new_commit);
    if (wants_linear_history(facts)) {
        const auto exclude = facts.kind == update_kind::update ? old_commit : std::nullopt;
        facts.merges = find_merge_commits(repo, *new_commit, exclude, view.context.developer_clone,
                                          linear_refs(rules_policy), merges_listed);
    }
    if (facts.short_lived && view.trunk_tip)
        facts.branch = measure_branch(repo, *new_commit, *view.trunk_tip,
                                      limits_for(rules_policy, view.context.now));
    gather_gates(repo, view, facts, *new_commit, lookups);
    return facts;
}

} // namespace

std::optional<git_oid> tip_after_push(git_repository* repo, const push_view& push,
                                      const std::string& ref) {
    if (const auto pushed = push.pushed_tips.find(ref); pushed != push.pushed_tips.end())
        return pushed->second;
    if (push.context.developer_clone && ref.rfind("refs/heads/", 0) == 0)
        if (const auto remote = resolve_commit_ref(repo, "refs/remotes/origin/" + ref.substr(11)))
            return remote;
    return resolve_commit_ref(repo, ref);
}

push_view gather_push(git_repository* repo, const policy& rules_policy,
                      const std::vector<ref_update>& updates, const push_context& context) {
    push_view view{rules_policy, context, std::nullopt, {}, {}};
    for (const auto& update : updates)
        view.pushed_tips[update.ref] = commit_of(repo, update.new_hex);
    // A push that also moves trunk (or a promotion source) is judged against it as it will be.
    view.trunk_tip = tip_after_push(repo, view, rules_policy.trunk_ref());
    view.refs.reserve(updates.size());
    status_lookups lookups(repo, rules_policy, context);
    for (const auto& update : updates)
        view.refs.push_back(gather_ref(repo, view, update, lookups));
    return view;
}

} // namespace trunkgate
