// A push-event receiver built from GitHub's own client libraries, for tests/conformance/run.
//
//   node receiver.mjs PORT_FILE RESULTS_FILE SCENARIO_FILE
//
// Listens on 127.0.0.1 only, on a port the kernel picks, and writes that port to PORT_FILE once
// it is listening. The webhook secret comes from CONFORMANCE_WEBHOOK_SECRET. Every request to a
// route below appends one JSON line to RESULTS_FILE, tagged with the scenario named in
// SCENARIO_FILE at the time (the driver writes it before each push):
//   {route, path, scenario, delivery, ref, ok, errors, payload, headers[, repo]}
// Routes:
//   POST /github...         verified with @octokit/webhooks (X-Hub-Signature-256) and with
//                           X-Hub-Signature (HMAC-SHA1), GitHub's headers checked, the body
//                           validated against push$event of @octokit/webhooks-schemas
//   POST /extended...       the same, against push$event plus total_commits, push_options and
//                           ci_skip (an endpoint with payload = "github+trunkgate")
//   POST /probot/webhooks   a Probot app whose push handler calls context.repo()
// A delivery that passes every check is answered 200, any other 400 with the reasons (Probot
// answers for itself: 200, or 400/500 on a bad signature or a handler that threw).
// Stops on SIGTERM or SIGINT, when the process that started it goes away, and after
// CONFORMANCE_RECEIVER_LIFETIME_S seconds (default 300) in any case.
import { createHash, createHmac, generateKeyPairSync, timingSafeEqual } from "node:crypto";
import { appendFileSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";

import Ajv from "ajv";
import addFormats from "ajv-formats";
import { Webhooks } from "@octokit/webhooks";
import { Probot, createNodeMiddleware } from "probot";

const require = createRequire(import.meta.url);
const webhookSchemas = require("@octokit/webhooks-schemas");

const [portFile, resultsFile, scenarioFile] = process.argv.slice(2);
const secret = process.env.CONFORMANCE_WEBHOOK_SECRET;
if (!portFile || !resultsFile || !scenarioFile || !secret) {
  console.error("usage: CONFORMANCE_WEBHOOK_SECRET=... node receiver.mjs PORT_FILE RESULTS_FILE SCENARIO_FILE");
  process.exit(2);
}
const lifetimeSeconds = Number(process.env.CONFORMANCE_RECEIVER_LIFETIME_S || 300);
const probotPath = "/probot/webhooks";

// ---------------------------------------------------------------------------------------------
// The schemas: the published document, whole, so that every $ref and additionalProperties: false
// apply as published. Its root is a oneOf over every event; compiling that takes seconds, so the
// root points at push$event instead (all definitions stay as they are). Strict mode stays on;
// the one keyword it does not know is an annotation the schema's authors use for TypeScript.

function schemaValidators() {
  const ajv = new Ajv({ strict: true, allErrors: true });
  addFormats(ajv); // date-time, uri, uri-template, ...: ajv checks formats only with it
  ajv.addVocabulary(["tsAdditionalProperties"]);
  const { oneOf, ...document } = webhookSchemas;
  if (!oneOf || !document.definitions?.["push$event"])
    throw new Error("@octokit/webhooks-schemas has no push$event definition");
  const github = ajv.compile({ ...document, $ref: "#/definitions/push$event" });

  const extended = structuredClone(document);
  Object.assign(extended.definitions["push$event"].properties, {
    total_commits: { type: "integer", minimum: 0 },
    push_options: { type: "array", items: { type: "string" } },
    ci_skip: { type: "boolean" },
  });
  return { github, extended: ajv.compile({ ...extended, $ref: "#/definitions/push$event" }) };
}

const validators = schemaValidators();
const webhooks = new Webhooks({ secret });

// ---------------------------------------------------------------------------------------------

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const positiveInteger = /^[1-9][0-9]*$/;

function currentScenario() {
  try {
    return readFileSync(scenarioFile, "utf8").trim();
  } catch {
    return "(none)";
  }
}

function record(entry) {
  appendFileSync(resultsFile, JSON.stringify(entry) + "\n");
}

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function sameText(a, b) {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function headerErrors(headers, payload) {
  const errors = [];
  const header = (name, problem) => errors.push({ kind: "header", header: name, message: problem });
  if (headers["x-github-event"] !== "push")
    header("X-GitHub-Event", `is ${JSON.stringify(headers["x-github-event"])}, want "push"`);
  if (!uuid.test(headers["x-github-delivery"] ?? ""))
    header("X-GitHub-Delivery", `is ${JSON.stringify(headers["x-github-delivery"])}, want a UUID`);
  if (!positiveInteger.test(headers["x-github-hook-id"] ?? ""))
    header("X-GitHub-Hook-ID", `is ${JSON.stringify(headers["x-github-hook-id"])}, want a positive integer`);
  const targetType = headers["x-github-hook-installation-target-type"];
  if (targetType !== "repository")
    header("X-GitHub-Hook-Installation-Target-Type", `is ${JSON.stringify(targetType)}, want "repository"`);
  const targetId = headers["x-github-hook-installation-target-id"];
  const repositoryId = payload?.repository?.id;
  if (repositoryId === undefined || targetId !== String(repositoryId))
    header("X-GitHub-Hook-Installation-Target-ID",
      `is ${JSON.stringify(targetId)}, want String(repository.id) = ${JSON.stringify(repositoryId === undefined ? undefined : String(repositoryId))}`);
  if (!(headers["user-agent"] ?? "").startsWith("GitHub-Hookshot/"))
    header("User-Agent", `is ${JSON.stringify(headers["user-agent"])}, want "GitHub-Hookshot/..."`);
  if (!/^application\/json(;|$)/.test(headers["content-type"] ?? ""))
    header("Content-Type", `is ${JSON.stringify(headers["content-type"])}, want "application/json"`);
  return errors;
}

// The error messages of @octokit/webhooks, one per error it aggregated.
function octokitMessages(error) {
  const errors = error instanceof AggregateError ? error.errors : [error];
  return errors.map((each) => String(each?.message ?? each));
}

function schemaErrors(validate, payload) {
  if (validate(payload)) return [];
  return validate.errors.map((error) => ({
    kind: "schema",
    instancePath: error.instancePath,
    message: error.message,
    keyword: error.keyword,
    params: error.params,
  }));
}

// /github and /extended: everything a GitHub consumer would check, and the schema.
async function handleGithubShaped(route, request, response, path) {
  const raw = await readBody(request);
  const headers = request.headers;
  const errors = [];

  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    errors.push({ kind: "body", message: "the body is not valid UTF-8" });
    text = raw.toString("utf8");
  }
  let payload = null;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    errors.push({ kind: "body", message: `the body is not JSON: ${error.message}` });
  }

  // X-Hub-Signature-256, the way every @octokit/webhooks user checks it.
  const signature256 = headers["x-hub-signature-256"];
  if (!signature256) {
    errors.push({ kind: "signature", header: "X-Hub-Signature-256", message: "missing" });
  } else {
    try {
      await webhooks.verifyAndReceive({
        id: headers["x-github-delivery"],
        name: headers["x-github-event"],
        payload: text,
        signature: signature256,
      });
    } catch (error) {
      for (const message of octokitMessages(error))
        errors.push({ kind: "signature", header: "X-Hub-Signature-256", message: `@octokit/webhooks: ${message}` });
    }
  }
  // X-Hub-Signature, HMAC-SHA1 of the raw bytes (older Jenkins releases check only this one).
  const signature1 = headers["x-hub-signature"];
  const expected1 = "sha1=" + createHmac("sha1", secret).update(raw).digest("hex");
  if (!signature1)
    errors.push({ kind: "signature", header: "X-Hub-Signature", message: "missing" });
  else if (!sameText(signature1, expected1))
    errors.push({ kind: "signature", header: "X-Hub-Signature", message: "HMAC-SHA1 does not match the body and secret" });

  errors.push(...headerErrors(headers, payload));
  if (payload !== null)
    errors.push(...schemaErrors(route === "extended" ? validators.extended : validators.github, payload));

  const ok = errors.length === 0;
  record({
    route,
    path,
    scenario: currentScenario(),
    delivery: headers["x-github-delivery"] ?? null,
    ref: payload?.ref ?? null,
    ok,
    errors,
    body_sha256: createHash("sha256").update(raw).digest("hex"),
    payload,
    headers,
  });
  response.writeHead(ok ? 200 : 400, { "content-type": "text/plain; charset=utf-8" });
  response.end(ok ? "ok\n" : errors.map((e) => `${e.kind} ${e.header ?? e.instancePath ?? ""} ${e.message}`).join("\n") + "\n");
}

