#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// An FCM HTTP v1 emulator for tests and benchmarks: Node's built-in http2 module only.
//
//   node emulator.js --sa-public-key FILE [--client-email E] [--project P]
//                    [--tls-cert FILE --tls-key FILE] [--expires-in S] [--latency-ms N]
//                    [--max-concurrent-streams N] [--no-record] [--content-length]
//                    [--faults JSON] [--exit-on-stdin-close]
//                    [--service-account-out FILE --sa-private-key FILE]
//
// Listens on 127.0.0.1, port 0, over TLS (h2 via ALPN) when a certificate is given, else
// over cleartext HTTP/2 (prior knowledge), and prints the port on stdout once ready.
// With --service-account-out it first writes the matching service-account key file (the
// given private key, this emulator's /token as token_uri) for the client to load.
//
// POST /token                              OAuth2 JWT-bearer grant: checks the RS256 signature
//                                          with the service account's public key and the
//                                          iss/scope/aud/iat/exp claims; issues access tokens.
// POST /v1/projects/{p}/messages:send      checks the bearer token and the body shape,
//                                          records the request, applies the fault rules.
// GET  /_emulator/stats                    counters and concurrency peaks; now_ms, the clock
//                                          of the records' t_ms
// GET  /_emulator/requests                 recorded messages:send requests: token, body,
//                                          status, answered (false: the connection died
//                                          before the answer went out), t_ms, session
// POST /_emulator/reset                    clears records, counters and fault rules
// POST /_emulator/faults  {"rules":[...]}  replaces the fault rules (see below)
// POST /_emulator/config  {"expires_in":S,"latency_ms":N,"token_failures":N}
//                                          (token_failures: the next N token requests get 503)
// POST /_emulator/revoke                   forgets every access token issued so far
// POST /_emulator/outage  {"ms":N}         goes down for N ms: stops listening and destroys
//                                          every connection (clients see refused and reset
//                                          connections), then listens on the same port again
//
// A fault rule applies to messages:send requests whose token matches `match` (a regular
// expression), at most `times` times when given: {"match":"^dead-","action":"unregistered"}.
// Actions: ok (latency only), unregistered (404), invalid_token (400 about message.token),
// invalid_argument (400 about the payload), sender_id_mismatch (403), quota (429, a device's
// rate), project_quota (429 with a google.rpc.QuotaFailure naming the project),
// internal (500), unavailable (503), third_party_auth (401), permission_denied (403),
// reset (RST_STREAM), drop (the TCP connection is destroyed), goaway (GOAWAY after the
// answer). `latency_ms` delays the answer; `retry_after` adds a Retry-After header (seconds);
// `percent` applies the rule to only that share of the matching requests, drawn at random
// (a rule that does not apply lets the next rule try).
//
// Answers carry no content-length (Node's default, assumed to be FCM's too) unless
// --content-length is given. EMU_DEBUG=1 in the environment logs stream and session errors.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http2 = require('node:http2');

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_AUTHORITY, HTTP2_HEADER_SCHEME } = http2.constants;

function parseArgs(argv) {
  const o = {
    clientEmail: 'notify-worker@notify-test.iam.gserviceaccount.com',
    project: 'notify-test',
    expiresIn: 3600,
    latencyMs: 0,
    maxConcurrentStreams: 1000,
    record: true,
    contentLength: false,
    faults: [],
    exitOnStdinClose: false,
  };
  for (let i = 2; i < argv.length; ++i) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--sa-public-key': o.publicKey = crypto.createPublicKey(fs.readFileSync(next())); break;
      case '--client-email': o.clientEmail = next(); break;
      case '--project': o.project = next(); break;
      case '--tls-cert': o.cert = fs.readFileSync(next()); break;
      case '--tls-key': o.key = fs.readFileSync(next()); break;
      case '--expires-in': o.expiresIn = Number(next()); break;
      case '--latency-ms': o.latencyMs = Number(next()); break;
      case '--max-concurrent-streams': o.maxConcurrentStreams = Number(next()); break;
      case '--no-record': o.record = false; break;
      case '--content-length': o.contentLength = true; break;
      case '--faults': o.faults = compileRules(JSON.parse(next())); break;
      case '--exit-on-stdin-close': o.exitOnStdinClose = true; break;
      case '--service-account-out': o.serviceAccountOut = next(); break;
      case '--sa-private-key': o.privateKeyPem = fs.readFileSync(next(), 'utf8'); break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!o.publicKey) throw new Error('--sa-public-key is required');
  if (!o.cert !== !o.key) throw new Error('--tls-cert and --tls-key go together');
  if (!o.serviceAccountOut !== !o.privateKeyPem) throw new Error('--service-account-out needs --sa-private-key');
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
    percent: r.percent ?? 100,
    hits: 0,
  }));
}

