// Judges what the receiver recorded against what tests/conformance/run pushed.
//
//   node check.mjs RESULTS_FILE FACTS_FILE
//
// RESULTS_FILE: receiver.mjs's JSON lines, one per request. FACTS_FILE: tab-separated
// "scenario<TAB>key<TAB>value" lines written by the driver; the scenario "*" holds facts about
// the whole run. Keys of a scenario (all but ref optional):
//   repo            repository.full_name ("owner/name"); Probot's context.repo() must match it
//   ref before after created deleted forced      the event's fields ("true"/"false" for flags)
//   commits         the ids `commits` must list, oldest first, space-separated ("" for none)
//   head            head_commit.id, or "null"
//   base_ref        base_ref, or "null" (GitHub names the branch a pushed tag is the tip of)
//   total_commits   the extended payload's total_commits
//   push_options    JSON array: the extended payload's push_options and GitHub's
//                   X-Trunkgate-Push-Options header ([] and no header when absent)
//   ci_skip         "true"/"false": the extended payload's ci_skip and X-Trunkgate-Ci-Skip
//   message author_name author_username        head_commit's message, author.name, author.username
//   pusher_name pusher_email                   pusher.name, pusher.email
//   push_log        a file with `git push`'s output; with remote_mentions, a `remote:` line of it
//   remote_mentions must contain this text
//   control         a path that must have received exactly one delivery, refused for its signature
// Run facts: user_agent (the default User-Agent), extended_user_agent.
// Prints every failure (each schema error with its instancePath and message, per delivery, per
// scenario), a count per route and the distinct problems; exits 1 on any failure.
import { readFileSync } from "node:fs";

const [resultsFile, factsFile] = process.argv.slice(2);
if (!resultsFile || !factsFile) {
  console.error("usage: node check.mjs RESULTS_FILE FACTS_FILE");
  process.exit(2);
}

const zero = "0".repeat(40);
const routes = ["github", "extended", "probot"];

function lines(file) {
  return readFileSync(file, "utf8").split("\n").filter((line) => line !== "");
}

const results = lines(resultsFile).map((line, index) => {
  try {
    return JSON.parse(line);
  } catch (error) {
    return { route: "results", ok: false, errors: [{ kind: "results", message: `line ${index + 1} is not JSON: ${error.message}` }] };
  }
});

const facts = new Map(); // scenario -> {key: value}
for (const line of lines(factsFile)) {
  const [scenario, key, ...rest] = line.split("\t");
  if (!facts.has(scenario)) facts.set(scenario, {});
  facts.get(scenario)[key] = rest.join("\t");
}
const run = facts.get("*") ?? {};
facts.delete("*");

// ---------------------------------------------------------------------------------------------
// What each delivery must show, beyond the receiver's own verdict.

// A failed expectation; `at` (a JSON pointer into the payload) and `detail` (the values seen)
// are optional, and only `at` and `message` are used to group the same problem across deliveries.
function expect(problems, condition, message, at, detail) {
  if (!condition) problems.push({ kind: "expect", instancePath: at, message, detail });
}

const show = (value) => JSON.stringify(value);