// ---------------------------------------------------------------------------------------------
// Probot: a real app, with a throwaway RSA key (it never talks to GitHub: the handler makes no
// API call, and an event without `installation` gets an unauthenticated client).

const handled = new Map(); // delivery id -> what the push handler saw

async function probotMiddleware() {
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const probot = new Probot({ appId: 1, privateKey, secret, logLevel: "fatal" });
  const app = (probotApp) => {
    probotApp.on("push", async (context) => {
      const seen = { ref: context.payload?.ref ?? null, errors: [] };
      handled.set(context.id, seen);
      try {
        seen.repo = context.repo();
      } catch (error) {
        seen.errors.push({ kind: "probot", message: `context.repo() threw: ${error.message}` });
        throw error;
      }
    });
  };
  return createNodeMiddleware(app, { probot, webhooksPath: probotPath });
}

const probotHandle = await probotMiddleware();

async function handleProbot(request, response, path) {
  const delivery = request.headers["x-github-delivery"] ?? null;
  let answer = "";
  const end = response.end.bind(response);
  response.end = (chunk, ...rest) => {
    if (chunk) answer += chunk.toString();
    return end(chunk, ...rest);
  };
  response.on("finish", () => {
    const seen = handled.get(delivery);
    handled.delete(delivery);
    const errors = [...(seen?.errors ?? [])];
    if (!seen) errors.push({ kind: "probot", message: "the push handler did not run" });
    if (response.statusCode !== 200)
      errors.push({ kind: "probot", message: `Probot answered HTTP ${response.statusCode}: ${answer.trim()}` });
    record({
      route: "probot",
      path,
      scenario: currentScenario(),
      delivery,
      ref: seen?.ref ?? null,
      ok: errors.length === 0,
      errors,
      repo: seen?.repo ?? null,
      headers: request.headers,
    });
  });
  const served = await probotHandle(request, response);
  if (!served && !response.headersSent) response.writeHead(404).end("no such Probot path\n");
}

