#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// A Naver Cloud SENS emulator (SMS/LMS and AlimTalk send calls) for tests: Node's built-in
// https/http modules only.
//
//   node emulator.js --access-key KEY --secret-key-file FILE
//                    [--tls-cert FILE --tls-key FILE] [--exit-on-stdin-close]
//
// Listens on 127.0.0.1, port 0, over HTTPS (HTTP/1.1) when a certificate is given, else
// plain HTTP, and prints the port on stdout once ready.
//
// POST /sms/v2/services/<id>/messages and POST /alimtalk/v2/services/<id>/messages check,
// in this order (the first failure answers):
//   x-ncp-apigw-timestamp, x-ncp-iam-access-key, x-ncp-apigw-signature-v2
//       401 {"error":{"errorCode":"200","message":"Authentication Failed",...}} when one is
//       missing, the access key is not --access-key, the timestamp is more than 5 minutes
//       off, or the signature is not Base64(HMAC-SHA256(secret, "POST <uri>\n<ts>\n<key>"))
//       computed here with node:crypto (an implementation independent of the C++ one)
//   the fault set through POST /_fault (while it has uses left)
//   the body: JSON; SMS: type SMS|LMS, contentType COMM|AD, countryCode "82", from (digits),
//       content; every character of subject and content encodable in EUC-KR; SMS content
//       <= 90 EUC-KR bytes, LMS content <= 2000, subject <= 40 and only for LMS; contentType
//       AD: the subject (LMS) or content starts with "(광고)"; messages:
//       1..100 entries, each {to: digits}. AlimTalk: plusFriendId, templateCode, messages
//       1..100 entries, each {to: digits, content (<= 1000 characters), countryCode "82"
//       when present, useSmsFailover boolean when present, failoverConfig checked like an
//       SMS body (type, from, subject, content) when useSmsFailover is true}
//       400 {"statusCode":"400","statusName":"fail","errorMessage":"<field>: <why>"}
//   a recipient listed through POST /_invalid
//       400 {"statusCode":"400","statusName":"fail","errorMessage":"invalid recipient number: <to>"}
//   then 202 {"requestId","requestTime","statusCode":"202","statusName":"success"}.
//
// EUC-KR is counted with a table made here once: every two-byte sequence 0xA1A1..0xFEFE
// decoded with TextDecoder('euc-kr') (KS X 1001), plus ASCII as one byte.
//
// Control endpoints:
// GET  /_received     {"requests":[{kind:"sms"|"alimtalk", service, status, body (parsed JSON
//                      or null), error, t_ms}], "connections": N}: every send call, answered
//                      or not, and how many connections carried them
// POST /_reset        forgets received requests, the fault and the invalid numbers
// POST /_fault        {"status":429|500|401|400|...,"retry_after":"7","times":N} answers the
//                      next N send calls (default: all) with that status after the auth check
// POST /_invalid      {"numbers":["01000000000",...]}: numbers SENS calls invalid
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');

function parseArgs(argv) {
  const o = { exitOnStdinClose: false };
  for (let i = 2; i < argv.length; ++i) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--access-key': o.accessKey = next(); break;
      case '--secret-key-file': o.secretKey = fs.readFileSync(next(), 'utf8').trimEnd(); break;
      case '--tls-cert': o.cert = fs.readFileSync(next()); break;
      case '--tls-key': o.key = fs.readFileSync(next()); break;
      case '--exit-on-stdin-close': o.exitOnStdinClose = true; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!o.accessKey || !o.secretKey) throw new Error('--access-key and --secret-key-file are required');
  if (!o.cert !== !o.key) throw new Error('--tls-cert and --tls-key go together');
  return o;
}

const opt = parseArgs(process.argv);