function checkPayload(route, record, fact, problems) {
  const payload = record.payload;
  if (payload === null || typeof payload !== "object") {
    problems.push({ kind: "expect", message: "no JSON payload to check" });
    return;
  }
  for (const key of ["ref", "before", "after"])
    if (fact[key] !== undefined)
      expect(problems, payload[key] === fact[key], `${key} is ${show(payload[key])}, want ${show(fact[key])}`);
  for (const key of ["created", "deleted", "forced"])
    if (fact[key] !== undefined)
      expect(problems, payload[key] === (fact[key] === "true"), `${key} is ${show(payload[key])}, want ${fact[key]}`);
  if (fact.base_ref !== undefined) {
    const want = fact.base_ref === "null" ? null : fact.base_ref;
    expect(problems, payload.base_ref === want, `base_ref is ${show(payload.base_ref)}, want ${show(want)}`);
  }
  expect(problems, typeof payload.compare === "string", `compare is ${show(payload.compare)}, want a string`);
  if (fact.repo !== undefined)
    expect(problems, payload.repository?.full_name === fact.repo,
      `repository.full_name is ${show(payload.repository?.full_name)}, want ${show(fact.repo)}`);
  if (fact.commits !== undefined) {
    const want = fact.commits.split(" ").filter(Boolean);
    const got = (payload.commits ?? []).map((commit) => commit?.id);
    expect(problems, show(got) === show(want), `commits[].id is ${show(got)}, want ${show(want)}`);
  }
  if (fact.head !== undefined) {
    const got = payload.head_commit === null ? "null" : payload.head_commit?.id;
    expect(problems, got === fact.head, `head_commit.id is ${show(got)}, want ${fact.head}`);
  }
  (payload.commits ?? []).forEach((commit, index) => {
    const message = commit?.message;
    expect(problems, typeof message === "string" && !message.endsWith("\n"),
      "ends with a newline (GitHub strips it)", `/commits/${index}/message`, show(message));
  });
  if (payload.head_commit) {
    const message = payload.head_commit.message;
    expect(problems, typeof message === "string" && !message.endsWith("\n"),
      "ends with a newline (GitHub strips it)", "/head_commit/message", show(message));
  }
  const text = JSON.stringify(payload);
  expect(problems, !text.includes("\uFFFD"), "the payload holds U+FFFD (text that was not converted to UTF-8)");
  if (fact.message !== undefined)
    expect(problems, payload.head_commit?.message === fact.message,
      `head_commit.message is ${show(payload.head_commit?.message)}, want ${show(fact.message)}`);
  if (fact.author_name !== undefined)
    expect(problems, payload.head_commit?.author?.name === fact.author_name,
      `head_commit.author.name is ${show(payload.head_commit?.author?.name)}, want ${show(fact.author_name)}`);
  if (fact.author_username !== undefined)
    expect(problems, payload.head_commit?.author?.username === fact.author_username,
      `head_commit.author.username is ${show(payload.head_commit?.author?.username)}, want ${show(fact.author_username)}`);
  if (fact.pusher_name !== undefined)
    expect(problems, payload.pusher?.name === fact.pusher_name,
      `pusher.name is ${show(payload.pusher?.name)}, want ${show(fact.pusher_name)}`);
  if (fact.pusher_email !== undefined)
    expect(problems, payload.pusher?.email === fact.pusher_email,
      `pusher.email is ${show(payload.pusher?.email)}, want ${show(fact.pusher_email)}`);

  const pushOptions = fact.push_options ?? "[]";
  const ciSkip = fact.ci_skip ?? "false";
  const headers = record.headers ?? {};
  if (route === "github") {
    for (const key of ["total_commits", "push_options", "ci_skip"])
      expect(problems, !(key in payload), `the GitHub payload has trunkgate's key ${key}`);
    if (fact.push_options !== undefined) {
      expect(problems, headers["x-trunkgate-push-options"] === pushOptions,
        `X-Trunkgate-Push-Options is ${show(headers["x-trunkgate-push-options"])}, want ${show(pushOptions)}`);
      expect(problems, headers["x-trunkgate-ci-skip"] === ciSkip,
        `X-Trunkgate-Ci-Skip is ${show(headers["x-trunkgate-ci-skip"])}, want ${show(ciSkip)}`);
    }
    if (run.user_agent !== undefined)
      expect(problems, headers["user-agent"] === run.user_agent,
        `User-Agent is ${show(headers["user-agent"])}, want the default ${show(run.user_agent)}`);
  } else {
    expect(problems, Number.isInteger(payload.total_commits), `total_commits is ${show(payload.total_commits)}, want an integer`);
    if (fact.total_commits !== undefined)
      expect(problems, payload.total_commits === Number(fact.total_commits),
        `total_commits is ${show(payload.total_commits)}, want ${fact.total_commits}`);
    expect(problems, show(payload.push_options) === pushOptions,
      `push_options is ${show(payload.push_options)}, want ${pushOptions}`);
    expect(problems, payload.ci_skip === (ciSkip === "true"), `ci_skip is ${show(payload.ci_skip)}, want ${ciSkip}`);
    if (run.extended_user_agent !== undefined)
      expect(problems, headers["user-agent"] === run.extended_user_agent,
        `User-Agent is ${show(headers["user-agent"])}, want the endpoint's user_agent ${show(run.extended_user_agent)}`);
  }
}

