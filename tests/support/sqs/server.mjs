// SPDX-License-Identifier: MIT
// The SQS server for tests: the npm package local-aws-sqs (SQS JSON protocol, standard and
// FIFO queues, redrive policies) behind a small front that
//   - checks every request's SigV4 signature with its own implementation (node:crypto),
//     answering 403 SignatureDoesNotMatch / InvalidClientTokenId like AWS when it is wrong,
//   - injects faults on request (HTTP 500, throttling, batch entries failed by the service),
//   - counts requests per operation,
//   - answers ApproximateNumberOfMessages as SQS does (without the messages in flight).
// It prints one JSON line {"endpoint": ..., "direct": ...} when ready and exits when its
// stdin closes (so it never outlives the test that started it).
//
//   node server.mjs [--access-key-id ID --secret KEY] [--region us-east-1]
//
// Control (on the endpoint, unsigned): GET /_test/stats, POST /_test/faults
// {"rules":[{"target":"SendMessageBatch","action":"status500|throttle|access-denied|fail-entries|refuse-entries|delay","times":N,"ms":M}]},
// POST /_test/reset.

import http from "node:http";
import crypto from "node:crypto";
import { createSqsServer } from "local-aws-sqs";

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const accessKeyId = flag("--access-key-id", "AKIDNOTIFYTEST");
const secret = flag("--secret", "notify-test-secret");
const region = flag("--region", "us-east-1");

const backend = await createSqsServer({ port: 0, hostname: "127.0.0.1", emulateQueueCreationLifecycle: false });
const backendPort = backend.address().port;

let rules = [];
let stats = { requests: {}, signatureFailures: 0, faultsInjected: 0 };

const sha256 = (data) => crypto.createHash("sha256").update(data).digest("hex");
const hmac = (key, data) => crypto.createHmac("sha256", key).update(data).digest();

// Recomputes the signature of a JSON-protocol request (POST /, no query) from what arrived.
function checkSignature(req, body) {
  const auth = req.headers["authorization"] || "";
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { code: "IncompleteSignature", message: "Authorization header missing or malformed" };
  const [, keyId, date, reqRegion, service, signedHeaders, signature] = m;
  if (keyId !== accessKeyId) return { code: "InvalidClientTokenId", message: "The security token included in the request is invalid." };
  if (reqRegion !== region || service !== "sqs") return { code: "SignatureDoesNotMatch", message: "wrong credential scope" };
  const amzDate = req.headers["x-amz-date"] || "";
  if (!amzDate.startsWith(date)) return { code: "SignatureDoesNotMatch", message: "date and scope disagree" };
  const names = signedHeaders.split(";");
  for (const required of ["host", "x-amz-date", "content-type", "x-amz-target"])
    if (!names.includes(required)) return { code: "SignatureDoesNotMatch", message: `${required} is not signed` };
  if (req.headers["x-amz-security-token"] !== undefined && !names.includes("x-amz-security-token"))
    return { code: "SignatureDoesNotMatch", message: "x-amz-security-token is not signed" };
  const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const [path, query = ""] = req.url.split("?");
  const creq = [req.method, path, query, canonicalHeaders, signedHeaders, sha256(body)].join("\n");
  const scope = `${date}/${region}/sqs/aws4_request`;
  const sts = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(creq)].join("\n");
  const key = hmac(hmac(hmac(hmac("AWS4" + secret, date), region), "sqs"), "aws4_request");
  const expected = crypto.createHmac("sha256", key).update(sts).digest("hex");
  if (expected !== signature) return { code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match the signature you provided." };
  return null;
}

function answer(res, status, payload, queryError) {
  const headers = { "content-type": "application/x-amz-json-1.0" };
  if (queryError) headers["x-amzn-query-error"] = queryError;
  res.writeHead(status, headers);
  res.end(JSON.stringify(payload));
}

function takeRule(target) {
  const rule = rules.find((r) => (r.target === target || r.target === "*") && (r.times ?? 1) > 0);
  if (rule) {
    rule.times = (rule.times ?? 1) - 1;
    stats.faultsInjected++;
  }
  return rule;
}

function forward(req, body, res, rewrite) {
  const out = http.request(
    {
      host: "127.0.0.1",
      port: backendPort,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: `127.0.0.1:${backendPort}`, "content-length": String(body.length) },
    },
    (r) => {
      const chunks = [];
      r.on("data", (c) => chunks.push(c));
      r.on("end", () => {
        let data = Buffer.concat(chunks);
        const headers = { ...r.headers };
        delete headers["content-length"];
        delete headers["transfer-encoding"];
        if (rewrite && r.statusCode === 200) data = Buffer.from(JSON.stringify(rewrite(JSON.parse(data.toString()))));
        res.writeHead(r.statusCode, headers);
        res.end(data);
      });
    },
  );
  out.on("error", (e) => answer(res, 500, { __type: "com.amazonaws.sqs#InternalError", message: String(e) }));
  out.end(body);
}

