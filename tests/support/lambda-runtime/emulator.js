#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// A Lambda Runtime API emulator for tests and benchmarks: Node's built-in http module only.
//
//   node emulator.js [--events FILE] [--results FILE] [--function-arn ARN]
//                    [--timeout-ms N] [--exit-on-stdin-close]
//
// Listens on 127.0.0.1, port 0, and prints the port on stdout once ready. Serves the
// events it is given (a JSON array in --events, or POST /_emulator/events) one per
// invocation, in order, and records what the runtime answers.
//
// GET  /2018-06-01/runtime/invocation/next          blocks until an event is queued; headers
//                                                   Lambda-Runtime-Aws-Request-Id, -Deadline-Ms,
//                                                   -Invoked-Function-Arn, -Trace-Id
// POST /2018-06-01/runtime/invocation/{id}/response 202; 413 above 6 MB (6291456 bytes);
//                                                   400 for an unknown or already answered id
// POST /2018-06-01/runtime/invocation/{id}/error    202; records the body and the
//                                                   Lambda-Runtime-Function-Error-Type header
// POST /2018-06-01/runtime/init/error               202; records the same
//
// POST /_emulator/events   one event (any JSON), or {"events":[...]}; answers {"ids":[...]}
// GET  /_emulator/results  {"invocations":[{id, event, state: queued|running|response|error,
//                          response, error, errorType, nextAt, answeredAt}], "initErrors":[...],
//                          "waiting": runtimes blocked in next, "requests": [method path],
//                          "connections": connections made to the Runtime API paths}
// POST /_emulator/config   {"post_status": N}  answer the next posts with N (e.g. 500:
//                                              "container error"), once each, then 202 again;
//                          {"chunked": true}   send next's event with chunked encoding;
//                          {"drop_after_post": true}  close the connection silently after
//                                              each answered post (tests the client's reconnect)
//                          {"timeout_ms": N}   later invocations' deadlines are N ms after next
// POST /_emulator/reset    forgets everything
//
// Times are milliseconds from process.hrtime (monotonic), also printed in results as
// "now". --results FILE is rewritten after every change (for tests without an HTTP client).
// The emulator exits on SIGTERM, and when stdin closes with --exit-on-stdin-close.
'use strict';

const fs = require('node:fs');
const http = require('node:http');

const maxResponseBytes = 6 * 1024 * 1024;
const prefix = '/2018-06-01';

const opts = { events: [], results: null, functionArn: 'arn:aws:lambda:ap-northeast-2:123456789012:function:notify',
               timeoutMs: 30000, exitOnStdinClose: false };
for (let i = 2; i < process.argv.length; ++i) {
  const a = process.argv[i];
  const next = () => process.argv[++i];
  switch (a) {
    case '--events': opts.events = JSON.parse(fs.readFileSync(next(), 'utf8')); break;
    case '--results': opts.results = next(); break;
    case '--function-arn': opts.functionArn = next(); break;
    case '--timeout-ms': opts.timeoutMs = Number(next()); break;
    case '--exit-on-stdin-close': opts.exitOnStdinClose = true; break;
    default: process.stderr.write(`unknown argument ${a}\n`); process.exit(2);
  }
}

const now = () => Number(process.hrtime.bigint() / 1000n) / 1000;  // ms, monotonic

let state;
function reset() {
  state = { invocations: [], queue: [], waiting: [], initErrors: [], requests: [], counter: 0, connections: 0,
            config: { post_status: [], chunked: false, drop_after_post: false } };
}
reset();

function save() {
  if (opts.results) fs.writeFileSync(opts.results, JSON.stringify(results()));
}

function results() {
  return { now: now(), invocations: state.invocations, initErrors: state.initErrors,
           waiting: state.waiting.length, requests: state.requests, connections: state.connections };
}

function enqueue(event) {
  const id = `req-${++state.counter}-${Math.random().toString(16).slice(2, 10)}`;
  const inv = { id, event, state: 'queued', queuedAt: now() };
  state.invocations.push(inv);
  state.queue.push(inv);
  dispatch();
  return id;
}

function dispatch() {
  while (state.queue.length > 0 && state.waiting.length > 0) {
    const res = state.waiting.shift();
    if (res.destroyed || res.writableEnded) continue;
    const inv = state.queue.shift();
    inv.state = 'running';
    inv.nextAt = now();
    const body = Buffer.from(typeof inv.event === 'string' ? inv.event : JSON.stringify(inv.event));
    const headers = {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': inv.id,
      'Lambda-Runtime-Deadline-Ms': String(Date.now() + opts.timeoutMs),
      'Lambda-Runtime-Invoked-Function-Arn': opts.functionArn,
      'Lambda-Runtime-Trace-Id': `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`,
    };
    if (state.config.chunked) {
      res.writeHead(200, headers);
      const half = Math.floor(body.length / 2);
      res.write(body.subarray(0, half));
      res.end(body.subarray(half));
    } else {
      headers['Content-Length'] = String(body.length);
      res.writeHead(200, headers);
      res.end(body);
    }
  }
  save();
}