function checkProbot(record, fact, problems) {
  if (fact.repo === undefined || problems.some((problem) => problem.kind === "probot")) return;
  const [owner, ...name] = fact.repo.split("/");
  const want = { owner, repo: name.join("/") };
  expect(problems, show(record.repo) === show(want), `context.repo() is ${show(record.repo)}, want ${show(want)}`);
}

// ---------------------------------------------------------------------------------------------

const failures = []; // {scenario, route, delivery, ref, problems}
const checked = new Map(routes.map((route) => [route, 0]));
checked.set("control", 0);
const used = new Set();

function fail(scenario, route, record, problems) {
  failures.push({ scenario, route, delivery: record?.delivery ?? null, ref: record?.ref ?? null, problems });
}

// A delivery that arrives again is trunkgate retrying an answer that was not 2xx or 4xx (Probot
// answers 500 when its handler throws); the first attempt is the one judged.
const firstAttempts = new Set();
const retries = [];
for (const record of results) {
  const key = `${record.path}|${record.delivery}`;
  if (record.delivery && firstAttempts.has(key)) {
    retries.push(record);
    used.add(record);
  } else {
    firstAttempts.add(key);
  }
}

for (const [scenario, fact] of facts) {
  const mine = results.filter((record) => record.scenario === scenario);
  if (fact.control !== undefined) {
    const refused = mine.filter((record) => record.path === fact.control && !used.has(record));
    refused.forEach((record) => used.add(record));
    if (refused.length !== 1) {
      fail(scenario, "control", null, [{ kind: "expect", message: `${refused.length} deliveries reached ${fact.control}, want exactly 1` }]);
    } else {
      const [record] = refused;
      checked.set("control", checked.get("control") + 1);
      const signatureErrors = record.errors.filter((error) => error.kind === "signature");
      const problems = [];
      expect(problems, !record.ok, "a delivery signed with the wrong secret was accepted: the receiver cannot fail");
      expect(problems, signatureErrors.some((error) => error.header === "X-Hub-Signature-256"),
        "the wrong secret was not reported for X-Hub-Signature-256 by @octokit/webhooks");
      expect(problems, signatureErrors.some((error) => error.header === "X-Hub-Signature"),
        "the wrong secret was not reported for X-Hub-Signature (HMAC-SHA1)");
      if (problems.length) fail(scenario, "control", record, problems);
    }
  }
  if (fact.push_log !== undefined && fact.remote_mentions !== undefined) {
    const remote = readFileSync(fact.push_log, "utf8").split("\n").filter((line) => line.startsWith("remote:"));
    if (!remote.some((line) => line.includes(fact.remote_mentions)))
      fail(scenario, "git push", null, [{ kind: "expect",
        message: `no remote: line mentions ${show(fact.remote_mentions)}; the hook said:\n${remote.join("\n") || "(nothing)"}` }]);
  }
  for (const route of routes) {
    const arrived = mine.filter((record) => record.route === route && record.ref === fact.ref && !used.has(record) &&
      (fact.control === undefined || record.path !== fact.control));
    arrived.forEach((record) => used.add(record));
    if (arrived.length !== 1) {
      fail(scenario, route, null, [{ kind: "expect", message: `${arrived.length} deliveries of ${fact.ref} arrived, want exactly 1` }]);
    }
    for (const record of arrived) {
      checked.set(route, checked.get(route) + 1);
      const problems = [...(record.errors ?? [])];
      if (route === "probot") checkProbot(record, fact, problems);
      else checkPayload(route, record, fact, problems);
      if (!record.ok && problems.length === 0)
        problems.push({ kind: "expect", message: "the receiver refused it without saying why" });
      if (problems.length) fail(scenario, route, record, problems);
    }
  }
}
for (const record of results)
  if (!used.has(record))
    fail(record.scenario ?? "(none)", record.route ?? "?", record, [
      { kind: "expect", message: `a delivery no scenario expects (path ${record.path ?? "?"}, ref ${record.ref ?? "?"})` },
      ...(record.errors ?? []),
    ]);

// ---------------------------------------------------------------------------------------------
// The report.