// The characters with a two-byte EUC-KR form.
const euckr = (() => {
  const set = new Set();
  const dec = new TextDecoder('euc-kr', { fatal: true });
  for (let a = 0xa1; a <= 0xfe; ++a) {
    for (let b = 0xa1; b <= 0xfe; ++b) {
      try {
        const s = dec.decode(Uint8Array.of(a, b));
        if ([...s].length === 1 && s.codePointAt(0) >= 0x80) set.add(s);
      } catch (e) { /* not a character */ }
    }
  }
  // KS X 1001:1998 added € (0xA2E6) and ® (0xA2E7), KS X 1001:2002 ㉾ (0xA2E8); WHATWG's
  // euc-kr index predates them. With these, the table holds the same characters as glibc's
  // EUC-KR (checked once by decoding every pair with both), plus the user-defined rows'
  // private-use code points, which no message holds.
  set.add('\u20ac');
  set.add('\u00ae');
  set.add('\u327e');
  return set;
})();

/// EUC-KR length of s, or -1 when a character has no EUC-KR form.
function euckrLength(s) {
  let n = 0;
  for (const ch of s) {
    if (ch.codePointAt(0) < 0x80) n += 1;
    else if (euckr.has(ch)) n += 2;
    else return -1;
  }
  return n;
}

const state = { requests: [], fault: null, invalid: new Set(), sendSockets: new WeakSet(), sendConnections: 0 };

function json(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const authFailed = { error: { errorCode: '200', message: 'Authentication Failed', details: 'Invalid authentication information.' } };

/// null when the request is signed well, else why not.
function checkAuth(req) {
  const ts = req.headers['x-ncp-apigw-timestamp'];
  const key = req.headers['x-ncp-iam-access-key'];
  const sig = req.headers['x-ncp-apigw-signature-v2'];
  if (!ts || !key || !sig) return 'missing authentication header';
  if (key !== opt.accessKey) return 'unknown access key';
  if (!/^\d{13}$/.test(ts) || Math.abs(Date.now() - Number(ts)) > 5 * 60 * 1000) return 'timestamp out of range';
  const message = `${req.method} ${req.url}\n${ts}\n${key}`;
  const expected = crypto.createHmac('sha256', opt.secretKey).update(message, 'utf8').digest('base64');
  const a = Buffer.from(expected);
  const b = Buffer.from(sig);
  if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) return 'signature mismatch';
  return null;
}

const isDigits = (v) => typeof v === 'string' && /^\d+$/.test(v);

/// Checks an SMS body or an AlimTalk failoverConfig; returns an error text or null.
function checkSmsFields(o, where, needsMessages) {
  if (o.type !== 'SMS' && o.type !== 'LMS') return `${where}type: SMS or LMS expected`;
  if (!isDigits(o.from)) return `${where}from: digits expected`;
  if (typeof o.content !== 'string' || o.content === '') return `${where}content: required`;
  const contentBytes = euckrLength(o.content);
  if (contentBytes < 0) return `${where}content: a character has no EUC-KR form`;
  const limit = o.type === 'SMS' ? 90 : 2000;
  if (contentBytes > limit) return `${where}content: ${contentBytes} bytes, over ${limit} for ${o.type}`;
  if (o.subject !== undefined) {
    if (o.type !== 'LMS') return `${where}subject: LMS only`;
    const subjectBytes = euckrLength(o.subject);
    if (subjectBytes < 0) return `${where}subject: a character has no EUC-KR form`;
    if (subjectBytes > 40) return `${where}subject: ${subjectBytes} bytes, over 40`;
  }
  if (needsMessages) {
    if (o.contentType !== undefined && o.contentType !== 'COMM' && o.contentType !== 'AD') return 'contentType: COMM or AD expected';
    if (o.contentType === 'AD' && !(o.subject ?? o.content).startsWith('(광고)')) return 'contentType AD: the message must start with (광고)';
    if (o.countryCode !== undefined && o.countryCode !== '82') return 'countryCode: 82 expected';
  }
  return null;
}

function checkMessages(msgs) {
  if (!Array.isArray(msgs) || msgs.length === 0) return 'messages: at least one expected';
  if (msgs.length > 100) return `messages: ${msgs.length} entries, at most 100`;
  for (let i = 0; i < msgs.length; ++i)
    if (!isDigits(msgs[i].to)) return `messages[${i}].to: digits expected`;
  return null;
}

function checkSms(body) {
  return checkSmsFields(body, '', true) ?? checkMessages(body.messages);
}

