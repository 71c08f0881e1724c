// SPDX-License-Identifier: MIT
// Checks `notifyctl schema` with ajv's JSON Schema draft 2020-12 validator:
// - the schema itself compiles in ajv's strict mode;
// - every tests/data/golden/*.json is valid;
// - documents the decoder rejects are rejected by the schema too, and documents it
//   accepts are accepted, so producers validating with the schema see what the worker sees
//   (each verdict is checked against `notifyctl validate` as well);
// - the documented gaps (3.0 as an id, byte-counted texts) behave as documented: the
//   schema never refuses what the decoder accepts, only lets some of those through.
//
//   node validate.js NOTIFYCTL GOLDEN_DIR
// Needs ajv: `npm ci --prefix tests/schema` (or NODE_PATH pointing at a node_modules).
'use strict';

const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const [notifyctl, goldenDir] = process.argv.slice(2);
if (!notifyctl || !goldenDir) {
  console.error('usage: node validate.js NOTIFYCTL GOLDEN_DIR');
  process.exit(64);
}

let Ajv2020;
try {
  Ajv2020 = require('ajv/dist/2020');
} catch (e) {
  console.error('ajv is not installed: run `npm ci --prefix tests/schema` first (' + e.message + ')');
  process.exit(1);
}

let passed = 0;
let failed = 0;
function check(ok, name, detail) {
  if (ok) {
    passed++;
    console.log('ok - ' + name);
  } else {
    failed++;
    console.log('not ok - ' + name + (detail ? '\n    ' + detail : ''));
  }
}

// The decoder's verdict: notifyctl validate exits 0 (valid) or 2 (invalid).
function decoderAccepts(text) {
  const r = spawnSync(notifyctl, ['validate', '--request', '-'], { input: text });
  if (r.status !== 0 && r.status !== 2) throw new Error('notifyctl validate exited ' + r.status + ': ' + r.stderr);
  return r.status === 0;
}

const schema = JSON.parse(execFileSync(notifyctl, ['schema'], { encoding: 'utf8' }));
const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
let validate;
try {
  validate = ajv.compile(schema);
  check(true, 'the schema compiles in strict mode');
} catch (e) {
  check(false, 'the schema compiles in strict mode', e.message);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}
const errorsOf = () => ajv.errorsText(validate.errors);

// Every golden file is valid, for the schema and for the decoder.
const golden = fs.existsSync(goldenDir)
  ? fs.readdirSync(goldenDir).filter((f) => f.endsWith('.json')).sort()
  : [];
check(golden.length > 0, `golden files found in ${goldenDir}`);
for (const file of golden) {
  const text = fs.readFileSync(path.join(goldenDir, file), 'utf8');
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    check(false, `golden ${file} is JSON`, e.message);
    continue;
  }
  check(validate(doc), `golden ${file} is valid`, errorsOf());
  check(decoderAccepts(text), `golden ${file} is accepted by the decoder`);
}

// Documents both the schema and the decoder must accept.
const big = '9223372036854775807';
const valid = {
  'unknown envelope and param fields': '{"type":"EMOTION_POKE","param":{"familyId":1,"userId":2,"x":[1]},"traceId":"t"}',
  'param before type': '{"param":{"familyId":1,"ownerId":2},"type":"PEDIA_ANSWER"}',
  'null optional text': '{"type":"PHOTO_CREATE","param":{"photoId":1,"authorId":2,"familyId":3,"titlePreview":null}}',
  'absent optional text': '{"type":"COMMENT_PHOTO","param":{"photoId":1,"authorId":2,"familyId":3}}',
  'a traceparent': '{"type":"MESSAGE_TODAY","param":{"familyIds":[1]},"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}',
  'null envelope id and createdAt': '{"type":"MESSAGE_TODAY","param":{"familyIds":[1]},"id":null,"createdAt":null}',
  'envelope id of 128 allowed characters': `{"type":"MESSAGE_TODAY","param":{"familyIds":[1]},"id":"${'a-_.:Z9'.repeat(18)}ab"}`,
  'the largest id': `{"type":"EMOTION_CHOSEN","param":{"familyId":${big},"userId":1}}`,
  'a text of max_text_bytes / 4 four-byte code points': `{"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":"${'🎂'.repeat(1024)}"}}`,
  'an ASCII text of 2000 bytes': `{"type":"COMMENT_PHOTO","param":{"photoId":1,"authorId":2,"familyId":3,"commentPreview":"${'a'.repeat(2000)}"}}`,
  'an ASCII text of max_text_bytes bytes': `{"type":"PHOTO_CREATE","param":{"photoId":1,"authorId":2,"familyId":3,"titlePreview":"${'a'.repeat(4096)}"}}`,
  '1000 family ids': `{"type":"MESSAGE_BIRTHDAY","param":{"familyIds":[${Array.from({ length: 1000 }, (_, i) => i + 1)}]}}`,
};
for (const [name, text] of Object.entries(valid)) {
  check(validate(JSON.parse(text)), `schema accepts: ${name}`, errorsOf());
  check(decoderAccepts(text), `decoder accepts: ${name}`);
}

