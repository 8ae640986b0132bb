// One run of the merge queue: the train of speculative commits, judged and landed in order.
#include "trunkgate/queue/queue.hpp"

#include <algorithm>

#include "trunkgate/checks/status.hpp"
#include "trunkgate/checks/status_source.hpp"
#include "trunkgate/history/git.hpp"
#include "trunkgate/history/refs.hpp"
#include "trunkgate/queue/speculate.hpp"
#include "trunkgate/util/text.hpp"
#include "trunkgate/util/unix_time.hpp"

namespace trunkgate {

namespace {

enum class check_verdict { passed, failed, pending };

// What CI said about one speculative commit.
struct judged {
    check_verdict verdict = check_verdict::pending;
    std::string reason; ///< failed: why
    std::map<std::string, std::string> checks;
};

// Every required context of the target's [[protect]] entries, each once.
std::vector<std::string> required_checks_of(const policy& rules_policy, const std::string& target) {
    std::vector<std::string> required;
    for (const auto* protection : rules_policy.protections_for(target))
        for (const auto& context : protection->required_checks)
            if (std::find(required.begin(), required.end(), context) == required.end())
                required.push_back(context);
    return required;
}

std::string short_hex(const std::string& hex) {
    return hex.substr(0, 7);
}

git_oid oid_of(const std::string& hex) {
    git_oid id;
    check(git_oid_fromstr(&id, hex.c_str()), "read the commit id " + hex);
    return id;
}

// One target's queue during a run.
class queue_pass {
  public:
    queue_pass(git_repository* repo, const policy& rules_policy, const queue_rule& rule,
               queue_store& store, status_source& statuses, const queue_run_options& options,
               queue_run_report& report)
        : repo_(repo), rule_(rule), store_(store), statuses_(statuses), options_(options),
          report_(report), required_(required_checks_of(rules_policy, rule.target)),
          notes_ref_(rules_policy.checks.notes_ref) {}

    void run() {
        const auto tip = read_ref(repo_, rule_.target);
        if (!tip) {
            say(rule_.target + " does not exist; its queue waits");
            return;
        }
        tip_ = to_hex(*tip);
        recover_landings();
        if (required_.empty()) {
            // Landing without CI is what the queue exists to prevent: it waits instead.
            say(rule_.target + " has no required_checks in its [[protect]] entries; its queue " +
                "lands nothing until it has some");
            return;
        }
        walk();
    }

  private:
    // A landing interrupted after its journal said "landing": finished when the target already
    // holds the speculative commit, else undone (the walk then lands or rebuilds it).
    void recover_landings() {
        for (const auto& entry : store_.entries(rule_.target)) {
            if (entry.state != queue_state::landing)
                continue;
            if (entry.speculative == tip_) {
                finish_landing(entry);
            } else {
                // Killed between writing git's lock of the target and renaming it: the lock,
                // holding our own commit, would stop every writer of the target for good.
                if (remove_abandoned_ref_lock(repo_, rule_.target, oid_of(entry.speculative)))
                    say(entry.id + ": removed the lock of " + rule_.target +
                        " an interrupted landing left");
                store_.abort_landing(entry.id);
                say(entry.id + ": an interrupted landing did not move " + rule_.target +
                    "; it is judged again");
            }
        }
    }