// One line per problem; ajv's "required" and "additionalProperties" errors at one place are
// folded into one line naming every property, so a payload missing 80 keys reads as one line.
function describeAll(problems, { withDetail = true } = {}) {
  const lines = [];
  const folded = new Map(); // line index of a fold -> its properties
  const foldAt = new Map(); // "keyword path" -> line index
  for (const problem of problems) {
    const where = problem.instancePath !== undefined ? `${problem.instancePath || "/"} ` : problem.header ? `${problem.header} ` : "";
    const kind = problem.kind.padEnd(9);
    if (problem.kind === "schema" && (problem.keyword === "required" || problem.keyword === "additionalProperties")) {
      const property = problem.params?.missingProperty ?? problem.params?.additionalProperty;
      const key = `${problem.keyword} ${where}`;
      if (!foldAt.has(key)) {
        foldAt.set(key, lines.length);
        folded.set(lines.length, { head: `${kind} ${where}${problem.keyword === "required" ? "must have required properties" : "must NOT have additional properties"}`, properties: [] });
        lines.push(null);
      }
      folded.get(foldAt.get(key)).properties.push(property);
      continue;
    }
    let extra = "";
    if (problem.kind === "schema" && problem.params && Object.keys(problem.params).length)
      extra = ` ${show(problem.params)}`;
    if (withDetail && problem.detail !== undefined) extra += `: ${problem.detail}`;
    lines.push(`${kind} ${where}${problem.message}${extra}`);
  }
  for (const [index, fold] of folded)
    lines[index] = `${fold.head} (${fold.properties.length}): ${fold.properties.join(", ")}`;
  return lines;
}

const scenarios = [...facts.keys()];
const total = [...checked.values()].reduce((a, b) => a + b, 0);
console.log(`conformance: ${scenarios.length} scenarios: ${scenarios.join(", ")}`);
console.log(`conformance: deliveries checked: ${routes.map((route) => `${route} ${checked.get(route)}`).join(", ")}, ` +
  `wrong-secret control ${checked.get("control")}`);
if (retries.length)
  console.log(`conformance: ${retries.length} deliveries arrived again (trunkgate retries an answer that is not 2xx or 4xx); ` +
    "each is judged by its first attempt");

const printed = new Map(); // the problem lines of a delivery -> where they were printed first
for (const failure of failures) {
  const id = failure.delivery ? failure.delivery.slice(0, 8) : "-";
  const where = `${failure.scenario} / ${failure.route} / ${failure.ref ?? "-"} / delivery ${id}`;
  console.log(`\nFAIL ${where}`);
  const lines = describeAll(failure.problems);
  const key = lines.join("\n");
  if (printed.has(key) && lines.length > 3) {
    console.log(`    the same ${lines.length} problems as ${printed.get(key)}`);
    continue;
  }
  printed.set(key, where);
  for (const line of lines) console.log(`    ${line.replaceAll("\n", "\n      ")}`);
}

// The distinct problems, with how many deliveries show each: where to start fixing.
if (failures.length) {
  const distinct = new Map();
  for (const failure of failures) {
    const general = failure.problems.map((problem) =>
      ({ ...problem, instancePath: problem.instancePath?.replace(/\/[0-9]+(?=\/|$)/g, "/*") }));
    for (const line of new Set(describeAll(general, { withDetail: false }))) {
      const key = `${failure.route.padEnd(8)} ${line.replaceAll("\n", " | ")}`;
      if (!distinct.has(key)) distinct.set(key, new Set());
      distinct.get(key).add(`${failure.scenario}/${failure.delivery ?? "-"}`);
    }
  }
  console.log(`\nconformance: ${distinct.size} distinct problems (deliveries showing it, route, problem):`);
  for (const [key, where] of [...distinct].sort((a, b) => b[1].size - a[1].size || a[0].localeCompare(b[0])))
    console.log(`  ${String(where.size).padStart(3)}  ${key}`);
}

const failed = failures.length;
console.log(`\nconformance: ${total} deliveries checked; ` +
  (failed === 0 ? "every one passed" : `${failed} failed (a delivery, or an expectation about one)`));
process.exit(failed === 0 ? 0 : 1);
