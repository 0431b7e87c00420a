// transfer.js: pigeon's file transfer protocol (package transfer) in the
// page, over channel 0, as `pigeon send` and `pigeon join` speak it. The
// page keeps no partial files, so it never resumes: it reports no files it
// has, and sends every file whole.
//
// Every message is one frame: a type byte, then its body. The sender opens
// with its manifest, the receiver says what it has, the sender which of
// those match, the receiver its plan (or an abort); then each file's data,
// its end with its SHA-256, and done, which the receiver acknowledges.
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory(require('./vendor/sha256.js'));
  else root.pigeonTransfer = factory(root.sha256);
})(typeof self !== 'undefined' ? self : this, function (sha256) {
  'use strict';

  const MORE = 1, MANIFEST = 2, HAVE = 3, VERDICT = 4, PLAN = 5, DATA = 6, FILE_END = 7, DONE = 8, ACK = 9, ABORT = 10;
  const CHUNK = (64 << 10) - 1;
  const PROTOCOL_VERSION = 1;
  const LANE_HEADER = 'pigeon-lanes';
  // The send queue is kept between these, as pigeon's own does.
  const HIGH_WATER = 4 << 20, LOW_WATER = 1 << 20;

  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  function sizeText(n) {
    const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
    let u = 0, v = n;
    while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
    return u === 0 ? n + (n === 1 ? ' byte' : ' bytes') : v.toFixed(1) + ' ' + units[u];
  }

  function rateText(bytes, ms) {
    if (ms <= 0) return '';
    return (bytes / 1e6 / (ms / 1000)).toFixed(1) + ' MB/s';
  }

  function frame(type, body) {
    const b = body || new Uint8Array(0);
    const msg = new Uint8Array(1 + b.length);
    msg[0] = type;
    msg.set(b, 1);
    return msg;
  }

  // A Link reads frames from channel 0 in order, as promises.
  class Link {
    constructor(channel) {
      this.channel = channel;
      this.queue = [];
      this.waiting = null;
      this.closed = null;
      channel.binaryType = 'arraybuffer';
      this.onMessage = (e) => this.push({ data: e.data });
      this.onClose = () => this.push({ closed: true });
      channel.addEventListener('message', this.onMessage);
      channel.addEventListener('close', this.onClose);
    }

    push(m) {
      if (this.waiting) { const w = this.waiting; this.waiting = null; w(m); } else this.queue.push(m);
    }

    next() {
      if (this.queue.length) return Promise.resolve(this.queue.shift());
      return new Promise((resolve) => { this.waiting = resolve; });
    }

    // read returns the next frame {type, body}; an abort or a closed
    // channel is thrown, in pigeon's words.
    async read() {
      const m = await this.next();
      if (m.closed) throw new Error('the connection closed before the transfer ended');
      if (typeof m.data === 'string') return { type: 0, text: m.data, body: encoder.encode(m.data) };
      const b = new Uint8Array(m.data);
      if (b.length === 0) throw new Error('the other side sent an empty message');
      if (b[0] === ABORT) {
        const e = new Error(decoder.decode(b.subarray(1)));
        e.peer = true;
        throw e;
      }
      return { type: b[0], body: b.subarray(1) };
    }

    async readJSON(want) {
      const parts = [];
      for (;;) {
        const f = await this.read();
        if (f.type !== MORE && f.type !== want) throw new Error('message type ' + f.type + ' where ' + want + ' was expected');
        parts.push(f.body.slice());
        if (f.type === want) {
          const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
          let o = 0;
          for (const p of parts) { all.set(p, o); o += p.length; }
          return JSON.parse(decoder.decode(all));
        }
      }
    }

    write(type, body) { this.channel.send(frame(type, body)); }

    writeJSON(type, v) {
      let data = encoder.encode(JSON.stringify(v));
      while (data.length > CHUNK) {
        this.write(MORE, data.subarray(0, CHUNK));
        data = data.subarray(CHUNK);
      }
      this.write(type, data);
    }

    abort(reason) { try { this.write(ABORT, encoder.encode(reason.slice(0, 1000))); } catch (e) { /* closed */ } }

    // drained resolves once the send queue is below LOW_WATER.
    drained() {
      const c = this.channel;
      if (c.bufferedAmount < HIGH_WATER) return Promise.resolve();
      c.bufferedAmountLowThreshold = LOW_WATER;
      return new Promise((resolve, reject) => {
        const done = () => { c.removeEventListener('bufferedamountlow', done); c.removeEventListener('close', gone); resolve(); };
        const gone = () => { c.removeEventListener('bufferedamountlow', done); reject(new Error('the connection closed before the transfer ended')); };
        c.addEventListener('bufferedamountlow', done);
        c.addEventListener('close', gone);
      });
    }

    stop() {
      this.channel.removeEventListener('message', this.onMessage);
      this.channel.removeEventListener('close', this.onClose);
    }
  }

  // checkName says why a path from a manifest cannot be offered for saving,
  // if it cannot (transfer/names.go has the full rules; a browser saves
  // under the last element only).
  function checkName(p) {
    if (!p || p.startsWith('/') || p.split('/').some((e) => e === '' || e === '.' || e === '..')) return 'the name ' + JSON.stringify(p) + ' is not a relative path';
    if (/[\u0000-\u001f\\]/.test(p)) return 'the name ' + JSON.stringify(p) + ' holds a control character or a backslash';
    return '';
  }

  function progressUI(ui, total) {
    const start = performance.now();
    let last = 0;
    return (done, force) => {
      const now = performance.now();
      if (!force && now - last < 200) return;
      last = now;
      ui.progress(done, total, sizeText(done) + ' of ' + sizeText(total) + ', ' + rateText(done, now - start));
    };
  }

  // receive runs the receiving side: the person accepts or declines the
  // offer, then each file is verified by its SHA-256 before it is offered
  // for saving (ui.received).
  async function receive(channel, ui) {
    const link = new Link(channel);
    try {
      // `pigeon send` first names the lanes it uses ("pigeon-lanes"
      // and their numbers); a page uses none, and anything else is the
      // manifest already.
      const first = await link.next();
      const raw = first.data === undefined ? null : typeof first.data === 'string' ? first.data : decoder.decode(new Uint8Array(first.data));
      if (raw === null || !raw.startsWith(LANE_HEADER)) link.queue.unshift(first);
      const m = await link.readJSON(MANIFEST);
      if (m.version !== PROTOCOL_VERSION) {
        throw new Error('the sender speaks version ' + m.version + ' of the transfer protocol and this page version ' + PROTOCOL_VERSION + ': update the older one');
      }
      const entries = m.entries || [];
      for (const e of entries) {
        const why = checkName(e.path);
        if (why) throw new Error(why);
      }
      const files = entries.filter((e) => e.kind === 'file');
      const total = files.reduce((n, e) => n + (e.size || 0), 0);
      // ui.maxSize: a room's file, accepted as offered, and no more.
      if (ui.maxSize !== undefined && (total > ui.maxSize || files.some((e) => e.size < 0))) {
        throw new Error('the sender sent ' + sizeText(total) + ' where it offered ' + sizeText(ui.maxSize) + ': refused');
      }
      link.writeJSON(HAVE, { files: [] });
      await link.readJSON(VERDICT);
      const folders = entries.filter((e) => e.kind === 'dir').length;
      const what = files.length === 1 && folders === 0 ? files[0].path : files.length + (files.length === 1 ? ' file' : ' files') + (folders ? ' in ' + folders + (folders === 1 ? ' folder' : ' folders') : '');
      const accepted = await new Promise((resolve) => ui.offered('The other side offers ' + what + ', ' + sizeText(total) + '.', resolve));
      if (!accepted) {
        link.abort('the transfer was declined');
        link.stop();
        ui.failed('you declined the transfer');
        return;
      }
      link.writeJSON(PLAN, { skip: [], resume: [] });
      const started = performance.now();
      const show = progressUI(ui, total);
      let done = 0;
      for (const e of files) {
        const h = sha256.create();
        const parts = [];
        let got = 0;
        for (;;) {
          const f = await link.read();
          if (f.type === DATA) {
            if (e.size >= 0 && got + f.body.length > e.size) throw new Error('receiving ' + e.path + ': the sender sent more than the ' + e.size + ' bytes it announced');
            const chunk = f.body.slice();
            h.update(chunk);
            parts.push(chunk);
            got += chunk.length;
            done += chunk.length;
            show(done);
          } else if (f.type === FILE_END) {
            if (e.size >= 0 && got !== e.size) throw new Error('receiving ' + e.path + ': the file ended after ' + got + ' of the ' + e.size + ' bytes announced');
            const want = Array.from(f.body, (b) => b.toString(16).padStart(2, '0')).join('');
            if (h.hex() !== want) throw new Error('receiving ' + e.path + ': its SHA-256 does not match what the sender computed: the data was damaged');
            ui.received(e.path, new Blob(parts));
            break;
          } else {
            throw new Error('receiving ' + e.path + ': message type ' + f.type + ' during the data');
          }
        }
      }
      const end = await link.read();
      if (end.type !== DONE) throw new Error('message type ' + end.type + ' where the end was expected');
      link.write(ACK);
      link.stop();
      show(done, true);
      const ms = performance.now() - started;
      ui.finished('received ' + files.length + (files.length === 1 ? ' file' : ' files') + ', ' + sizeText(done) + ' in ' + (ms / 1000).toFixed(1) + ' s (' + rateText(done, ms) + '), each verified by SHA-256');
    } catch (e) {
      link.stop();
      if (e.peer) { ui.failed('the other computer stopped the transfer: ' + e.message); return; }
      link.abort(e.message);
      ui.failed(e.message);
    }
  }

  // send offers the chosen files ({file, path}) and sends them whole.
  async function send(channel, chosen, ui) {
    const link = new Link(channel);
    try {
      // pigeon send's receiver first reads which lanes the sender uses
      // (none); a room's receiver reads the transfer at once (ui.plain).
      if (!ui.plain) channel.send(encoder.encode(LANE_HEADER));
      const entries = [];
      const dirs = new Set();
      for (const c of chosen) {
        const parts = c.path.split('/');
        for (let i = 1; i < parts.length; i++) {
          const d = parts.slice(0, i).join('/');
          if (!dirs.has(d)) { dirs.add(d); entries.push({ path: d, kind: 'dir', mode: 0o755 }); }
        }
        entries.push({ path: c.path, kind: 'file', size: c.file.size, mode: 0o644, mtime: c.file.lastModified * 1e6 });
      }
      link.writeJSON(MANIFEST, { version: PROTOCOL_VERSION, entries });
      ui.offered('Offered ' + chosen.length + (chosen.length === 1 ? ' file' : ' files') + ': waiting for the other side to accept ...');
      try {
        await link.readJSON(HAVE);
        link.writeJSON(VERDICT, { match: [] });
        await link.readJSON(PLAN);
      } catch (e) {
        if (e.peer) { e.message = 'the other computer refused the transfer: ' + e.message; e.told = true; }
        throw e;
      }
      ui.offered('Sending ...');
      const total = chosen.reduce((n, c) => n + c.file.size, 0);
      const show = progressUI(ui, total);
      const started = performance.now();
      // The receiver speaks again only to abort, or to acknowledge done.
      let aborted = null;
      const reply = link.next();
      reply.then((m) => { aborted = m; });
      let done = 0;
      for (const c of chosen) {
        const h = sha256.create();
        for (let off = 0; off < c.file.size && !aborted; off += CHUNK) {
          const chunk = new Uint8Array(await c.file.slice(off, Math.min(off + CHUNK, c.file.size)).arrayBuffer());
          h.update(chunk);
          await link.drained();
          if (aborted) break;
          link.write(DATA, chunk);
          done += chunk.length;
          show(done);
        }
        if (aborted) break;
        link.write(FILE_END, new Uint8Array(h.arrayBuffer()));
      }
      if (!aborted) link.write(DONE);
      link.queue.unshift(await reply);
      const f = await link.read();
      if (f.type !== ACK) throw new Error('message type ' + f.type + ' where the acknowledgement was expected');
      link.stop();
      show(done, true);
      const ms = performance.now() - started;
      ui.finished('sent ' + chosen.length + (chosen.length === 1 ? ' file' : ' files') + ', ' + sizeText(done) + ' in ' + (ms / 1000).toFixed(1) + ' s (' + rateText(done, ms) + ')');
    } catch (e) {
      link.stop();
      if (e.peer && !e.told) { ui.failed('the other computer stopped the transfer: ' + e.message); return; }
      if (!e.peer) link.abort(e.message);
      ui.failed(e.message);
    }
  }

  return { receive, send, sizeText };
});