// local-aws-sqs counts the messages in flight in ApproximateNumberOfMessages too; SQS
// counts only those available for retrieval. Answered as SQS does: the front also asks for
// ApproximateNumberOfMessagesNotVisible and takes it off.
function getQueueAttributes(req, body, res) {
  const request = JSON.parse(body.toString());
  const names = Array.isArray(request.AttributeNames) ? request.AttributeNames : [];
  const all = names.includes("All");
  if (!all && !names.includes("ApproximateNumberOfMessages")) return forward(req, body, res);
  const asked = all || names.includes("ApproximateNumberOfMessagesNotVisible") ? names
    : [...names, "ApproximateNumberOfMessagesNotVisible"];
  const forwarded = Buffer.from(JSON.stringify({ ...request, AttributeNames: asked }));
  return forward(req, forwarded, res, (a) => {
    const attrs = { ...a.Attributes };
    const hidden = Number(attrs.ApproximateNumberOfMessagesNotVisible || 0);
    attrs.ApproximateNumberOfMessages = String(Math.max(0, Number(attrs.ApproximateNumberOfMessages) - hidden));
    if (asked !== names) delete attrs.ApproximateNumberOfMessagesNotVisible;
    return { ...a, Attributes: attrs };
  });
}

const front = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    if (req.url.startsWith("/_test/")) {
      if (req.url === "/_test/stats") return answer(res, 200, stats);
      if (req.url === "/_test/reset") {
        rules = [];
        stats = { requests: {}, signatureFailures: 0, faultsInjected: 0 };
        return answer(res, 200, {});
      }
      if (req.url === "/_test/faults") {
        rules = JSON.parse(body.toString()).rules;
        return answer(res, 200, {});
      }
      return answer(res, 404, {});
    }
    const target = String(req.headers["x-amz-target"] || "").replace(/^AmazonSQS\./, "");
    stats.requests[target] = (stats.requests[target] || 0) + 1;
    const bad = checkSignature(req, body);
    if (bad) {
      stats.signatureFailures++;
      return answer(res, 403, { __type: `com.amazon.coral.service#${bad.code}`, message: bad.message }, `${bad.code};Sender`);
    }
    const rule = takeRule(target);
    if (!rule && target === "GetQueueAttributes") return getQueueAttributes(req, body, res);
    if (!rule) return forward(req, body, res);
    switch (rule.action) {
      case "status500":
        return answer(res, 500, { __type: "com.amazonaws.sqs#InternalError", message: "injected" }, "InternalError;Receiver");
      case "throttle":
        return answer(res, 400, { __type: "com.amazonaws.sqs#RequestThrottled", message: "injected" }, "RequestThrottled;Sender");
      case "access-denied":
        return answer(res, 400, { __type: "com.amazonaws.sqs#AccessDenied", message: "injected" }, "AccessDenied;Sender");
      case "delay":
        return setTimeout(() => forward(req, body, res), rule.ms ?? 1000);
      case "fail-entries":
      case "refuse-entries": {
        // The batch's first entry fails: on the service's side (fail-entries: SenderFault
        // false, worth sending again) or as the sender's fault (refuse-entries); the rest go through.
        const request = JSON.parse(body.toString());
        const [first, ...rest] = request.Entries;
        const forwarded = Buffer.from(JSON.stringify({ ...request, Entries: rest }));
        const failed = rule.action === "fail-entries"
          ? { Id: first.Id, SenderFault: false, Code: "InternalError", Message: "injected" }
          : { Id: first.Id, SenderFault: true, Code: "InvalidParameterValue", Message: "injected refusal" };
        if (rest.length === 0) return answer(res, 200, { Successful: [], Failed: [failed] });
        return forward(req, forwarded, res, (a) => ({ ...a, Failed: [...(a.Failed || []), failed] }));
      }
      default:
        return forward(req, body, res);
    }
  });
});

front.listen(0, "127.0.0.1", () => {
  const port = front.address().port;
  process.stdout.write(JSON.stringify({ endpoint: `http://127.0.0.1:${port}`, direct: `http://127.0.0.1:${backendPort}` }) + "\n");
});

process.stdin.on("end", () => process.exit(0));
process.stdin.on("close", () => process.exit(0));
process.stdin.resume();
