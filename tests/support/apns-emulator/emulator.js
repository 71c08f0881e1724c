#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// An APNs (HTTP/2 provider API) emulator for tests and benchmarks: Node's built-in http2
// module only.
//
//   node emulator.js --key-public FILE --key-id ID --team-id ID --topic BUNDLE
//                    [--tls-cert FILE --tls-key FILE] [--latency-ms N]
//                    [--max-concurrent-streams N] [--no-record] [--faults JSON]
//                    [--exit-on-stdin-close]
//
// Listens on 127.0.0.1, port 0, over TLS (h2 via ALPN) when a certificate is given, else
// over cleartext HTTP/2 (prior knowledge), and prints the port on stdout once ready.
//
// POST /3/device/<token>    checks, in this order (the first failure answers):
//   authorization: bearer <JWT>  403 MissingProviderToken when absent; 403
//                                InvalidProviderToken unless the header is
//                                {"alg":"ES256","kid":<key id>}, the claims {"iss":<team
//                                id>,"iat"} and the ES256 signature verifies with the key;
//                                403 ExpiredProviderToken when iat is over an hour old or
//                                the token was expired through /_emulator/expire-tokens
//   apns-topic                   400 MissingTopic when absent, 400 TopicDisallowed unless
//                                it is the --topic
//   apns-push-type               400 InvalidPushType unless alert|background|voip|...;
//                                alert needs aps.alert in the payload
//   apns-priority                400 BadPriority unless 10, 5 or 1 (background: not 10)
//   apns-expiration              400 BadExpirationDate unless digits
//   apns-collapse-id             400 BadCollapseId over 64 bytes
//   apns-id                      400 BadMessageId unless a UUID; echoed back (or made up)
//   the payload                  400 PayloadEmpty when empty, 413 PayloadTooLarge over
//                                4096 bytes, 400 BadPayload (this emulator's own) unless a
//                                JSON object with an "aps" object
//   then the fault rules (below), then 200.
// GET  /_emulator/stats           counters: requests, by_status, by_reason, tokens_seen
//                                 (distinct provider tokens that verified), token_updates_too_soon
//                                 (a new token less than 20 minutes of iat after the previous
//                                 one), sessions, concurrency peaks; now_ms
// GET  /_emulator/requests        recorded requests: token, headers (apns-*), body, status,
//                                 reason, iat (of its provider token), t_ms
// POST /_emulator/reset           clears records, counters, fault rules, expired tokens
// POST /_emulator/faults  {"rules":[...]}   replaces the fault rules
// POST /_emulator/expire-tokens   every provider token seen so far gets 403 ExpiredProviderToken
// POST /_emulator/config  {"latency_ms":N}  sets what --latency-ms set (kept across resets)
//
// A fault rule applies to requests whose device token matches `match` (a regular
// expression), at most `times` times when given. Actions: ok, unregistered (410
// Unregistered), expired_token (410 ExpiredToken): both with {"timestamp": `timestamp_ms`,
// default now}; bad_device_token (400 BadDeviceToken), not_for_topic (400
// DeviceTokenNotForTopic), too_many_requests (429 TooManyRequests), too_many_token_updates
// (429 TooManyProviderTokenUpdates), internal (500 InternalServerError), unavailable (503
// ServiceUnavailable), shutdown (503 Shutdown), payload_too_large (413 PayloadTooLarge),
// expired_provider_token (403 ExpiredProviderToken), invalid_provider_token (403
// InvalidProviderToken), reset (RST_STREAM), drop (the connection is destroyed).
// `retry_after` adds a Retry-After header (seconds); `latency_ms` delays the answer.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http2 = require('node:http2');

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH } = http2.constants;

