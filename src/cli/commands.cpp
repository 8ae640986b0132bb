// The command table: one row per command, in the order `trunkgate help` lists them. A new
// command is a row here, its handler in commands.hpp and a file of its family in src/cli/.

#include "trunkgate/cli/commands.hpp"

namespace trunkgate {

const std::vector<command>& commands() {
    static const std::vector<command> table{
        {"install",
         {{"--policy", true}, {"--force", false}, {"--all-under", true}, {"--hooks-dir", true}},
         {{"install [--policy FILE] [--force] REPO... [--all-under DIR]",
           "install the hooks and a policy into bare repositories"},
          {"install --hooks-dir DIR", "write hooks for a core.hooksPath or gitolite's "
                                      "common\nhooks, serving every repository that uses DIR"}},
         R"(Installs trunkgate's pre-receive and post-receive hooks into each bare repository REPO (and
each one found under DIR), copies the policy (FILE, or the default trunk-based template) to
REPO/trunkgate.toml unless one exists (--policy replaces it; without --policy nothing is written
when the repository already uses git config trunkgate.policy or the server-wide policy), and sets
receive.advertisePushOptions=true. An existing hook that is not trunkgate's is kept as
<hook>.chained and still runs. Safe to run again. A repository that fails does not stop the
others; the exit status is the worst.

  --policy FILE     the policy to install (validated first)
  --force           also install into a repository that has a work tree
  --all-under DIR   every bare repository below DIR (symbolic links are not followed)
  --hooks-dir DIR   only write the two hooks into DIR, for core.hooksPath or gitolite's
                    ~/.gitolite/hooks/common: they serve any repository git runs them for
)",
         cmd_install},
        {"uninstall",
         {{"--all-under", true}, {"--hooks-dir", true}},
         {{"uninstall REPO... [--all-under DIR]",
           "take trunkgate's hooks out, restore chained hooks"},
          {"uninstall --hooks-dir DIR", ""}},
         R"(Takes trunkgate's pre-receive and post-receive hooks out of each repository (or out of the
shared hooks directory DIR) and puts the hooks that were there before back, exactly as they
were (<hook>.chained renamed back). A hook that is not trunkgate's is never touched. The policy,
$GIT_DIR/trunkgate/ (audit log, event spool) and the git config stay. Safe to run again.