function checkAlimTalk(body) {
  if (typeof body.plusFriendId !== 'string' || body.plusFriendId === '') return 'plusFriendId: required';
  if (typeof body.templateCode !== 'string' || body.templateCode === '') return 'templateCode: required';
  const err = checkMessages(body.messages);
  if (err) return err;
  for (let i = 0; i < body.messages.length; ++i) {
    const m = body.messages[i];
    if (typeof m.content !== 'string' || m.content === '') return `messages[${i}].content: required`;
    if ([...m.content].length > 1000) return `messages[${i}].content: over 1000 characters`;
    if (m.countryCode !== undefined && m.countryCode !== '82') return `messages[${i}].countryCode: 82 expected`;
    if (m.useSmsFailover !== undefined && typeof m.useSmsFailover !== 'boolean') return `messages[${i}].useSmsFailover: boolean expected`;
    if (m.useSmsFailover === true && m.failoverConfig !== undefined) {
      const e = checkSmsFields(m.failoverConfig, `messages[${i}].failoverConfig.`, false);
      if (e) return e;
    }
  }
  return null;
}

function onSend(req, res, kind, service, raw) {
  if (!state.sendSockets.has(req.socket)) {
    state.sendSockets.add(req.socket);
    ++state.sendConnections;
  }
  const record = { kind, service, status: 0, body: null, error: null, t_ms: Date.now() };
  state.requests.push(record);
  const answer = (status, body, headers) => {
    record.status = status;
    json(res, status, body, headers);
  };
  const why = checkAuth(req);
  if (why) {
    record.error = why;
    return answer(401, authFailed);
  }
  try { record.body = JSON.parse(raw); } catch (e) { record.error = 'invalid JSON'; }
  if (state.fault && state.fault.times > 0) {
    --state.fault.times;
    const f = state.fault;
    record.error = `fault ${f.status}`;
    return answer(f.status, f.status === 401 ? authFailed : { statusCode: String(f.status), statusName: 'fail', errorMessage: 'injected fault' },
      f.retry_after !== undefined ? { 'retry-after': String(f.retry_after) } : {});
  }
  if (!record.body || typeof record.body !== 'object') return answer(400, { statusCode: '400', statusName: 'fail', errorMessage: 'body: JSON object expected' });
  const err = kind === 'sms' ? checkSms(record.body) : checkAlimTalk(record.body);
  if (err) {
    record.error = err;
    return answer(400, { statusCode: '400', statusName: 'fail', errorMessage: err });
  }
  for (const m of record.body.messages) {
    if (state.invalid.has(m.to)) {
      record.error = `invalid recipient ${m.to}`;
      return answer(400, { statusCode: '400', statusName: 'fail', errorMessage: `invalid recipient number: ${m.to}` });
    }
  }
  answer(202, { requestId: `R${crypto.randomBytes(8).toString('hex')}`, requestTime: new Date().toISOString(), statusCode: '202', statusName: 'success' });
}

function onRequest(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = req.url.split('?')[0];
    const send = /^\/(sms|alimtalk)\/v2\/services\/([^/]+)\/messages$/.exec(path);
    if (req.method === 'POST' && send) return onSend(req, res, send[1], decodeURIComponent(send[2]), raw);
    if (req.method === 'GET' && path === '/_received') return json(res, 200, { requests: state.requests, connections: state.sendConnections });
    if (req.method === 'POST' && path === '/_reset') {
      state.requests = [];
      state.fault = null;
      state.invalid = new Set();
      state.sendConnections = 0;
      state.sendSockets = new WeakSet();
      return json(res, 200, {});
    }
    if (req.method === 'POST' && path === '/_fault') {
      const f = JSON.parse(raw || '{}');
      state.fault = f.status ? { status: Number(f.status), retry_after: f.retry_after, times: f.times ?? Infinity } : null;
      return json(res, 200, {});
    }
    if (req.method === 'POST' && path === '/_invalid') {
      state.invalid = new Set(JSON.parse(raw || '{}').numbers ?? []);
      return json(res, 200, {});
    }
    json(res, 404, { statusCode: '404', statusName: 'fail', errorMessage: `no route for ${req.method} ${path}` });
  });
}

const server = opt.cert ? https.createServer({ cert: opt.cert, key: opt.key }, onRequest) : http.createServer(onRequest);
server.keepAliveTimeout = 30000;
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