const opt = parseArgs(process.argv);

const state = {
  accessTokens: new Map(), // token -> expiry (ms since epoch)
  records: [],
  counts: newCounts(),
  rules: opt.faults,
  nextMessageId: 1,
  sessionSeq: 0,
  tokenFailures: 0,
};

function newCounts() {
  return {
    requests: 0,
    by_status: {},
    token_requests: 0,
    token_requests_with_authorization: 0, // the grant needs none: a client should send none
    tokens_issued: 0,
    tokens_rejected: 0,
    sessions_opened: 0,
    tls_sessions_resumed: 0, // TLS handshakes that resumed an earlier session (a ticket)
    sessions_open: 0,
    max_sessions_open: 0,
    in_flight: 0,
    max_concurrent_streams: 0,
    max_streams_per_session: 0,
    streams_reset: 0,
    goaways_received: 0,
    outages: 0,
    last_down_ms: null, // when the last outage began and ended, on the clock of the records' t_ms
    last_up_ms: null,
  };
}

// ---- answers ---------------------------------------------------------------------------

function send(stream, status, body, extraHeaders = {}, withLength = opt.contentLength) {
  if (stream.destroyed || stream.closed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const length = withLength ? { 'content-length': String(Buffer.byteLength(text)) } : {};
  stream.respond({ ':status': status, 'content-type': 'application/json', ...length, ...extraHeaders });
  stream.end(text);
}

function googleError(code, status, message, details) {
  const error = { code, message, status };
  if (details) error.details = details;
  return { error };
}

function fcmError(code, status, errorCode, message, extra = []) {
  return googleError(code, status, message, [
    { '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode },
    ...extra,
  ]);
}

const faultAnswers = {
  unregistered: () => [404, fcmError(404, 'NOT_FOUND', 'UNREGISTERED', 'Requested entity was not found.')],
  invalid_token: () => [400, fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT',
    'The registration token is not a valid FCM registration token',
    [{ '@type': 'type.googleapis.com/google.rpc.BadRequest',
       fieldViolations: [{ field: 'message.token', description: 'Invalid registration token' }] }])],
  invalid_argument: () => [400, fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT',
    'Request contains an invalid argument.')],
  sender_id_mismatch: () => [403, fcmError(403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH', 'SenderId mismatch')],
  quota: () => [429, fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED', 'Quota exceeded.')],
  project_quota: () => [429, fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED',
    `Quota exceeded for quota metric 'Send requests' of service 'fcm.googleapis.com' for consumer 'project:${opt.project}'.`,
    [{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
       violations: [{ subject: `project:${opt.project}`, description: 'Send requests per minute exceeded.' }] }])],
  internal: () => [500, fcmError(500, 'INTERNAL', 'INTERNAL', 'Internal error encountered.')],
  unavailable: () => [503, fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE', 'The service is currently unavailable.')],
  third_party_auth: () => [401, fcmError(401, 'UNAUTHENTICATED', 'THIRD_PARTY_AUTH_ERROR',
    'Auth error from APNS or Web Push Service')],
  permission_denied: () => [403, googleError(403, 'PERMISSION_DENIED',
    "Permission 'cloudmessaging.messages.create' denied on resource (or it may not exist).")],
};

function unauthenticated() {
  return googleError(401, 'UNAUTHENTICATED',
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other ' +
    'valid authentication credential.');
}

// ---- the token endpoint ----------------------------------------------------------------

function decodePart(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/// Returns null when the assertion is acceptable, else why not.
function checkAssertion(jwt, audience) {
  if (typeof jwt !== 'string') return 'assertion is missing';
  const parts = jwt.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return 'malformed JWT';
  let header, claims;
  try {
    header = decodePart(parts[0]);
    claims = decodePart(parts[1]);
  } catch {
    return 'malformed JWT';
  }
  if (header.alg !== 'RS256') return 'alg must be RS256';
  const signed = crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), opt.publicKey,
    Buffer.from(parts[2], 'base64url'));
  if (!signed) return 'Invalid JWT Signature.';
  if (claims.iss !== opt.clientEmail) return 'iss is not the service account';
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  if (!scopes.includes('https://www.googleapis.com/auth/firebase.messaging') &&
      !scopes.includes('https://www.googleapis.com/auth/cloud-platform')) return 'scope lacks firebase.messaging';
  if (claims.aud !== audience) return `aud must be ${audience}`;
  const now = Date.now() / 1000;
  if (!Number.isInteger(claims.iat) || !Number.isInteger(claims.exp)) return 'iat and exp must be integers';
  if (claims.iat > now + 60) return 'iat is in the future';
  if (claims.exp <= now) return 'Invalid JWT: Token must be a short-lived token and in a reasonable timeframe';
  if (claims.exp - claims.iat > 3600) return 'exp must be at most 1 h after iat';
  return null;
}

function handleToken(stream, headers, body) {
  ++state.counts.token_requests;
  if (headers.authorization !== undefined) ++state.counts.token_requests_with_authorization;
  if (state.tokenFailures > 0) {
    --state.tokenFailures;
    return send(stream, 503, { error: 'temporarily_unavailable', error_description: 'emulator: token_failures' });
  }
  const form = new URLSearchParams(body);
  const reject = (why) => {
    ++state.counts.tokens_rejected;
    send(stream, 400, { error: 'invalid_grant', error_description: why });
  };
  if (!String(headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
    return reject('content-type must be application/x-www-form-urlencoded');
  if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
    return send(stream, 400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' });
  const audience = `${headers[HTTP2_HEADER_SCHEME]}://${headers[HTTP2_HEADER_AUTHORITY]}${headers[HTTP2_HEADER_PATH]}`;
  const why = checkAssertion(form.get('assertion'), audience);
  if (why) return reject(why);
  const token = `ya29.emulator-${crypto.randomBytes(24).toString('hex')}`;
  state.accessTokens.set(token, Date.now() + opt.expiresIn * 1000);
  ++state.counts.tokens_issued;
  send(stream, 200, { access_token: token, expires_in: opt.expiresIn, token_type: 'Bearer' });
}

// ---- messages:send ----------------------------------------------------------------------

const nowMs = () => Number(process.hrtime.bigint() / 1000n) / 1000;

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkStrings(obj, where, allowed) {
  if (!isObject(obj)) return `Invalid value at '${where}' (type.googleapis.com/object)`;
  for (const [k, v] of Object.entries(obj)) {
    if (!allowed.includes(k)) return `Invalid JSON payload received. Unknown name "${k}" at '${where}': Cannot find field.`;
    if (typeof v !== 'string') return `Invalid value at '${where}.${k}' (TYPE_STRING)`;
  }
  return null;
}

/// Returns null when the body has the shape FCM accepts, else the error message.
function checkBody(body) {
  if (!isObject(body)) return 'Invalid JSON payload received. Expected an object.';
  for (const k of Object.keys(body))
    if (k !== 'message' && k !== 'validate_only' && k !== 'validateOnly')
      return `Invalid JSON payload received. Unknown name "${k}": Cannot find field.`;
  if ('validate_only' in body && typeof body.validate_only !== 'boolean') return "Invalid value at 'validate_only' (TYPE_BOOL)";
  const m = body.message;
  if (!isObject(m)) return "Invalid value at 'message'";
  const known = ['token', 'topic', 'condition', 'notification', 'data', 'android', 'apns', 'webpush', 'fcm_options', 'name'];
  for (const k of Object.keys(m))
    if (!known.includes(k)) return `Invalid JSON payload received. Unknown name "${k}" at 'message': Cannot find field.`;
  const targets = ['token', 'topic', 'condition'].filter((k) => k in m);
  if (targets.length !== 1) return 'Exactly one of token, topic or condition must be set';
  if (typeof m.token !== 'string' || m.token === '') return 'The registration token is not a valid FCM registration token';
  if ('notification' in m) {
    const why = checkStrings(m.notification, 'message.notification', ['title', 'body', 'image']);
    if (why) return why;
  }
  if ('data' in m) {
    if (!isObject(m.data)) return "Invalid value at 'message.data'";
    let i = 0;
    for (const [k, v] of Object.entries(m.data)) {
      if (typeof v !== 'string') return `Invalid value at 'message.data[${i}].value' (TYPE_STRING)`;
      if (k === 'from' || k === 'message_type' || k.startsWith('google') || k.startsWith('gcm'))
        return `Invalid data key: ${k}`;
      ++i;
    }
  }
  if ('android' in m) {
    const a = m.android;
    if (!isObject(a)) return "Invalid value at 'message.android'";
    if ('priority' in a && !['normal', 'high', 'NORMAL', 'HIGH'].includes(a.priority))
      return `Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), "${a.priority}"`;
    if ('notification' in a) {
      const why = checkStrings(a.notification, 'message.android.notification',
        ['title', 'body', 'icon', 'color', 'sound', 'tag', 'click_action', 'channel_id', 'notification_priority', 'image']);
      if (why) return why;
      const p = a.notification.notification_priority;
      if (p !== undefined && !['PRIORITY_UNSPECIFIED', 'PRIORITY_MIN', 'PRIORITY_LOW', 'PRIORITY_DEFAULT',
        'PRIORITY_HIGH', 'PRIORITY_MAX'].includes(p))
        return `Invalid value at 'message.android.notification.notification_priority', "${p}"`;
    }
  }
  if ('apns' in m) {
    if (!isObject(m.apns) || ('payload' in m.apns && !isObject(m.apns.payload))) return "Invalid value at 'message.apns'";
    if (m.apns.payload && 'aps' in m.apns.payload && !isObject(m.apns.payload.aps)) return "Invalid value at 'message.apns.payload.aps'";
  }
  return null;
}

function findRule(token) {
  for (const r of state.rules) {
    if (r.hits >= r.times || !r.re.test(token)) continue;
    if (r.percent < 100 && Math.random() * 100 >= r.percent) continue;
    ++r.hits;
    return r;
  }
  return null;
}

function handleSend(stream, headers, project, raw) {
  const counts = state.counts;
  ++counts.requests;
  const record = { token: null, body: raw, status: 0, t_ms: nowMs(),
    session: stream.session.emulatorId };
  if (opt.record) state.records.push(record);
  const answer = (status, body, extra, latencyMs = opt.latencyMs, then) => {
    record.status = status;
    counts.by_status[status] = (counts.by_status[status] ?? 0) + 1;
    const go = () => {
      // false when the connection died before the answer (the client or this emulator
      // went away): the request was taken but never answered.
      record.answered = !stream.destroyed && !stream.closed;
      send(stream, status, body, extra);
      if (then) then();
    };
    if (latencyMs > 0) setTimeout(go, latencyMs);
    else go();
  };

  const auth = String(headers.authorization ?? '');
  const bearer = auth.startsWith('Bearer ') ? auth.slice(7) : null;
  const expiry = bearer === null ? undefined : state.accessTokens.get(bearer);
  if (expiry === undefined || expiry <= Date.now()) return answer(401, unauthenticated());
  if (project !== opt.project) return answer(403, googleError(403, 'PERMISSION_DENIED',
    "Permission 'cloudmessaging.messages.create' denied on resource (or it may not exist)."));
  if (!String(headers['content-type'] ?? '').startsWith('application/json'))
    return answer(400, googleError(400, 'INVALID_ARGUMENT', 'content-type must be application/json'));
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    return answer(400, googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.'));
  }
  if (isObject(body) && isObject(body.message) && typeof body.message.token === 'string') record.token = body.message.token;
  const why = checkBody(body);
  if (why) return answer(400, fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', why));
  if (Buffer.byteLength(raw) > 4096)
    return answer(400, fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'Message is too big'));
  record.validate_only = body.validate_only === true;

  const rule = findRule(record.token);
  const latency = opt.latencyMs + (rule ? rule.latencyMs : 0);
  const extra = rule && rule.retryAfter !== undefined ? { 'retry-after': String(rule.retryAfter) } : {};
  const ok = () => {
    const name = record.validate_only ? 'fake_message_id' : String(state.nextMessageId++);
    return [200, { name: `projects/${opt.project}/messages/${name}` }];
  };
  switch (rule ? rule.action : 'ok') {
    case 'ok': return answer(...ok(), extra, latency);
    case 'reset':
      record.status = 'reset';
      return setTimeout(() => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR), latency);
    case 'drop':
      record.status = 'drop';
      return setTimeout(() => stream.session.destroy(), latency);
    case 'goaway': {
      const session = stream.session;
      return answer(...ok(), extra, latency, () => {
        if (session.closed || session.destroyed) return;
        // Streams the client opened up to now are answered; later ones are refused.
        session.goaway(http2.constants.NGHTTP2_NO_ERROR, session.emulatorLastStream);
        session.close();
      });
    }
    default: {
      const make = faultAnswers[rule.action];
      if (!make) return answer(500, googleError(500, 'INTERNAL', `emulator: unknown action ${rule.action}`));
      const [status, errBody] = make();
      return answer(status, errBody, extra, latency);
    }
  }
}

// ---- control ----------------------------------------------------------------------------

function handleControl(stream, method, path, raw) {
  let input = {};
  if (raw) {
    try { input = JSON.parse(raw); } catch { return send(stream, 400, { error: 'invalid JSON' }); }
  }
  if (method === 'GET' && path === '/_emulator/stats') return send(stream, 200, { ...state.counts, now_ms: nowMs() });
  // With content-length: a client then knows a large answer is complete without waiting
  // for the stream's end, which curl was seen to miss now and then after other
  // connections died.
  if (method === 'GET' && path === '/_emulator/requests') return send(stream, 200, state.records, {}, true);
  if (method === 'POST' && path === '/_emulator/reset') {
    const { sessions_open, in_flight } = state.counts;
    state.counts = newCounts();
    state.counts.sessions_open = sessions_open;
    state.counts.in_flight = in_flight;
    state.records = [];
    state.rules = [];
    return send(stream, 200, {});
  }
  if (method === 'POST' && path === '/_emulator/faults') {
    try { state.rules = compileRules(input.rules); } catch (e) { return send(stream, 400, { error: String(e) }); }
    return send(stream, 200, {});
  }
  if (method === 'POST' && path === '/_emulator/config') {
    if (input.expires_in !== undefined) opt.expiresIn = Number(input.expires_in);
    if (input.latency_ms !== undefined) opt.latencyMs = Number(input.latency_ms);
    if (input.token_failures !== undefined) state.tokenFailures = Number(input.token_failures);
    return send(stream, 200, {});
  }
  if (method === 'POST' && path === '/_emulator/outage') {
    const ms = Number(input.ms);
    if (!(ms >= 0)) return send(stream, 400, { error: 'ms must be a number of milliseconds' });
    // Down once this answer has reached the caller: when its connection closes, or
    // 200 ms after the answer went out if it keeps the connection open.
    let started = false;
    const begin = () => {
      if (!started) outage(ms);
      started = true;
    };
    stream.session.once('close', begin);
    stream.once('close', () => setTimeout(begin, 200));
    return send(stream, 200, {});
  }
  if (method === 'POST' && path === '/_emulator/revoke') {
    state.accessTokens.clear();
    return send(stream, 200, {});
  }
  return send(stream, 404, googleError(404, 'NOT_FOUND', `no such control endpoint: ${method} ${path}`));
}

// ---- the server -------------------------------------------------------------------------

const sendPath = /^\/v1\/projects\/([^/]+)\/messages:send$/;

function onStream(stream, headers) {
  const method = headers[HTTP2_HEADER_METHOD];
  const path = headers[HTTP2_HEADER_PATH];
  const session = stream.session;
  session.emulatorLastStream = Math.max(session.emulatorLastStream, stream.id);
  stream.on('error', (e) => { if (process.env.EMU_DEBUG) console.error('stream error', e.code, e.message); });
  stream.once('close', () => { if (stream.rstCode !== 0) ++state.counts.streams_reset; });
  const match = sendPath.exec(path);
  if (match) {
    const c = state.counts;
    ++c.in_flight;
    ++session.emulatorInFlight;
    c.max_concurrent_streams = Math.max(c.max_concurrent_streams, c.in_flight);
    c.max_streams_per_session = Math.max(c.max_streams_per_session, session.emulatorInFlight);
    stream.once('close', () => {
      --state.counts.in_flight;
      --session.emulatorInFlight;
    });
  }
  const chunks = [];
  stream.on('data', (chunk) => chunks.push(chunk));
  stream.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    if (match) {
      if (method !== 'POST') return send(stream, 405, googleError(405, 'METHOD_NOT_ALLOWED', 'use POST'));
      return handleSend(stream, headers, decodeURIComponent(match[1]), raw);
    }
    if (path === '/token' && method === 'POST') return handleToken(stream, headers, raw);
    if (path.startsWith('/_emulator/')) return handleControl(stream, method, path, raw);
    send(stream, 404, googleError(404, 'NOT_FOUND', `no such path: ${path}`));
  });
}

const sessions = new Set();

/// Down for `ms`: no listener, every connection destroyed; then up on the same port.
function outage(ms) {
  const port = server.address().port;
  ++state.counts.outages;
  state.counts.last_down_ms = nowMs();
  server.close();
  for (const s of sessions) s.destroy();
  setTimeout(() => {
    server.listen(port, '127.0.0.1', () => { state.counts.last_up_ms = nowMs(); });
  }, ms);
}

function onSession(session) {
  sessions.add(session);
  session.emulatorId = ++state.sessionSeq;
  session.emulatorInFlight = 0;
  session.emulatorLastStream = 0;
  const c = state.counts;
  ++c.sessions_opened;
  if (session.socket && typeof session.socket.isSessionReused === 'function' && session.socket.isSessionReused()) ++c.tls_sessions_resumed;
  ++c.sessions_open;
  c.max_sessions_open = Math.max(c.max_sessions_open, c.sessions_open);
  session.on('error', (e) => { if (process.env.EMU_DEBUG) console.error('session error', e); });
  session.on('goaway', () => { ++state.counts.goaways_received; });
  session.on('frameError', (type, code, id) => { if (process.env.EMU_DEBUG) console.error('frameError', type, code, id); });
  session.once('close', () => {
    --state.counts.sessions_open;
    sessions.delete(session);
  });
}

const settings = { maxConcurrentStreams: opt.maxConcurrentStreams };
const server = opt.cert
  ? http2.createSecureServer({ cert: opt.cert, key: opt.key, allowHTTP1: false, settings })
  : http2.createServer({ settings });
server.on('session', onSession);
server.on('stream', onStream);
server.on('sessionError', () => {});
server.once('listening', () => {
  const port = server.address().port;
  if (opt.serviceAccountOut) {
    const account = {
      type: 'service_account',
      project_id: opt.project,
      private_key_id: 'emulator-key',
      private_key: opt.privateKeyPem,
      client_email: opt.clientEmail,
      client_id: '1',
      token_uri: `${opt.cert ? 'https' : 'http'}://127.0.0.1:${port}/token`,
    };
    fs.writeFileSync(opt.serviceAccountOut, `${JSON.stringify(account, null, 2)}\n`, { mode: 0o600 });
  }
  process.stdout.write(`${port}\n`);
});
server.listen(0, '127.0.0.1');

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (opt.exitOnStdinClose) {
  process.stdin.on('data', () => {});
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
}