    // The train: entry k is built on entry k-1's speculative commit (the first on the tip).
    void walk() {
        std::string base = tip_;
        bool ahead_passed = true; // every entry ahead of this one has passed its checks
        std::int64_t under_test = 0;
        for (auto entry : store_.entries(rule_.target)) {
            if (!is_active(entry.state))
                break;
            if (entry.state == queue_state::testing && entry.built_on != base) {
                store_.rebuild(entry.id, "rebuilt: the queue ahead of it changed", false);
                entry.state = queue_state::waiting;
            }
            if (entry.state == queue_state::testing) {
                const auto result = judge(entry);
                if (result.verdict == check_verdict::passed && base == tip_) {
                    if (!land(entry))
                        return; // the target moved: the next run starts from its new tip
                    base = tip_;
                    continue;
                }
                if (result.verdict == check_verdict::failed && ahead_passed) {
                    if (entry.failed_builds < rule_.retries) {
                        store_.rebuild(entry.id, "retried after: " + result.reason, true);
                        entry.state = queue_state::waiting;
                    } else {
                        eject(entry, result.reason);
                        continue;
                    }
                } else {
                    ahead_passed = ahead_passed && result.verdict == check_verdict::passed;
                    base = entry.speculative;
                    ++under_test;
                    continue;
                }
            }
            if (under_test >= rule_.max_parallel)
                break;
            if (build(entry, base)) {
                base = entry.speculative;
                ++under_test;
                ahead_passed = false;
            }
        }
    }

    judged judge(queue_entry& entry) {
        judged result;
        std::string unavailable, damaged;
        const auto statuses = statuses_.statuses(oid_of(entry.speculative), unavailable, damaged);
        if (statuses) {
            for (const auto& context : required_) {
                const auto found = statuses->find(context);
                result.checks[context] = found == statuses->end() ? "missing" : found->second.state;
            }
            const auto unmet = unmet_checks(required_, *statuses);
            if (unmet.empty())
                result.verdict = check_verdict::passed;
            for (const auto& check : unmet)
                if (check.state == "failure" || check.state == "error") {
                    result.verdict = check_verdict::failed;
                    result.reason = "check " + check.context + " is " + check.state +
                                    (check.description.empty() ? "" : ": " + check.description);
                    break;
                }
        } else if (!damaged.empty()) {
            say(entry.id + ": the status note of " + short_hex(entry.speculative) +
                " is damaged (" + damaged + "); waiting for a new status");
        } else {
            say(entry.id + ": no statuses for " + short_hex(entry.speculative) + " (" +
                unavailable + "); waiting");
        }
        store_.record_checks(entry.id, result.checks);
        entry.checks = result.checks;
        const auto waited = options_.now - entry.testing_since;
        if (result.verdict == check_verdict::pending && waited > rule_.check_timeout_minutes * 60) {
            result.verdict = check_verdict::failed;
            result.reason = "no verdict from CI within " +
                            std::to_string(rule_.check_timeout_minutes) +
                            " minutes (check_timeout_minutes)";
        }
        return result;
    }

    // Builds the speculative commit of `entry` on `base` and publishes its branch. False when the
    // change cannot be put there (it is ejected).
    bool build(queue_entry& entry, const std::string& base) {
        const auto change_tip = read_ref(repo_, change_ref(entry.id));
        if (!change_tip) {
            eject(entry, "its commits are gone (" + change_ref(entry.id) + " is missing)");
            return false;
        }
        // Each build is a fresh commit: CI keys its builds, and the notes their statuses, on the
        // commit id, and a retry made again within the second would be the commit that failed.
        // A committer time after the last build's makes it another commit.
        const auto when =
            entry.builds > 0 ? std::max(options_.now, entry.testing_since + 1) : options_.now;
        git_signature* raw = nullptr;
        check(git_signature_new(&raw, "trunkgate", "trunkgate@localhost", when, 0),
              "make the queue's committer");
        const signature_ptr committer(raw);
        queued_change change{*change_tip, entry.id,
                             "Merge " + entry.id + " into " + rule_.target + " (trunkgate queue)"};
        const auto made = speculate(repo_, oid_of(base), change, rule_.method, committer.get());
        if (!made.commit) {
            auto reason = made.problem;
            if (!made.conflicts.empty())
                reason += " (conflicts: " + join(made.conflicts, ", ") + ")";
            eject(entry, reason);
            return false;
        }
        const auto speculative = to_hex(*made.commit);
        if (speculative == base) {
            eject(entry, "nothing to land: its commits are already in " + rule_.target);
            return false;
        }
        if (!store_.start_testing(entry.id, speculative, base, options_.now))
            return false; // cancelled meanwhile: nothing is published for it
        entry.state = queue_state::testing;
        entry.speculative = speculative;
        entry.built_on = base;
        entry.testing_since = options_.now;
        publish(write_ref(repo_, speculative_ref(rule_.target, entry.id), *made.commit,
                          "trunkgate queue: build " + entry.id));
        say(entry.id + ": testing " + short_hex(speculative) + " on " +
            speculative_ref(rule_.target, entry.id));
        return true;
    }