// Documents both must reject.
const invalid = {
  'not an object': '[1,2]',
  'missing type': '{"param":{"familyId":1,"userId":2}}',
  'missing param': '{"type":"EMOTION_POKE"}',
  'unknown type': '{"type":"EMOTION_HUG","param":{"familyId":1,"userId":2}}',
  'type in lower case': '{"type":"emotion_poke","param":{"familyId":1,"userId":2}}',
  'param of another type': '{"type":"EMOTION_POKE","param":{"familyId":1,"ownerId":2}}',
  'param is an array': '{"type":"EMOTION_POKE","param":[1,2]}',
  'id as a string': '{"type":"EMOTION_POKE","param":{"familyId":"1","userId":2}}',
  'id 0': '{"type":"EMOTION_POKE","param":{"familyId":0,"userId":2}}',
  'negative id': '{"type":"EMOTION_POKE","param":{"familyId":-4,"userId":2}}',
  'id with a fraction': '{"type":"EMOTION_POKE","param":{"familyId":3.5,"userId":2}}',
  'id true': '{"type":"EMOTION_POKE","param":{"familyId":true,"userId":2}}',
  'id null': '{"type":"EMOTION_POKE","param":{"familyId":null,"userId":2}}',
  'isTimeCapsule as a string': '{"type":"LETTER_SEND","param":{"letterId":1,"isTimeCapsule":"true","familyId":2,"receiverId":3}}',
  'empty familyIds': '{"type":"MESSAGE_TODAY","param":{"familyIds":[]}}',
  '1001 family ids': `{"type":"MESSAGE_TODAY","param":{"familyIds":[${Array.from({ length: 1001 }, (_, i) => i + 1)}]}}`,
  'time capsule without senderId': '{"type":"TIMECAPSULE_OPEN","param":{"timaCapsules":[{"letterId":1,"receiverId":2,"familyId":3}]}}',
  'the real spelling timeCapsules': '{"type":"TIMECAPSULE_OPEN","param":{"timeCapsules":[{"letterId":1,"receiverId":2,"senderId":4,"familyId":3}]}}',
  'birthday entry as a number': '{"type":"NOTIFY_BIRTHDAY","param":{"familyIdsWithBirthdayUserId":[7]}}',
  'comment preview as a number': '{"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":5}}',
  'an ASCII text of max_text_bytes + 1 bytes': `{"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":"${'a'.repeat(4097)}"}}`,
  'envelope id with a space': '{"type":"MESSAGE_TODAY","param":{"familyIds":[1]},"id":"a b"}',
  'empty envelope id': '{"type":"MESSAGE_TODAY","param":{"familyIds":[1]},"id":""}',
  'envelope id of 129 bytes': `{"type":"MESSAGE_TODAY","param":{"familyIds":[1]},"id":"${'x'.repeat(129)}"}`,
  'envelope id as a number': '{"type":"MESSAGE_TODAY","param":{"familyIds":[1]},"id":17}',
  'createdAt as a string': '{"type":"MESSAGE_TODAY","param":{"familyIds":[1]},"createdAt":"2024-05-01"}',
  'createdAt 0': '{"type":"MESSAGE_TODAY","param":{"familyIds":[1]},"createdAt":0}',
};
for (const [name, text] of Object.entries(invalid)) {
  check(!validate(JSON.parse(text)), `schema rejects: ${name}`);
  check(!decoderAccepts(text), `decoder rejects: ${name}`);
}

