// room.js's inbox (each sender's lines once, in order) and the page's
// transfer refusing a room file larger than its offer.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const room = require('../room.js');
const transfer = require('../transfer.js');

test('inbox: each sender in order, once, from its first line on', () => {
  const inbox = room.newInbox();
  const got = [];
  const add = (from, seq, start) => inbox.add({ from, seq, start, text: from + '/' + seq }).forEach((m) => got.push(m.text));
  add(1, 3, false); // early: waits for the start
  add(1, 2, true);
  add(1, 2, true); // again: seen
  add(2, 7, true);
  add(1, 4, false);
  add(1, 3, false); // again, through the other way: seen
  assert.deepStrictEqual(got, ['1/2', '1/3', '2/7', '1/4']);
  inbox.forget(1);
  add(1, 1, true);
  assert.deepStrictEqual(got.slice(4), ['1/1']);
});

// fakeChannel is the page's side of a channel; sent collects its frames.
function fakeChannel() {
  const listeners = {};
  const ch = {
    sent: [],
    bufferedAmount: 0,
    addEventListener(type, f) { (listeners[type] = listeners[type] || []).push(f); },
    removeEventListener(type, f) { listeners[type] = (listeners[type] || []).filter((g) => g !== f); },
    send(b) { ch.sent.push(b); },
    deliver(data) { (listeners.message || []).forEach((f) => f({ data })); },
  };
  return ch;
}

test('a room file larger than offered is refused before anything is accepted', async () => {
  const ch = fakeChannel();
  let failed = '';
  let asked = false;
  const done = new Promise((resolve) => {
    transfer.receive(ch, {
      maxSize: 1000,
      offered(text, decide) { asked = true; decide(true); },
      progress() {}, received() {}, finished() { resolve(); },
      failed(text) { failed = text; resolve(); },
    });
  });
  const manifest = new TextEncoder().encode(JSON.stringify({ version: 1, entries: [{ kind: 'file', path: 'big.bin', size: 5000 }] }));
  const frame = new Uint8Array(1 + manifest.length);
  frame[0] = 2; // manifest
  frame.set(manifest, 1);
  ch.deliver(frame.buffer);
  await done;
  assert.match(failed, /sent 4\.9 KiB where it offered 1000 bytes: refused/);
  assert.strictEqual(asked, false);
  const abort = new Uint8Array(ch.sent[ch.sent.length - 1]);
  assert.strictEqual(abort[0], 10, 'the sender is told why');
});