function parseArgs(argv) {
  const o = { latencyMs: 0, maxConcurrentStreams: 1000, record: true, faults: [], exitOnStdinClose: false };
  for (let i = 2; i < argv.length; ++i) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--key-public': o.publicKey = crypto.createPublicKey(fs.readFileSync(next())); break;
      case '--key-id': o.keyId = next(); break;
      case '--team-id': o.teamId = next(); break;
      case '--topic': o.topic = next(); break;
      case '--tls-cert': o.cert = fs.readFileSync(next()); break;
      case '--tls-key': o.key = fs.readFileSync(next()); break;
      case '--latency-ms': o.latencyMs = Number(next()); break;
      case '--max-concurrent-streams': o.maxConcurrentStreams = Number(next()); break;
      case '--no-record': o.record = false; break;
      case '--faults': o.faults = compileRules(JSON.parse(next())); break;
      case '--exit-on-stdin-close': o.exitOnStdinClose = true; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  for (const [k, flag] of [['publicKey', '--key-public'], ['keyId', '--key-id'], ['teamId', '--team-id'], ['topic', '--topic']])
    if (!o[k]) throw new Error(`${flag} is required`);
  if (!o.cert !== !o.key) throw new Error('--tls-cert and --tls-key go together');
  return o;
}

function compileRules(rules) {
  if (!Array.isArray(rules)) throw new Error('rules must be an array');
  return rules.map((r) => ({
    re: new RegExp(r.match ?? ''),
    action: r.action ?? 'ok',
    times: r.times ?? Infinity,
    latencyMs: r.latency_ms ?? 0,
    retryAfter: r.retry_after,
    timestampMs: r.timestamp_ms,
    hits: 0,
  }));
}

const opt = parseArgs(process.argv);
const nowMs = () => Date.now();

function newCounts() {
  return {
    requests: 0, by_status: {}, by_reason: {}, tokens_seen: 0, token_updates_too_soon: 0,
    sessions_opened: 0, sessions_open: 0, in_flight: 0, max_concurrent_streams: 0, streams_reset: 0,
  };
}

const state = {
  records: [],
  counts: newCounts(),
  rules: opt.faults,
  verified: new Map(), // JWT -> iat (seconds): tokens that verified
  expired: new Set(),  // JWTs expired through the control endpoint
  lastIat: null,       // iat of the newest token seen
};

const b64url = (s) => Buffer.from(s, 'base64url');