function readBody(req, limit, done) {
  const chunks = [];
  let size = 0;
  let over = false;
  req.on('data', (c) => {
    size += c.length;
    if (size > limit) over = true;
    else chunks.push(c);
  });
  req.on('end', () => done(over, Buffer.concat(chunks).toString('utf8'), size));
}

function answer(req, res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
  if (state.config.drop_after_post && req.method === 'POST' && req.url.startsWith(prefix)) {
    res.on('finish', () => setImmediate(() => req.socket.destroy()));
  }
}

/// A status forced by /_emulator/config, or undefined.
function forced() {
  return state.config.post_status.length > 0 ? state.config.post_status.shift() : undefined;
}

const server = http.createServer((req, res) => {
  const url = req.url;
  if (url.startsWith(prefix)) state.requests.push(`${req.method} ${url.slice(prefix.length)}`);

  if (req.method === 'GET' && url === `${prefix}/runtime/invocation/next`) {
    state.waiting.push(res);
    req.socket.setTimeout(0);
    dispatch();
    return;
  }
  let m;
  if (req.method === 'POST' && (m = url.match(/^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/))) {
    const [, id, kind] = m;
    readBody(req, kind === 'response' ? maxResponseBytes : 1024 * 1024, (over, body, size) => {
      const status = forced();
      if (status !== undefined) {
        save();
        return answer(req, res, status, { errorMessage: 'Container error. Non-recoverable state. Runtime should exit promptly.',
                                          errorType: 'Runtime.ContainerError' });
      }
      const inv = state.invocations.find((i) => i.id === id);
      if (!inv || inv.state !== 'running') {
        save();
        return answer(req, res, 400, { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
      }
      if (over) {
        inv.oversized = size;
        save();
        return answer(req, res, 413, { errorMessage: `Exceeded maximum allowed payload size (${maxResponseBytes} bytes).`,
                                       errorType: 'RequestEntityTooLarge' });
      }
      inv.state = kind;
      inv.answeredAt = now();
      if (kind === 'response') inv.response = body;
      else {
        inv.error = body;
        inv.errorType = req.headers['lambda-runtime-function-error-type'] || null;
      }
      save();
      answer(req, res, 202, { status: 'OK' });
    });
    return;
  }
  if (req.method === 'POST' && url === `${prefix}/runtime/init/error`) {
    readBody(req, 1024 * 1024, (over, body) => {
      state.initErrors.push({ body, errorType: req.headers['lambda-runtime-function-error-type'] || null, at: now() });
      const status = forced();
      save();
      answer(req, res, status !== undefined ? status : 202, { status: 'OK' });
    });
    return;
  }
  if (req.method === 'POST' && url === '/_emulator/events') {
    readBody(req, 64 * 1024 * 1024, (over, body) => {
      let parsed;
      try { parsed = JSON.parse(body); } catch (e) { return answer(req, res, 400, { error: 'not JSON' }); }
      const events = parsed && typeof parsed === 'object' && Array.isArray(parsed.events) ? parsed.events : [parsed];
      answer(req, res, 200, { ids: events.map(enqueue) });
    });
    return;
  }
  if (req.method === 'POST' && url === '/_emulator/raw-event') {
    // The body is queued as it is (e.g. not JSON at all), for malformed-event tests.
    readBody(req, 64 * 1024 * 1024, (over, body) => answer(req, res, 200, { ids: [enqueue(body)] }));
    return;
  }
  if (req.method === 'GET' && url === '/_emulator/results') return answer(req, res, 200, results());
  if (req.method === 'POST' && url === '/_emulator/config') {
    readBody(req, 1024 * 1024, (over, body) => {
      const c = JSON.parse(body || '{}');
      if (c.post_status !== undefined) state.config.post_status.push(c.post_status);
      if (c.chunked !== undefined) state.config.chunked = !!c.chunked;
      if (c.drop_after_post !== undefined) state.config.drop_after_post = !!c.drop_after_post;
      if (c.timeout_ms !== undefined) opts.timeoutMs = Number(c.timeout_ms);
      answer(req, res, 200, { status: 'OK' });
    });
    return;
  }
  if (req.method === 'POST' && url === '/_emulator/reset') {
    for (const w of state.waiting) w.destroy();
    reset();
    save();
    return answer(req, res, 200, { status: 'OK' });
  }
  answer(req, res, 404, { errorMessage: `no route for ${req.method} ${url}` });
});

// Connections made to the Runtime API (keep-alive means one per runtime; control calls not counted).
server.on('connection', (socket) => {
  socket.once('data', (d) => {
    if (d.toString('latin1').includes(' /2018-06-01/')) ++state.connections;
  });
});

// next may block for as long as the test likes: no request or header timeouts.
server.requestTimeout = 0;
server.headersTimeout = 0;
server.keepAliveTimeout = 60000;
server.timeout = 0;

for (const e of opts.events) enqueue(e);

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
  save();
});

process.on('SIGTERM', () => process.exit(0));
if (opts.exitOnStdinClose) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
