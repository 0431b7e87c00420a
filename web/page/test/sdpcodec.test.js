// The codec's tests: every vector of sdpcodec/testdata, read as pigeon
// reads it. With PIGEON_GOLDEN (written by package web's test) each result
// is also compared with Go's: the error's words, the rebuilt SDP, the
// verification code.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const codec = require('../sdpcodec.js');

const dir = process.env.PIGEON_VECTORS || path.join(__dirname, '..', '..', '..', 'sdpcodec', 'testdata');
const golden = process.env.PIGEON_GOLDEN ? JSON.parse(fs.readFileSync(process.env.PIGEON_GOLDEN, 'utf8')) : null;

function loadVectors() {
  const names = fs.readdirSync(dir).filter((n) => n.endsWith('.txt')).sort();
  return names.map((name) => {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    const end = text.indexOf('\n\n');
    assert.ok(end >= 0, name + ': no empty line after the header');
    const header = {};
    for (const line of text.slice(0, end).split('\n')) {
      const i = line.indexOf(': ');
      assert.ok(i > 0, name + ': header line ' + JSON.stringify(line) + ' is not "key: value"');
      header[line.slice(0, i)] = line.slice(i + 2);
    }
    return { name: name.replace(/\.txt$/, ''), header, body: text.slice(end + 2) };
  });
}

const vectors = loadVectors();
const hex3 = (n) => '0x' + n.toString(16).padStart(3, '0');
const hex4 = (n) => '0x' + n.toString(16).padStart(4, '0');
const kindName = { offer: 'offer', answer: 'answer', reconnect: 'reconnect blob' };

test('vectors load', () => {
  assert.ok(vectors.length >= 40, 'only ' + vectors.length + ' vectors in ' + dir);
  if (process.env.CI === 'true' || process.env.PIGEON_GOLDEN) assert.ok(golden, 'no Go goldens (PIGEON_GOLDEN)');
});

const seen = {};
for (const v of vectors) {
  test('vector ' + v.name, () => {
    const expect = v.header.expect;
    seen[expect] = (seen[expect] || 0) + 1;
    let b = null, err = null;
    try { b = codec.parse(v.body); } catch (e) { err = e; }
    const g = golden && golden.vectors[v.name];
    if (golden) assert.ok(g, 'Go has no golden for ' + v.name);
    if (expect !== 'success') {
      assert.ok(err, 'parse succeeded, want ' + expect + ' (' + v.header.comment + ')');
      assert.strictEqual(err.kind, expect, err.message);
      if (g) assert.strictEqual(err.message, g.error);
      return;
    }
    assert.ifError(err);
    assert.strictEqual(codec.encode(b), codec.clean(v.body), 're-encoded');
    const got = {
      kind: kindName[b.kind],
      app: codec.APPS[b.app] || 'app ' + b.app,
      binding: hex3(b.binding),
      session: hex4(b.session),
      from: b.fromOfferer ? 'offerer' : 'answerer',
      generation: String(b.generation),
      candidates: String(b.candidates.length),
      ufrag: b.ufrag,
      pwd: b.pwd,
    };
    for (const key of Object.keys(got)) {
      if (key in v.header) assert.strictEqual(got[key], v.header[key], key);
    }
    if (!g) return;
    assert.strictEqual(b.candidates.map(codec.candidateString).join(', '), g.candidates, 'candidates');
    if (b.kind === 'reconnect') return;
    assert.strictEqual(codec.toSDP(b), g.sdp, 'rebuilt SDP');
    const back = codec.fromSDP(g.sdp, b.kind, b.app);
    back.binding = b.binding;
    assert.strictEqual(codec.encode(back), codec.clean(v.body), 'fromSDP(toSDP)');
  });
}

test('every expectation has a vector', () => {
  for (const e of ['success', 'empty', 'not a blob', 'truncated', 'damaged', 'malformed', 'newer version', 'too long', 'multiple']) {
    assert.ok(seen[e] > 0, 'no vector expects ' + JSON.stringify(e));
  }
});

test('verification code and binding as Go computes them', { skip: !golden && 'no Go goldens' }, () => {
  for (const c of golden.codes) {
    const offer = Buffer.from(c.offer, 'hex'), answer = Buffer.from(c.answer, 'hex');
    assert.strictEqual(codec.verificationCode(offer, answer), c.code);
    assert.strictEqual(codec.bindingOf(offer), c.binding);
  }
});

test('an open offer is refused: only the pigeon command joins one', { skip: !golden && 'no Go goldens' }, () => {
  assert.throws(() => codec.parse(golden.open), (err) => err.kind === 'newer version' && /open offer .*without --open/.test(err.message));
});

test('browser descriptions become version 2 blobs', () => {
  for (const name of ['chromium-156-offer', 'firefox-153-offer', 'chromium-156-answer', 'firefox-153-answer']) {
    const file = path.join(dir, 'foreign', name + '.txt');
    const d = codec.parseForeign(fs.readFileSync(file, 'utf8').split('\n\n').slice(1).join('\n\n'));
    const b = codec.fromSDP(d.sdp, d.type, d.type === 'offer' ? 1 : 0);
    assert.ok(b.ufrag && b.pwd, name + ': credentials carried');
    const text = codec.encode(b);
    const back = codec.parse(text);
    assert.strictEqual(back.ufrag, b.ufrag);
    assert.strictEqual(back.pwd, b.pwd);
    const sdp = codec.toSDP(back);
    assert.match(sdp, new RegExp('a=ice-ufrag:' + b.ufrag.replace(/[+/]/g, '\\$&') + '\r\n'));
    assert.ok(text.length < 320, name + ': ' + text.length + ' characters');
  }
});

test('addresses as Go writes them', () => {
  for (const [input, want] of [['192.168.1.20', '192.168.1.20'], ['2001:db8::20', '2001:db8::20'], ['::ffff:10.0.0.1', '10.0.0.1'],
    ['fe80::1%eth0', 'fe80::1'], ['2001:0db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], ['::', '::'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8']]) {
    assert.strictEqual(codec.addrString(codec.parseIP(input)), want, input);
  }
  for (const bad of ['1.2.3', '1.2.3.256', '1::2::3', '12345::', 'host.example']) assert.strictEqual(codec.parseIP(bad), null, bad);
});