// ---------------------------------------------------------------------------------------------

const server = createServer(async (request, response) => {
  const path = new URL(request.url, "http://127.0.0.1").pathname;
  try {
    if (request.method === "POST" && path.startsWith(probotPath)) {
      await handleProbot(request, response, path);
    } else if (request.method === "POST" && path.startsWith("/github")) {
      await handleGithubShaped("github", request, response, path);
    } else if (request.method === "POST" && path.startsWith("/extended")) {
      await handleGithubShaped("extended", request, response, path);
    } else {
      record({ route: "unknown", path, scenario: currentScenario(), ok: false,
        errors: [{ kind: "route", message: `${request.method} ${path} is not a route of this receiver` }] });
      response.writeHead(404).end("not found\n");
    }
  } catch (error) {
    record({ route: "receiver", path, scenario: currentScenario(), ok: false,
      errors: [{ kind: "receiver", message: `the receiver failed: ${error.stack ?? error}` }] });
    if (!response.headersSent) response.writeHead(500);
    response.end("receiver error\n");
  }
});

function stop(reason) {
  console.error(`receiver: stopping (${reason})`);
  server.close();
  process.exit(0);
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
// Never outlive the driver (a test runner's timeout may kill it without a word), nor a bound.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop("the driver went away");
}, 500).unref();
setTimeout(() => stop(`lifetime of ${lifetimeSeconds}s reached`), lifetimeSeconds * 1000).unref();

server.listen(0, "127.0.0.1", () => {
  const { address, port } = server.address();
  if (address !== "127.0.0.1") stop(`bound to ${address}, not loopback`);
  writeFileSync(`${portFile}.tmp`, `${port}\n`);
  renameSync(`${portFile}.tmp`, portFile);
  console.error(`receiver: listening on ${address}:${port}`);
});