/// [reason, iat]: reason is null when the token is good.
function checkToken(auth) {
  if (!auth) return ['MissingProviderToken', null];
  const m = /^bearer (.+)$/.exec(auth);
  if (!m) return ['InvalidProviderToken', null];
  const jwt = m[1];
  if (state.expired.has(jwt)) return ['ExpiredProviderToken', state.verified.get(jwt) ?? null];
  let iat = state.verified.get(jwt);
  if (iat === undefined) {
    const parts = jwt.split('.');
    if (parts.length !== 3) return ['InvalidProviderToken', null];
    let header, claims;
    try {
      header = JSON.parse(b64url(parts[0]).toString('utf8'));
      claims = JSON.parse(b64url(parts[1]).toString('utf8'));
    } catch { return ['InvalidProviderToken', null]; }
    if (header.alg !== 'ES256' || header.kid !== opt.keyId) return ['InvalidProviderToken', null];
    if (claims.iss !== opt.teamId || !Number.isInteger(claims.iat)) return ['InvalidProviderToken', null];
    const sig = b64url(parts[2]);
    const ok = sig.length === 64 && crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`),
      { key: opt.publicKey, dsaEncoding: 'ieee-p1363' }, sig);
    if (!ok) return ['InvalidProviderToken', null];
    iat = claims.iat;
    state.verified.set(jwt, iat);
    ++state.counts.tokens_seen;
    if (state.lastIat !== null && iat > state.lastIat && iat - state.lastIat < 20 * 60) ++state.counts.token_updates_too_soon;
    if (state.lastIat === null || iat > state.lastIat) state.lastIat = iat;
  }
  if (Date.now() / 1000 - iat > 3600) return ['ExpiredProviderToken', iat];
  return [null, iat];
}

const pushTypes = new Set(['alert', 'background', 'location', 'voip', 'complication', 'fileprovider', 'mdm',
  'liveactivity', 'pushtotalk']);
const uuid = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/// [status, reason] of the header and payload rules, or null when all pass.
function checkRequest(headers, raw) {
  const topic = headers['apns-topic'];
  if (topic === undefined) return [400, 'MissingTopic'];
  if (topic !== opt.topic) return [400, 'TopicDisallowed'];
  const type = headers['apns-push-type'];
  if (type !== undefined && !pushTypes.has(type)) return [400, 'InvalidPushType'];
  const priority = headers['apns-priority'];
  if (priority !== undefined && !['10', '5', '1'].includes(priority)) return [400, 'BadPriority'];
  if (type === 'background' && priority === '10') return [400, 'BadPriority'];
  const expiration = headers['apns-expiration'];
  if (expiration !== undefined && !/^\d+$/.test(expiration)) return [400, 'BadExpirationDate'];
  const collapse = headers['apns-collapse-id'];
  if (collapse !== undefined && Buffer.byteLength(collapse, 'utf8') > 64) return [400, 'BadCollapseId'];
  const id = headers['apns-id'];
  if (id !== undefined && !uuid.test(id)) return [400, 'BadMessageId'];
  if (raw.length === 0) return [400, 'PayloadEmpty'];
  if (raw.length > 4096) return [413, 'PayloadTooLarge'];
  let payload;
  try { payload = JSON.parse(raw.toString('utf8')); } catch { return [400, 'BadPayload']; }
  if (!payload || typeof payload !== 'object' || !payload.aps || typeof payload.aps !== 'object') return [400, 'BadPayload'];
  if ((type ?? 'alert') === 'alert' && payload.aps.alert === undefined) return [400, 'InvalidPushType'];
  return null;
}

const faultAnswers = {
  unregistered: (r) => [410, 'Unregistered', { timestamp: r.timestampMs ?? nowMs() }],
  expired_token: (r) => [410, 'ExpiredToken', { timestamp: r.timestampMs ?? nowMs() }],
  bad_device_token: () => [400, 'BadDeviceToken'],
  not_for_topic: () => [400, 'DeviceTokenNotForTopic'],
  too_many_requests: () => [429, 'TooManyRequests'],
  too_many_token_updates: () => [429, 'TooManyProviderTokenUpdates'],
  internal: () => [500, 'InternalServerError'],
  unavailable: () => [503, 'ServiceUnavailable'],
  shutdown: () => [503, 'Shutdown'],
  payload_too_large: () => [413, 'PayloadTooLarge'],
  expired_provider_token: () => [403, 'ExpiredProviderToken'],
  invalid_provider_token: () => [403, 'InvalidProviderToken'],
};

function respond(stream, status, headers, body) {
  if (stream.destroyed || stream.closed) return;
  try {
    stream.respond({ ':status': status, ...headers });
    stream.end(body);
  } catch (e) { if (process.env.EMU_DEBUG) console.error('respond failed', e); }
}

function handlePush(stream, headers, token, raw) {
  const c = state.counts;
  ++c.requests;
  const apnsId = headers['apns-id'] && uuid.test(headers['apns-id']) ? headers['apns-id'] : crypto.randomUUID();
  const record = opt.record ? {
    token,
    headers: Object.fromEntries(Object.entries(headers).filter(([k]) => k.startsWith('apns-'))),
    body: raw.toString('utf8'),
    t_ms: nowMs(),
  } : null;
  if (record) state.records.push(record);
  const finish = (status, reason, extra = {}, out = {}, latency = opt.latencyMs) => {
    c.by_status[status] = (c.by_status[status] ?? 0) + 1;
    if (reason) c.by_reason[reason] = (c.by_reason[reason] ?? 0) + 1;
    if (record) { record.status = status; record.reason = reason ?? null; }
    const body = reason ? JSON.stringify({ reason, ...extra }) : undefined;
    const h = { 'apns-id': apnsId, ...out };
    if (body) h['content-type'] = 'application/json; charset=utf-8';
    if (latency > 0) setTimeout(() => respond(stream, status, h, body), latency);
    else respond(stream, status, h, body);
  };
  const [tokenReason, iat] = checkToken(headers.authorization);
  if (record) record.iat = iat;
  if (tokenReason) return finish(403, tokenReason);
  const bad = checkRequest(headers, raw);
  if (bad) return finish(bad[0], bad[1]);
  const rule = state.rules.find((r) => r.hits < r.times && r.re.test(token));
  if (!rule) return finish(200, null);
  ++rule.hits;
  const latency = opt.latencyMs + rule.latencyMs;
  const out = rule.retryAfter !== undefined ? { 'retry-after': String(rule.retryAfter) } : {};
  switch (rule.action) {
    case 'ok': return finish(200, null, {}, {}, latency);
    case 'reset':
      if (record) record.status = 'reset';
      return setTimeout(() => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR), latency);
    case 'drop':
      if (record) record.status = 'drop';
      return setTimeout(() => stream.session.destroy(), latency);
    default: {
      const make = faultAnswers[rule.action];
      if (!make) return finish(500, 'InternalServerError', {}, {}, latency);
      const [status, reason, extra] = make(rule);
      return finish(status, reason, extra ?? {}, out, latency);
    }
  }
}

function sendJson(stream, status, value) {
  respond(stream, status, { 'content-type': 'application/json' }, JSON.stringify(value));
}

function handleControl(stream, method, path, raw) {
  let input = {};
  if (raw.length) {
    try { input = JSON.parse(raw.toString('utf8')); } catch { return sendJson(stream, 400, { error: 'invalid JSON' }); }
  }
  if (method === 'GET' && path === '/_emulator/stats') return sendJson(stream, 200, { ...state.counts, now_ms: nowMs() });
  if (method === 'GET' && path === '/_emulator/requests') return sendJson(stream, 200, state.records);
  if (method === 'POST' && path === '/_emulator/reset') {
    const { sessions_open, in_flight } = state.counts;
    state.counts = newCounts();
    Object.assign(state.counts, { sessions_open, in_flight });
    state.records = [];
    state.rules = [];
    state.expired.clear();
    state.verified.clear();
    state.lastIat = null;
    return sendJson(stream, 200, {});
  }
  if (method === 'POST' && path === '/_emulator/faults') {
    try { state.rules = compileRules(input.rules); } catch (e) { return sendJson(stream, 400, { error: String(e) }); }
    return sendJson(stream, 200, {});
  }
  if (method === 'POST' && path === '/_emulator/config') {
    if (input.latency_ms !== undefined) {
      const ms = Number(input.latency_ms);
      if (!(ms >= 0)) return sendJson(stream, 400, { error: 'latency_ms must be a number of milliseconds' });
      opt.latencyMs = ms;
    }
    return sendJson(stream, 200, {});
  }
  if (method === 'POST' && path === '/_emulator/expire-tokens') {
    for (const jwt of state.verified.keys()) state.expired.add(jwt);
    return sendJson(stream, 200, {});
  }
  return sendJson(stream, 404, { reason: 'BadPath' });
}

const devicePath = /^\/3\/device\/([^/?]+)$/;

function onStream(stream, headers) {
  const method = headers[HTTP2_HEADER_METHOD];
  const path = headers[HTTP2_HEADER_PATH];
  stream.on('error', (e) => { if (process.env.EMU_DEBUG) console.error('stream error', e.code, e.message); });
  const match = devicePath.exec(path);
  if (match) {
    const c = state.counts;
    ++c.in_flight;
    c.max_concurrent_streams = Math.max(c.max_concurrent_streams, c.in_flight);
    stream.once('close', () => {
      --state.counts.in_flight;
      if (stream.rstCode !== 0) ++state.counts.streams_reset;
    });
  }
  const chunks = [];
  stream.on('data', (chunk) => chunks.push(chunk));
  stream.on('end', () => {
    const raw = Buffer.concat(chunks);
    if (match) {
      if (method !== 'POST') return respond(stream, 405, {}, JSON.stringify({ reason: 'MethodNotAllowed' }));
      return handlePush(stream, headers, decodeURIComponent(match[1]), raw);
    }
    if (path.startsWith('/_emulator/')) return handleControl(stream, method, path, raw);
    respond(stream, 404, {}, JSON.stringify({ reason: 'BadPath' }));
  });
}

function onSession(session) {
  const c = state.counts;
  ++c.sessions_opened;
  ++c.sessions_open;
  session.on('error', (e) => { if (process.env.EMU_DEBUG) console.error('session error', e); });
  session.once('close', () => { --state.counts.sessions_open; });
}

const settings = { maxConcurrentStreams: opt.maxConcurrentStreams };
const server = opt.cert
  ? http2.createSecureServer({ cert: opt.cert, key: opt.key, allowHTTP1: false, settings })
  : http2.createServer({ settings });
server.on('session', onSession);
server.on('stream', onStream);
server.on('sessionError', () => {});
server.once('listening', () => process.stdout.write(`${server.address().port}\n`));
server.listen(0, '127.0.0.1');

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (opt.exitOnStdinClose) {
  process.stdin.on('data', () => {});
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
}
