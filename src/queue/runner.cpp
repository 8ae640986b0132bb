// One run of the merge queue: the train of speculative builds (batches of changes), judged,
// landed and bisected in order.
#include "trunkgate/queue/queue.hpp"

#include <algorithm>
#include <charconv>

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

std::string short_hex(const std::string& hex) {
    return hex.substr(0, 7);
}

git_oid oid_of(const std::string& hex) {
    git_oid id;
    check(git_oid_fromstr(&id, hex.c_str()), "read the commit id " + hex);
    return id;
}

// 42 for "q-0042"; nullopt when the digits do not fit.
std::optional<std::uint64_t> queue_number(const std::string& id) {
    std::uint64_t number = 0;
    const auto* digits = id.data() + 2;
    const auto [end, error] = std::from_chars(digits, id.data() + id.size(), number);
    if (error != std::errc() || end != id.data() + id.size())
        return std::nullopt;
    return number;
}

// "q-0042" for a batch of one; "q-0003..q-0006" for consecutive ids; else "q-0003,q-0005".
std::string batch_label(const std::vector<queue_entry>& members) {
    if (members.size() == 1)
        return members.front().id;
    bool consecutive = true;
    for (std::size_t k = 1; k < members.size() && consecutive; ++k) {
        const auto previous = queue_number(members[k - 1].id), number = queue_number(members[k].id);
        consecutive = previous && number && *number == *previous + 1;
    }
    if (consecutive)
        return members.front().id + ".." + members.back().id;
    std::vector<std::string> ids;
    for (const auto& member : members)
        ids.push_back(member.id);
    return join(ids, ",");
}

