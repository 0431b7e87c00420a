// room.js: a guest of pigeon's chat room (package room, doc/rooms.md) in
// the page, over channel 0 to the room's host. The page keeps to that one
// connection: its hello says it is a page, and the host carries its lines
// to the other members and theirs to it. Messages are JSON, one per
// message.
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.pigeonRoom = factory();
})(typeof self !== 'undefined' ? self : this, function () {
  'use strict';

  const HOST = 0;
  const decoder = new TextDecoder();

  // newInbox puts each sender's lines in the order they were sent, once
  // each, as room/protocol.go's inbox does: a sender numbers its lines,
  // and marks the first it sends us.
  function newInbox() {
    const next = new Map(), pending = new Map();
    return {
      add(m) {
        let n = next.get(m.from) || 0;
        if (n === 0 && m.start) n = m.seq;
        if (n !== 0 && m.seq < n) return [];
        let p = pending.get(m.from);
        if (!p) { p = new Map(); pending.set(m.from, p); }
        p.set(m.seq, m);
        const out = [];
        while (n !== 0 && p.has(n)) { out.push(p.get(n)); p.delete(n); n++; }
        next.set(m.from, n);
        return out;
      },
      forget(id) { next.delete(id); pending.delete(id); },
    };
  }

  // join enters the room over channel, which is open, as name; ui hears
  // what happens: welcome(me, room, members), joined(m), left(m),
  // line(m, text), file(m, file), ended(why). openChannel opens a new
  // channel to the host, labelled "pigeon", for a file.
  function join(channel, name, ui, openChannel) {
    const members = new Map();
    const started = new Set();
    const inbox = newInbox();
    const shelf = new Map(); // our file offers by ID: {files, to}
    let me = null, seq = 0, over = false, fileID = 0;
    const send = (m) => channel.send(JSON.stringify(m));
    const finish = (why) => { if (!over) { over = true; ui.ended(why); } };

    channel.addEventListener('message', (e) => {
      let m;
      try { m = JSON.parse(typeof e.data === 'string' ? e.data : decoder.decode(e.data)); } catch (err) { return; }
      if (!m || typeof m.t !== 'string') return;
      switch (m.t) {
        case 'welcome':
          me = { id: m.id, name: m.name || name };
          for (const x of m.members || []) if (x.id !== me.id) members.set(x.id, x);
          ui.welcome(me, m.room || '', [...members.values()]);
          break;
        case 'full':
          finish('the room is full: ask its host to make room');
          break;
        case 'joined':
          if (!me || m.id === me.id) break;
          members.set(m.id, { id: m.id, name: m.name, page: !!m.page });
          ui.joined(members.get(m.id));
          break;
        case 'left': {
          const x = members.get(m.id);
          members.delete(m.id);
          started.delete(m.id);
          inbox.forget(m.id);
          if (x) ui.left(x);
          break;
        }
        case 'line': {
          const from = members.get(m.from);
          if (!from) break;
          for (const l of inbox.add(m)) {
            if (l.file) ui.file(from, l.file);
            else ui.line(from, l.text || '');
          }
          break;
        }
        case 'end':
          finish(m.why || 'the host closed the room');
          break;
        // The page makes no direct connections: it reads no signals.
      }
    });
    channel.addEventListener('close', () => finish('lost the connection to the room\'s host'));
    send({ t: 'hello', name, page: true });

    // line sends a line (its text, or a file offer) to every other
    // member, through the host, and returns whom it went to.
    const line = (fields) => {
      seq++;
      const to = [HOST], starts = [];
      if (!started.has(HOST)) { starts.push(HOST); started.add(HOST); }
      for (const id of members.keys()) {
        if (id === HOST) continue;
        to.push(id);
        if (!started.has(id)) { starts.push(id); started.add(id); }
      }
      send(Object.assign({ t: 'line', from: me.id, seq, to, starts }, fields));
      return to;
    };

    return {
      // say sends a line to every other member, through the host.
      say(text) {
        if (!me || over) return false;
        line({ text });
        return true;
      },
      // offer offers files ({file, path}) to every other member, as
      // name, and returns the offer.
      offer(files, name) {
        if (!me || over) return null;
        fileID++;
        const file = { id: fileID, name, files: files.length, size: files.reduce((n, f) => n + f.file.size, 0) };
        shelf.set(file.id, { files, to: new Set(line({ file })) });
        return file;
      },
      // serve reads a member's request for one of our offers on ch, a
      // channel the host opened to us, and resolves with the files and
      // the member once it said yes; transfer's protocol follows.
      serve(ch) {
        return new Promise((resolve, reject) => {
          ch.binaryType = 'arraybuffer';
          ch.addEventListener('message', (e) => {
            let req;
            try { req = JSON.parse(typeof e.data === 'string' ? e.data : decoder.decode(e.data)); } catch (err) { req = {}; }
            const s = shelf.get(req.get);
            const by = members.get(req.by);
            if (!me || req.of !== me.id || !s || !by || !s.to.has(req.by)) {
              ch.send(JSON.stringify({ why: 'no such file offer: the sender offered no file ' + req.get + ' to you' }));
              reject(new Error('a request for a file not offered'));
              return;
            }
            ch.send(JSON.stringify({ ok: true }));
            resolve({ files: s.files, by });
          }, { once: true });
        });
      },
      leave() { over = true; },
      members() { return [...members.values()]; },
      // get asks the host for member from's file offer file on a channel
      // of its own (the host carries it from the sender), and resolves
      // with the channel once the sender said yes: package transfer's
      // protocol follows on it.
      get(from, file) {
        return new Promise((resolve, reject) => {
          const ch = openChannel();
          ch.binaryType = 'arraybuffer';
          ch.addEventListener('open', () => ch.send(JSON.stringify({ get: file.id, of: from, by: me.id })), { once: true });
          ch.addEventListener('close', () => reject(new Error('the channel closed before the sender answered')), { once: true });
          ch.addEventListener('message', (e) => {
            let r;
            try { r = JSON.parse(typeof e.data === 'string' ? e.data : decoder.decode(e.data)); } catch (err) { r = {}; }
            if (r.ok) { resolve(ch); return; } // resolved before the next message: the transfer's reader is in place
            reject(new Error(r.why || 'the sender did not answer the request'));
            ch.close();
          }, { once: true });
        });
      },
    };
  }

  return { join, newInbox };
});
