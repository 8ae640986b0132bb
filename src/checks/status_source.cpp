#include "trunkgate/checks/status_source.hpp"

#include <algorithm>
#include <chrono>
#include <map>

#include "trunkgate/checks/notes.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/util/identity.hpp"

namespace trunkgate {

namespace {

// Pages of statuses (or of check runs) read for one commit, 100 each; more is "unavailable".
constexpr int max_status_pages = 50;
// Same-server redirects followed for one request (a renamed repository, a moved API).
constexpr int max_status_redirects = 3;

} // namespace

// The answers for one status_source: each commit asked once, all within one time budget.
class status_source::reader {
  public:
    reader(git_repository* repo, const policy& rules_policy, http_client* client)
        : repo_(repo), policy_(rules_policy), client_(client) {}

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

status_source::status_source(git_repository* repo, const policy& rules_policy, http_client* client)
    : reader_(std::make_unique<reader>(repo, rules_policy, client)) {}

status_source::~status_source() = default;

std::optional<status_map> status_source::statuses(const git_oid& commit, std::string& unavailable,
                                                  std::string& damaged) {
    return reader_->statuses(commit, unavailable, damaged);
}

} // namespace trunkgate