  --all-under DIR   every bare repository below DIR (symbolic links are not followed)
  --hooks-dir DIR   the shared hooks directory that install --hooks-dir wrote: every
                    repository that uses it loses trunkgate
)",
         cmd_uninstall},
        {"check",
         {{"--repo", true}, {"--policy", true}, {"--format", true}, {"--as", true}},
         {{"check [--repo DIR] [--policy FILE] [--format text|json] [--as IDENTITY]\n[OLD NEW "
           "REF]...",
           "evaluate updates without pushing (stdin if no triples)"}},
         R"(Evaluates ref updates as the pre-receive hook would, without pushing: the same engine, the
same text. Updates come as OLD NEW REF triples (full object ids; 40 zeros for create/delete)
or, without them, from stdin in pre-receive format.

  --repo DIR         the repository (default: the one containing the current directory)
  --policy FILE      the policy (default: TRUNKGATE_POLICY, git config trunkgate.policy,
                     $GIT_DIR/trunkgate.toml, then the server-wide policy)
  --format FORMAT    text (default) or json
  --as IDENTITY      judge the push as this pusher (default: the identity variables)
)",
         cmd_check},
        {"policy",
         {{"--repo", true}},
         {{"policy lint FILE", "validate a policy file"},
          {"policy lint [--repo DIR]", "validate the policy a repository uses; say which"}},
         R"(Validates a policy file. Problems are printed as FILE:LINE:COLUMN: message; exit 3 if any.
Without FILE, validates the policy the hooks of the repository DIR (default: the one containing
the current directory) would use, and says which it is and how it was found: TRUNKGATE_POLICY,
git config trunkgate.policy, $GIT_DIR/trunkgate.toml or the server-wide policy
(/etc/trunkgate/policy.toml, or TRUNKGATE_SYSTEM_POLICY).
)",
         cmd_policy},
        {"status",
         {{"--repo", true}, {"--url", true}, {"--description", true}, {"--format", true}},
         {{"status set [--repo DIR] SHA CONTEXT STATE [--url U] [--description D]",
           "record a CI status (pending|success|failure|error)"},
          {"status get [--repo DIR] SHA [--format text|json]", ""},
          {"status list [--repo DIR]", "every commit with statuses"}},
         R"(Records and shows CI statuses kept as git notes on [checks] notes_ref (default
refs/notes/trunkgate/checks). STATE is pending, success, failure or error. Run it on the
server's bare repository, or in a CI clone and then push the notes ref (the pusher must be in
[checks] writers). Concurrent writers never lose a status: each context is merged, newest wins.
)",
         cmd_status},
        {"approve",
         {{"--repo", true}, {"--reject", false}, {"--comment", true}},
         {{"approve [--repo DIR] SHA [--reject] [--comment TEXT]",
           "approve (or reject) a commit as the current identity"}},
         R"(Records an approval (or, with --reject, a rejection) of a commit by the current identity
(TRUNKGATE_USER, GL_USER, REMOTE_USER, GITEA_PUSHER_NAME, USER, or [identity] env) on
refs/notes/trunkgate/approvals. A later decision by the same identity replaces the earlier.
)",
         cmd_approve},
        {"audit",
         {{"--repo", true}, {"--since", true}, {"--format", true}},
         {{"audit [--repo DIR] [--since DATE] [--format text|json]",
           "the pre-receive decisions and what landed"}},
         R"(Prints the decisions of the pre-receive hook from $GIT_DIR/trunkgate/audit.log: time,
identity, accept/reject/bypass, refs, findings, each paired with what the post-receive hook
recorded as landed (an accepted push a later hook refused shows "accept, not landed"). DATE is
YYYY-MM-DD, an ISO 8601 time in UTC (YYYY-MM-DDTHH:MM:SSZ) or Unix seconds.
)",
         cmd_audit},
        {"report",
         {{"--repo", true},
          {"--since", true},
          {"--until", true},
          {"--format", true},
          {"--output", true}},
         {{"report [--repo DIR] [--since DATE] [--until DATE] [--format text|json|html]\n"
           "[--output FILE]",
           "trunk health: integration, branches, the DORA keys"}},
         R"(Reports how the repository practises trunk-based CI/CD over a period (default: the 28 days
before now): landings on trunk per day and per pusher, live branches and branch lifetimes,
and for each deploy ref the four DORA keys (deployment frequency, lead time for changes,
change failure rate, time to restore) with their bands; also trunk red time, bypasses,
rejections by rule and the merge queue. It reads the audit log, the history, the status notes
and the queue's journal, and changes nothing. DATE is YYYY-MM-DD (for --until, the end of that
day), YYYY-MM-DDTHH:MM:SSZ or Unix seconds. --format html writes one self-contained page with
inline SVG charts; --output writes to FILE instead of standard output. docs/report.md defines
every figure and the JSON schema.
)",
         cmd_report},
        {"deliver",
         {{"--repo", true}, {"--all-under", true}},
         {{"deliver [--repo DIR]... [--all-under DIR]", "send the push events that are due"}},
         R"(Sends every push event that is due from the spool of each repository (default: the one
containing the current directory): for cron or the systemd timer in templates/systemd/.
Each event is locked while it is sent, so overlapping runs never send one twice at once.
An entry that cannot be read, parsed or locked is named with the reason and left as it is;
the others are still sent. Exit 1 when, after the run, an event waits for a retry, has failed
(a 4xx; see trunkgate events) or is unreadable, or this run gave one up (moved to dead/); 0
otherwise; 3 for a broken policy.

  --repo DIR        a repository (repeatable)
  --all-under DIR   every repository found below DIR
)",
         cmd_deliver},
        {"events",
         {{"--repo", true}, {"--format", true}},
         {{"events [--repo DIR] [--format text|json]",
           "list queued, failed, dead and unreadable events"},
          {"events redeliver [--repo DIR] ID", "queue one event again, same id and body"}},
         R"(Lists the events that are queued (waiting for a retry), failed (a 4xx answer; waiting for
redelivery), dead (given up after [events] max_age_hours) or unreadable (a spool entry that
cannot be read, parsed or locked), with their last error or the reason.
`redeliver ID` queues a delivered, failed or dead event again with its original delivery id
and body, due now.
)",
         cmd_events},
        {"doctor",
         {{"--all-under", true}, {"--format", true}, {"--backlog-minutes", true}},
         {{"doctor [REPO...] [--all-under DIR]... [--format text|json]\n[--backlog-minutes N]",
           "find setup problems, each with its fix"}},
         R"(Checks each repository (default: the one containing the current directory) as the user git
runs as (its owner) meets it: hook wrappers and chained hooks, the policy, push options,
ownership and modes of $GIT_DIR/trunkgate/, the audit log, the spool (backlog, failed, dead,
unreadable), the deliver timer, safe.directory. One line per problem: its id, what is wrong,
and the command that fixes it. Exit 0 when nothing is wrong, 1 when something is.

  --all-under DIR       every repository with trunkgate below DIR (repeatable)
  --format FORMAT       text (default) or json
  --backlog-minutes N   a delivery queued longer is a backlog (default 60)
)",
         cmd_doctor},
        {"queue",
         {{"--repo", true},
          {"--format", true},
          {"--target", true},
          {"--topic", true},
          {"--priority", false},
          {"--all-under", true}},
         {{"queue [--repo DIR] [--format text|json]", "the merge queue: entries, states, checks"},
          {"queue add [--repo DIR] --target BRANCH COMMIT [--topic TOPIC] [--priority]",
           "queue a change for BRANCH"},
          {"queue cancel [--repo DIR] ID", "take a change out of the queue"},
          {"queue run [--repo DIR]... [--all-under DIR]...",
           "build, judge and land what the queue holds"}},
         R"(Shows and moves the merge queues of [[queue]] in the policy (docs/queue.md). Each
change is tested as a speculative commit, the target's tip plus every change ahead plus this
one, published as refs/heads/trunkgate/queue/<branch>/<id> for CI; the target moves only to a
speculative commit whose required checks ([[protect]] required_checks) all passed.

  queue             every queue: id, position, state, commit -> speculative commit, pusher,
                    time queued, checks, and why an entry ended
  queue add         queues COMMIT for BRANCH as the current identity; --topic replaces that
                    identity's waiting change with the same topic; --priority goes to the front
                    for identities in [[queue]] priority
  queue cancel ID   by the identity that queued it, or one of [bypass] identities
  queue run         one pass: lands what passed, ejects what failed, conflicted or timed out,
                    builds what comes next; safe to run at any time (a timer, cron); with
                    [[queue]] runner = "auto" it also starts on its own after every push,
                    trunkgate status set, queue add and queue cancel

  --all-under DIR   queue run: every repository below DIR that has a [[queue]] (repeatable)

  --format FORMAT   text (default) or json
)",
         cmd_queue},
        {"rules",
         {},
         {{"rules", "list the rule ids"}},
         R"(Lists every rule id with what it blocks.
)",
         cmd_rules},
        {"version", {}, {{"version", "print the version"}}, "", cmd_version},
        {"help",
         {},
         {{"help [COMMAND]", "show help; also `trunkgate COMMAND --help`"}},
         "",
         cmd_help},
    };
    return table;
}

} // namespace trunkgate