    // Moves the target to the entry's speculative commit; false when it did not move.
    bool land(queue_entry& entry) {
        if (!store_.begin_landing(entry.id, tip_))
            return false;
        const auto outcome = swap_ref(repo_, rule_.target, oid_of(entry.speculative), oid_of(tip_),
                                      "trunkgate queue: land " + entry.id);
        if (outcome != swap_outcome::moved) {
            store_.abort_landing(entry.id);
            say(entry.id + ": not landed: " + rule_.target +
                (outcome == swap_outcome::locked ? " is being written by someone else"
                                                 : " moved meanwhile") +
                "; the next run judges it again");
            return false;
        }
        entry.landing_from = tip_;
        finish_landing(entry);
        return true;
    }

    void finish_landing(const queue_entry& entry) {
        store_.finish_landing(entry.id, options_.now);
        const ref_update moved{entry.landing_from, entry.speculative, rule_.target};
        report_.landings.push_back(moved);
        publish(moved);
        tip_ = entry.speculative;
        retire_refs(entry);
        tell_pusher(entry, "success",
                    entry.id + " landed on " + rule_.target + " as " +
                        short_hex(entry.speculative));
        say(entry.id + ": landed: " + rule_.target + " is now " + short_hex(entry.speculative));
    }

    void eject(const queue_entry& entry, const std::string& reason) {
        store_.eject(entry.id, reason, options_.now);
        retire_refs(entry);
        tell_pusher(entry, "failure", entry.id + " ejected: " + reason);
        say(entry.id + ": ejected: " + reason);
    }

    void retire_refs(const queue_entry& entry) {
        if (auto deleted = delete_ref(repo_, speculative_ref(rule_.target, entry.id)))
            publish(std::move(*deleted));
        delete_ref(repo_, change_ref(entry.id));
    }

    // The status `trunkgate/queue` on the pusher's own commit: how it left the queue, readable
    // with `trunkgate status get` and pushed notes by someone who cannot run `trunkgate queue`.
    // A note that cannot be written does not undo what the queue did.
    void tell_pusher(const queue_entry& entry, const std::string& state,
                     const std::string& description) {
        try {
            record_status(repo_, notes_ref_, oid_of(entry.commit), queue_status_context,
                          {state, description, "", iso8601(options_.now, 0), "trunkgate-queue"});
        } catch (const std::exception& e) {
            say(entry.id + ": the " + queue_status_context + " status of " +
                short_hex(entry.commit) + " was not recorded: " + e.what());
        }
    }

    void publish(ref_update update) { report_.updates.push_back(std::move(update)); }
    void say(const std::string& line) { report_.lines.push_back(printable(line)); }

    git_repository* repo_;
    const queue_rule& rule_;
    queue_store& store_;
    status_source& statuses_;
    const queue_run_options& options_;
    queue_run_report& report_;
    std::vector<std::string> required_;
    std::string notes_ref_;
    std::string tip_;
};

} // namespace

queue_run_report run_queue(git_repository* repo, const policy& rules_policy, queue_store& store,
                           const queue_run_options& options) {
    queue_run_report report;
    const auto hold = store.try_hold_runner();
    if (!hold) {
        report.busy = true;
        return report;
    }
    store.take_run_request(); // this pass reads everything written before the request
    status_source statuses(repo, rules_policy, options.status_client);
    for (const auto& rule : rules_policy.queues)
        queue_pass(repo, rules_policy, rule, store, statuses, options, report).run();
    return report;
}

} // namespace trunkgate