// One target's queue during a run.
class queue_pass {
  public:
    queue_pass(git_repository* repo, const policy& rules_policy, const queue_rule& rule,
               queue_store& store, status_source& statuses, const queue_run_options& options,
               queue_run_report& report)
        : repo_(repo), rule_(rule), store_(store), statuses_(statuses), options_(options),
          report_(report), required_(rules_policy.required_checks(rule.target)),
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
        sweep_branches();
    }

  private:
    // A landing interrupted after its journal said "landing". The entries of a batch enter
    // `landing` one by one and the target moves only once all have, so the swap happened
    // exactly when the target holds the batch's commit or one entry of it is `landed` already
    // (finish_landing runs only after the swap; this also covers a target that moved on since).
    // Then every entry of the batch is landed; otherwise every one goes back to `testing` and
    // the walk judges the batch again.
    void recover_landings() {
        const auto entries = store_.entries(rule_.target);
        std::vector<std::string> recovered;
        for (const auto& entry : entries) {
            if (entry.state != queue_state::landing ||
                std::find(recovered.begin(), recovered.end(), batch_of(entry)) != recovered.end())
                continue;
            recovered.push_back(batch_of(entry));
            std::vector<queue_entry> members, landed;
            for (const auto& other : entries) {
                if (batch_of(other) != batch_of(entry) || other.speculative != entry.speculative)
                    continue;
                if (other.state == queue_state::landed)
                    landed.push_back(other);
                else if (other.state == queue_state::testing || other.state == queue_state::landing)
                    members.push_back(other);
            }
            if (entry.speculative == tip_ || !landed.empty()) {
                for (const auto& member : members)
                    if (member.state == queue_state::testing)
                        store_.begin_landing(member.id, entry.landing_from);
                finish_landing(members, entry.landing_from);
                for (const auto& member : landed)
                    retire_refs(member); // the runner may have died before it did
            } else {
                // Killed between writing git's lock of the target and renaming it: the lock,
                // holding our own commit, would stop every writer of the target for good.
                if (remove_abandoned_ref_lock(repo_, rule_.target, oid_of(entry.speculative)))
                    say(batch_label(members) + ": removed the lock of " + rule_.target +
                        " an interrupted landing left");
                for (const auto& member : members)
                    store_.abort_landing(member.id);
                say(batch_label(members) + ": an interrupted landing did not move " + rule_.target +
                    "; it is judged again");
            }
        }
    }

    // The train of batches: batch k is built on batch k-1's speculative commit (the first on
    // the tip). `queue_` holds the active entries in order, kept in step with the journal.
    void walk() {
        for (auto& entry : store_.entries(rule_.target)) {
            if (!is_active(entry.state))
                break;
            queue_.push_back(std::move(entry));
        }
        std::string base = tip_;
        bool ahead_passed = true; // every batch ahead of this one has passed its checks
        std::int64_t under_test = 0;
        std::size_t at = 0;
        while (at < queue_.size()) {
            if (queue_[at].state == queue_state::landing)
                return; // recovery settled every landing; a new one is another runner's
            if (queue_[at].state == queue_state::testing) {
                const auto end = batch_end(at);
                const std::vector<queue_entry> members(queue_.begin() + at, queue_.begin() + end);
                if (members.front().built_on != base) {
                    void_batch(at, end, "rebuilt: the queue ahead of it changed");
                } else if (static_cast<std::int64_t>(members.size()) !=
                           batch_size_of(members.front())) {
                    void_batch(at, end, "rebuilt: an entry of its batch left the queue");
                } else {
                    const auto result = judge(at, end);
                    if (result.verdict == check_verdict::passed && base == tip_) {
                        if (!land(members))
                            return; // the target moved: the next run starts from its new tip
                        base = tip_;
                        at = end;
                        continue;
                    }
                    if (result.verdict == check_verdict::failed && ahead_passed) {
                        if (members.size() > 1) {
                            bisect(at, end, result.reason);
                        } else if (members.front().failed_builds < rule_.retries) {
                            // A retry is built alone: its own failure is what is retried.
                            store_.limit_batch(members.front().id, 1);
                            store_.rebuild(members.front().id, "retried after: " + result.reason,
                                           true);
                            queue_[at].batch_limit = 1;
                            set_waiting(at, end);
                        } else {
                            eject(members.front(), result.reason);
                            at = end;
                            continue;
                        }
                    } else {
                        ahead_passed = ahead_passed && result.verdict == check_verdict::passed;
                        base = members.front().speculative;
                        ++under_test;
                        at = end;
                        continue;
                    }
                }
            }
            if (under_test >= rule_.max_parallel)
                break;
            const auto next = build(at, base);
            if (next.second) {
                ++under_test;
                ahead_passed = false;
            }
            at = next.first;
        }
    }

    // The end of the batch that starts at queue_[at] (testing): the entries after it with the
    // same batch, speculative commit and base.
    std::size_t batch_end(std::size_t at) const {
        const auto& first = queue_[at];
        auto end = at + 1;
        while (end < queue_.size() && queue_[end].state == queue_state::testing &&
               batch_of(queue_[end]) == batch_of(first) &&
               queue_[end].speculative == first.speculative &&
               queue_[end].built_on == first.built_on)
            ++end;
        return end;
    }

    // queue_[at, end) go back to waiting, not counted as failed builds.
    void void_batch(std::size_t at, std::size_t end, const std::string& reason) {
        for (auto k = at; k < end; ++k)
            store_.rebuild(queue_[k].id, reason, false);
        set_waiting(at, end);
    }

    void set_waiting(std::size_t at, std::size_t end) {
        for (auto k = at; k < end; ++k)
            clear_build(queue_[k]);
    }

    // A batch of several failed on a base that passed: one of its changes (or two together)
    // broke it, and nobody knows which. It is split in two halves, rebuilt as batches of their
    // own, first half first; no change is blamed or charged a retry for it. The limits are
    // written before any entry leaves `testing`, so a runner killed midway cannot merge the
    // halves again.
    void bisect(std::size_t at, std::size_t end, const std::string& reason) {
        const std::vector<queue_entry> members(queue_.begin() + at, queue_.begin() + end);
        const auto first_half = (members.size() + 1) / 2;
        for (std::size_t k = 0; k < members.size(); ++k) {
            const auto limit = static_cast<std::int64_t>(
                k < first_half ? first_half : members.size() - first_half);
            store_.limit_batch(members[k].id, limit);
            auto& kept = queue_[at + k].batch_limit;
            kept = kept ? std::min(kept, limit) : limit;
        }
        const auto label = batch_label(members);
        const auto why = "rebuilt: batch " + label + " failed (" + reason + "); bisecting";
        for (const auto& member : members)
            store_.rebuild(member.id, why, false);
        set_waiting(at, end);
        say(label + ": failed (" + reason + "); bisected into " +
            batch_label({members.begin(), members.begin() + first_half}) + " and " +
            batch_label({members.begin() + first_half, members.end()}));
    }

    // The verdict on the batch queue_[at, end), recorded on each of its entries.
    judged judge(std::size_t at, std::size_t end) {
        const auto& first = queue_[at];
        judged result;
        std::string unavailable, damaged;
        const auto statuses = statuses_.statuses(oid_of(first.speculative), unavailable, damaged);
        const auto label = batch_label({queue_.begin() + at, queue_.begin() + end});
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
            say(label + ": the status note of " + short_hex(first.speculative) + " is damaged (" +
                damaged + "); waiting for a new status");
        } else {
            say(label + ": no statuses for " + short_hex(first.speculative) + " (" + unavailable +
                "); waiting");
        }
        for (auto k = at; k < end; ++k) {
            store_.record_checks(queue_[k].id, result.checks);
            queue_[k].checks = result.checks;
        }
        const auto waited = options_.now - first.testing_since;
        if (result.verdict == check_verdict::pending && waited > rule_.check_timeout_minutes * 60) {
            result.verdict = check_verdict::failed;
            result.reason = "no verdict from CI within " +
                            std::to_string(rule_.check_timeout_minutes) +
                            " minutes (check_timeout_minutes)";
        }
        return result;
    }

    // Builds the next batch from the waiting entries at queue_[at...] on `base`: each change is
    // put on the running result in queue order, up to the policy's batch_size and the
    // batch_limit of every entry taken. A change that cannot be put there is ejected (it alone
    // is proven not to apply) and the batch goes on without it. The batch is published as one
    // branch named after its last entry. Returns where the walk goes on and whether a batch
    // was built; `base` becomes its commit.
    std::pair<std::size_t, bool> build(std::size_t at, std::string& base) {
        // Each build is a fresh commit: CI keys its builds, and the notes their statuses, on the
        // commit id, and a retry made again within the second would be the commit that failed.
        // A committer time after the last build's makes it another commit.
        const auto& first = queue_[at];
        const auto when =
            first.builds > 0 ? std::max(options_.now, first.testing_since + 1) : options_.now;
        git_signature* raw = nullptr;
        check(git_signature_new(&raw, "trunkgate", "trunkgate@localhost", when, 0),
              "make the queue's committer");
        const signature_ptr committer(raw);
        std::vector<std::size_t> taken;
        std::int64_t limit = rule_.batch_size;
        git_oid running = oid_of(base);
        auto next = at;
        for (; next < queue_.size() && queue_[next].state == queue_state::waiting; ++next) {
            auto& entry = queue_[next];
            const auto fits = entry.batch_limit > 0 ? std::min(limit, entry.batch_limit) : limit;
            if (static_cast<std::int64_t>(taken.size()) >= fits)
                break;
            const auto change_tip = read_ref(repo_, change_ref(entry.id));
            if (!change_tip) {
                eject(entry, "its commits are gone (" + change_ref(entry.id) + " is missing)");
                continue;
            }
            queued_change change{*change_tip, entry.id,
                                 "Merge " + entry.id + " into " + rule_.target +
                                     " (trunkgate queue)"};
            const auto made = speculate(repo_, running, change, rule_.method, committer.get());
            if (!made.commit) {
                auto reason = made.problem;
                if (!made.conflicts.empty())
                    reason += " (conflicts: " + join(made.conflicts, ", ") + ")";
                eject(entry, reason);
                continue;
            }
            if (git_oid_equal(&*made.commit, &running)) {
                eject(entry, "nothing to land: its commits are already in " + rule_.target);
                continue;
            }
            running = *made.commit;
            limit = fits;
            taken.push_back(next);
        }
        if (taken.empty())
            return {next, false};
        std::vector<queue_entry> members;
        for (const auto k : taken)
            members.push_back(queue_[k]);
        const auto batch = members.back().id;
        const auto speculative = to_hex(running);
        const auto size = static_cast<std::int64_t>(members.size());
        // Published before the journal says `testing`: a runner killed in between leaves a
        // branch the next run rewrites or deletes, never entries under test with nothing built.
        publish(write_ref(repo_, speculative_ref(rule_.target, batch), running,
                          "trunkgate queue: build " + batch_label(members)));
        for (const auto k : taken) {
            auto& entry = queue_[k];
            if (!store_.start_testing(entry.id, speculative, base, options_.now, batch, size))
                continue; // cancelled meanwhile: the next run finds the batch short and voids it
            entry.state = queue_state::testing;
            entry.speculative = speculative;
            entry.built_on = base;
            entry.batch = batch;
            entry.batch_size = size;
            entry.testing_since = options_.now;
            entry.checks.clear();
        }
        say(batch_label(members) + ": testing " + short_hex(speculative) + " on " +
            speculative_ref(rule_.target, batch));
        base = speculative;
        return {next, true};
    }

    // Moves the target to the batch's speculative commit; false when it did not move. Every
    // entry is `landing` before the swap, so recovery knows the whole batch was at stake.
    bool land(const std::vector<queue_entry>& members) {
        for (std::size_t k = 0; k < members.size(); ++k) {
            if (store_.begin_landing(members[k].id, tip_))
                continue;
            for (std::size_t undo = 0; undo < k; ++undo)
                store_.abort_landing(members[undo].id);
            say(batch_label(members) + ": not landed: " + members[k].id +
                " changed state meanwhile; the next run judges it again");
            return false;
        }
        const auto& speculative = members.front().speculative;
        const auto outcome = swap_ref(repo_, rule_.target, oid_of(speculative), oid_of(tip_),
                                      "trunkgate queue: land " + batch_label(members));
        if (outcome != swap_outcome::moved) {
            for (const auto& member : members)
                store_.abort_landing(member.id);
            say(batch_label(members) + ": not landed: " + rule_.target +
                (outcome == swap_outcome::locked ? " is being written by someone else"
                                                 : " moved meanwhile") +
                "; the next run judges it again");
            return false;
        }
        finish_landing(members, tip_);
        tip_ = speculative;
        return true;
    }

    // Every entry of a batch whose commit the target moved to, from `from`: landed. One
    // target move is reported (audited, sent as a push event) for the whole batch.
    void finish_landing(const std::vector<queue_entry>& members, const std::string& from) {
        const auto& speculative = members.front().speculative;
        for (const auto& member : members)
            store_.finish_landing(member.id, options_.now);
        const ref_update moved{from, speculative, rule_.target};
        report_.landings.push_back(moved);
        for (const auto& member : members)
            report_.landed.push_back(member.id);
        publish(moved);
        for (const auto& member : members) {
            retire_refs(member);
            tell_pusher(member, "success",
                        member.id + " landed on " + rule_.target + " as " + short_hex(speculative));
        }
        for (const auto& member : members)
            say(member.id + ": landed: " + rule_.target + " is now " + short_hex(speculative));
    }

    void eject(const queue_entry& entry, const std::string& reason) {
        store_.eject(entry.id, reason, options_.now);
        retire_refs(entry);
        tell_pusher(entry, "failure", entry.id + " ejected: " + reason);
        say(entry.id + ": ejected: " + reason);
    }

    void retire_refs(const queue_entry& entry) {
        if (auto deleted = delete_ref(repo_, speculative_ref(rule_.target, batch_of(entry))))
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

    // Speculative branches whose batch is no longer under test are deleted: a batch is named
    // after its last entry, so a rebuilt or bisected one may be published under another name,
    // and CI should not spend time on what can never land.
    void sweep_branches() {
        const auto prefix = speculative_ref(rule_.target, "");
        std::vector<std::string> under_test, stale;
        for (const auto& entry : store_.entries(rule_.target))
            if (entry.state == queue_state::testing || entry.state == queue_state::landing)
                under_test.push_back(batch_of(entry));
        for_each_ref_commit(
            repo_, (prefix + "*").c_str(), [&](std::string_view name, const git_oid&) {
                const auto id = std::string(name.substr(prefix.size()));
                if (is_queue_id(id) &&
                    std::find(under_test.begin(), under_test.end(), id) == under_test.end())
                    stale.emplace_back(name);
            });
        for (const auto& name : stale)
            if (auto deleted = delete_ref(repo_, name))
                publish(std::move(*deleted));
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
    std::vector<queue_entry> queue_;
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