// Documented gaps: JSON Schema cannot tell 3.0 from 3, and maxLength counts code points
// where the decoder counts bytes. maxLength is max_text_bytes, so the schema never refuses
// a text the decoder accepts; a text of multi-byte characters may pass it and be too long.
const gaps = {
  'an id written 3.0': ['{"type":"EMOTION_POKE","param":{"familyId":3.0,"userId":2}}', true, false],
  'a text of 1366 three-byte code points (4098 bytes)': [
    `{"type":"COMMENT_MESSAGE","param":{"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":"${'가'.repeat(1366)}"}}`,
    true,
    false,
  ],
};
for (const [name, [text, schemaVerdict, decoderVerdict]] of Object.entries(gaps)) {
  check(validate(JSON.parse(text)) === schemaVerdict, `documented gap, schema ${schemaVerdict ? 'accepts' : 'rejects'}: ${name}`);
  check(decoderAccepts(text) === decoderVerdict, `documented gap, decoder ${decoderVerdict ? 'accepts' : 'rejects'}: ${name}`);
}

// The stored member value: `notifyctl schema --member` against `notifyctl validate --member`.
function memberAccepted(text) {
  const r = spawnSync(notifyctl, ['validate', '--member', '-'], { input: text });
  if (r.status !== 0 && r.status !== 2) throw new Error('notifyctl validate --member exited ' + r.status + ': ' + r.stderr);
  return r.status === 0;
}
let validateMember;
try {
  validateMember = ajv.compile(JSON.parse(execFileSync(notifyctl, ['schema', '--member'], { encoding: 'utf8' })));
  check(true, 'the member schema compiles in strict mode');
} catch (e) {
  check(false, 'the member schema compiles in strict mode', e.message);
}
if (validateMember) {
  const members = {
    'a first-version value': ['{"userName":"엄마","fcmToken":"t","mktPushAgreed":true}', true],
    'the legacy spelling': '{"userName":"엄마","fcmToken":null,"mktPushAreed":false}',
    'a full v2 value': [JSON.stringify({
      userName: '아빠', fcmToken: 'a1', mktPushAgreed: false,
      devices: [{ token: 'a1', provider: 'fcm', platform: 'android', registeredAt: '2026-11-01T09:00:00+09:00' },
        { token: 'i1', provider: 'apns', platform: 'ios', app: 'kr.example', locale: 'ko-KR' }],
      email: 'dad@example.kr', phone: '+821012345678', timeZone: 'Europe/London',
      preferences: { mute: false, photo: { push: false }, notice: { sms: false, email: true } },
      consent: { marketing: { agreedAt: '2026-01-01T00:00:00Z', withdrawnAt: null }, nightAds: null },
      quietHours: { start: '22:30', end: '06:00' },
    }), true],
    'no userName': ['{"fcmToken":"t"}', false],
    'a device without a token': ['{"userName":"a","devices":[{"provider":"fcm"}]}', false],
    'a provider it does not know': ['{"userName":"a","devices":[{"token":"t","provider":"webpush"}]}', false],
    'a phone number without +': ['{"userName":"a","phone":"01012345678"}', false],
    'a time zone it does not know': ['{"userName":"a","timeZone":"Mars/Olympus"}', false],
    'quiet hours at 24:00': ['{"userName":"a","quietHours":{"start":"22:00","end":"24:00"}}', false],
    'a channel it does not know': ['{"userName":"a","preferences":{"photo":{"pigeon":false}}}', false],
    'consent as a flag': ['{"userName":"a","consent":{"marketing":true}}', false],
    'a date without an offset': ['{"userName":"a","consent":{"marketing":{"agreedAt":"2026-01-01T00:00:00"}}}', false],
  };
  for (const [name, entry] of Object.entries(members)) {
    const [text, ok] = Array.isArray(entry) ? entry : [entry, true];
    check(validateMember(JSON.parse(text)) === ok, `member schema ${ok ? 'accepts' : 'rejects'}: ${name}`,
      ajv.errorsText(validateMember.errors));
    check(memberAccepted(text) === ok, `notifyctl validate --member ${ok ? 'accepts' : 'rejects'}: ${name}`);
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
