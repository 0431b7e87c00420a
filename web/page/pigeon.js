// pigeon's page: a pigeon peer in the browser's own RTCPeerConnection.
//
// It speaks what `pigeon` speaks: blobs (sdpcodec.js), channel 0
// pre-negotiated for the app, pigeon's chat frames, its file transfer
// protocol (transfer.js) and its rooms (room.js). pigeon knows a page by
// the ICE credentials its blobs carry, and opens it no control channel:
// no lanes, no restarts. No server takes part: the blobs travel by hand.
(function () {
  'use strict';

  const codec = globalThis.pigeonCodec;
  const $ = (id) => document.getElementById(id);

  // How long the page waits for its ICE candidates before it shows its
  // blob with those it has (pigeon waits 1.5 s for STUN and TURN).
  const GATHER_TIMEOUT = 3000;
  // Chat frames (chat/chat.go).
  const FRAME_LINE = 1, FRAME_PART = 2, FRAME_BYE = 3, FRAME_ACK = 4;
  const MAX_FRAGMENT = 32 << 10;
  const BYE_TIMEOUT = 5000;

  const APP_CHAT = 1, APP_SEND = 2, APP_ROOM = 5;
  const APP_NAMES = { 1: 'chat', 2: 'send', 3: 'pipe', 4: 'share', 5: 'room' };

  // The session: at most one at a time, as one run of pigeon.
  const s = {
    pc: null,
    channel: null,     // channel 0
    kind: null,        // 'offer' or 'answer': what we made
    app: 0,
    local: null,       // our blob
    remote: null,      // theirs
    foreign: false,    // the other side is another program (JSON descriptions)
    files: null,       // what "Send files" offers
    room: null,        // the room we are a guest of (room.js)
    ended: false,
    leaving: null,     // resolves when our goodbye is confirmed
  };

  // ---- what the person sees ----

  function say(text) { $('state').textContent = text; }

  function problem(text) { $('problem').textContent = text ? 'that did not work: ' + text : ''; }

  function addMessage(who, text) {
    const p = document.createElement('p');
    p.textContent = who + ': ' + text;
    $('messages').append(p);
    p.scrollIntoView({ block: 'nearest' });
  }

  function note(text) {
    const p = document.createElement('p');
    p.textContent = 'pigeon: ' + text;
    $('messages').append(p);
    return p;
  }

  function showOwn(text, help) {
    $('own').hidden = false;
    $('own-text').textContent = text;
    $('own-help').textContent = help;
    const qr = $('own-qr');
    qr.textContent = '';
    try {
      const code = qrcode(0, 'L');
      code.addData(text, /^[0-9A-Z $%*+\-./:]*$/.test(text) ? 'Alphanumeric' : 'Byte');
      code.make();
      const img = document.createElement('img');
      img.src = code.createDataURL(4, 4);
      img.alt = 'QR code of your blob';
      qr.append(img);
    } catch (e) {
      qr.textContent = 'too long for a QR code: copy the text';
    }
  }

  // ---- starting ----

  function newConnection() {
    const pc = new RTCPeerConnection();
    const channel = pc.createDataChannel('pigeon', { negotiated: true, id: 0 });
    channel.binaryType = 'arraybuffer';
    s.pc = pc;
    s.channel = channel;
    pc.addEventListener('connectionstatechange', onState);
    pc.addEventListener('datachannel', (e) => {
      if (e.channel.label === 'pigeon' && s.room) serveRoomFile(e.channel);
    });
    channel.addEventListener('open', onOpen);
    return pc;
  }

  function gathered(pc) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, GATHER_TIMEOUT);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); }
      });
    });
  }

  async function startOffer(app) {
    if (s.pc) { problem('a session is already running on this page: reload it to start another'); return; }
    problem('');
    s.kind = 'offer';
    s.app = app;
    const pc = newConnection();
    // No control channel: a page's credentials are its browser's, so the
    // session cannot restart, and it opens no lanes (SPEC.md).
    say('gathering addresses ...');
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    s.local = codec.fromSDP(pc.localDescription.sdp, 'offer', app);
    const text = codec.encode(s.local);
    showOwn(text, 'Carry this offer to the other side: there, run `pigeon join` with it, or paste it into this page. Then paste its answer below and press Connect.');
    say('waiting for the answer');
    $('start-chat').disabled = $('send-files').disabled = true;
  }

  // connect reads the pasted blob: the answer to our offer, or an offer to
  // answer.
  async function connect() {
    problem('');
    const text = $('other-text').value;
    if (!text.trim()) { problem('nothing was pasted: paste the blob the other side shows'); return; }
    try {
      if (s.kind === 'offer') await acceptAnswer(text);
      else if (!s.pc) await answerOffer(text);
      else problem('this page already answered an offer: reload it to start another session');
    } catch (e) {
      problem(e.message);
    }
  }

  function readDescription(text) {
    const format = codec.recognize(text);
    if (format === 'pigeon' || format === '') return { blob: codec.parse(text) };
    const d = codec.parseForeign(text);
    return { foreign: d };
  }

  async function acceptAnswer(text) {
    const d = readDescription(text);
    if (d.foreign) {
      if (d.foreign.type !== 'answer') throw new Error('this is an offer, but an answer was expected');
      s.foreign = true;
      await s.pc.setRemoteDescription({ type: 'answer', sdp: d.foreign.sdp });
      say('connecting ...');
      return;
    }
    const b = d.blob;
    if (b.kind === 'offer') {
      if (equalBytes(b.fingerprint, s.local.fingerprint)) throw new Error('this is our own offer, pasted back');
      throw new Error('this is an offer, but an answer was expected');
    }
    if (b.kind !== 'answer') throw new Error('this is a reconnect blob, for a session that is already running');
    if (s.remote) throw new Error('this answer was already applied');
    if (b.binding !== codec.bindingOf(s.local.fingerprint)) throw new Error('this answer belongs to another offer');
    s.remote = b;
    await s.pc.setRemoteDescription({ type: 'answer', sdp: codec.toSDP(b) });
    showCode();
    say('connecting ...');
  }

  async function answerOffer(text) {
    const d = readDescription(text);
    let remoteSDP;
    if (d.foreign) {
      if (d.foreign.type !== 'offer') throw new Error('this is an answer, but an offer was expected');
      s.foreign = true;
      s.app = APP_CHAT;
      remoteSDP = d.foreign.sdp;
    } else {
      const b = d.blob;
      if (b.kind === 'answer') throw new Error('this is an answer, but an offer was expected');
      if (b.kind !== 'offer') throw new Error('this is a reconnect blob, for a session that is already running');
      if (b.app !== APP_CHAT && b.app !== APP_SEND && b.app !== APP_ROOM) {
        throw new Error('this offer is for `pigeon ' + (APP_NAMES[b.app] || 'app ' + b.app) + '`, which needs pigeon on this computer: the page joins chat, send and room');
      }
      if (b.app === APP_ROOM) $('room-join').hidden = false;
      s.remote = b;
      s.app = b.app;
      remoteSDP = codec.toSDP(b);
    }
    s.kind = 'answer';
    const pc = newConnection();
    await pc.setRemoteDescription({ type: 'offer', sdp: remoteSDP });
    say('gathering addresses ...');
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    $('start-chat').disabled = $('send-files').disabled = true;
    if (s.foreign) {
      const json = JSON.stringify({ type: 'answer', sdp: pc.localDescription.sdp });
      showOwn(btoa(json), 'Carry this answer back to the program that made the offer.');
    } else {
      s.local = codec.fromSDP(pc.localDescription.sdp, 'answer', 0);
      s.local.binding = codec.bindingOf(s.remote.fingerprint);
      showOwn(codec.encode(s.local), 'Carry this answer back to the computer that made the offer, and paste it there.');
      showCode();
    }
    say('waiting for the other side to connect');
  }

  function showCode() {
    if (!s.local || !s.remote) return;
    const [offer, answer] = s.kind === 'offer' ? [s.local, s.remote] : [s.remote, s.local];
    $('code').textContent = codec.verificationCode(offer.fingerprint, answer.fingerprint);
  }

  function equalBytes(a, b) {
    if (!a || !b || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  // ---- the connection ----

  function onState() {
    const st = s.pc.connectionState;
    if (st === 'connected') showPath();
    if (st === 'failed') end('could not connect to the other side: check that it still runs and that no firewall blocks UDP between the two');
    if (st === 'disconnected' && !s.ended) say('the connection is interrupted; waiting for it to come back ...');
  }

  async function showPath() {
    try {
      const stats = await s.pc.getStats();
      let pair = null;
      stats.forEach((r) => {
        if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
      });
      if (!pair) stats.forEach((r) => { if (r.type === 'candidate-pair' && (r.selected || (r.nominated && r.state === 'succeeded'))) pair = pair || r; });
      if (!pair) return;
      const l = stats.get(pair.localCandidateId), r = stats.get(pair.remoteCandidateId);
      const side = (c) => c ? (c.candidateType + ' ' + (c.address || c.ip) + ':' + c.port) : '?';
      $('path').textContent = side(l) + ' <-> ' + side(r) + ' over ' + ((l && l.protocol) || 'udp');
    } catch (e) { /* the path is a diagnostic */ }
  }

  function onOpen() {
    say('connected');
    showPath();
    if (s.app === APP_SEND && s.kind === 'offer') {
      globalThis.pigeonTransfer.send(s.channel, s.files, transferUI());
      return;
    }
    if (s.app === APP_SEND) {
      globalThis.pigeonTransfer.receive(s.channel, transferUI());
      return;
    }
    if (s.app === APP_ROOM) {
      startRoom();
      return;
    }
    startChat();
  }

  function end(why) {
    if (s.ended) return;
    s.ended = true;
    say(why);
    $('message').disabled = $('send').disabled = $('leave').disabled = true;
    if (s.pc) setTimeout(() => s.pc.close(), 200);
  }

  // ---- chat ----

  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let partial = '';

  function startChat() {
    $('chat').hidden = false;
    $('message').focus();
    s.channel.addEventListener('message', onChatMessage);
    s.channel.addEventListener('close', () => {
      if (!s.ended) end(s.foreign ? 'the other side closed the chat' : 'the peer closed the chat without saying goodbye');
    });
  }

  function frame(type, text) {
    const body = encoder.encode(text || '');
    const msg = new Uint8Array(1 + body.length);
    msg[0] = type;
    msg.set(body, 1);
    return msg;
  }

  function sendLine(text) {
    if (s.foreign) { s.channel.send(text); return; }
    const bytes = encoder.encode(text);
    if (bytes.length <= MAX_FRAGMENT) { s.channel.send(frame(FRAME_LINE, text)); return; }
    for (let i = 0; i < bytes.length; i += MAX_FRAGMENT) {
      const piece = bytes.subarray(i, i + MAX_FRAGMENT);
      const msg = new Uint8Array(1 + piece.length);
      msg[0] = i + MAX_FRAGMENT < bytes.length ? FRAME_PART : FRAME_LINE;
      msg.set(piece, 1);
      s.channel.send(msg);
    }
  }

  function onChatMessage(e) {
    if (s.foreign) {
      if (typeof e.data === 'string') addMessage('peer', e.data);
      else note('the other side sent a binary message (' + e.data.byteLength + ' bytes), not shown: a chat shows text messages');
      return;
    }
    if (typeof e.data === 'string') return;
    const b = new Uint8Array(e.data);
    if (b.length === 0) return;
    const text = b.length > 1 ? decoder.decode(b.subarray(1), { stream: b[0] === FRAME_PART }) : '';
    switch (b[0]) {
      case FRAME_PART: partial += text; break;
      case FRAME_LINE: addMessage('peer', partial + text); partial = ''; break;
      case FRAME_BYE:
        s.channel.send(frame(FRAME_ACK));
        if (!s.leaving) end('the peer left the chat');
        break;
      case FRAME_ACK:
        if (s.leaving) s.leaving();
        break;
    }
  }

  function submitLine(ev) {
    ev.preventDefault();
    const input = $('message');
    const text = input.value;
    if (!s.channel || s.channel.readyState !== 'open' || s.ended) return;
    if (text === '/quit') { input.value = ''; leave(); return; }
    if (s.room) {
      if (!s.room.say(text)) return;
    } else {
      sendLine(text);
    }
    addMessage('you', text);
    input.value = '';
    input.focus();
  }

  async function leave() {
    if (s.ended || !s.channel) return;
    if (s.room) { s.room.leave(); end('you left the room'); return; }
    if (s.foreign) { end('chat ended'); return; }
    const confirmed = new Promise((resolve) => { s.leaving = resolve; });
    s.channel.send(frame(FRAME_BYE));
    const ok = await Promise.race([confirmed.then(() => true), new Promise((r) => setTimeout(() => r(false), BYE_TIMEOUT))]);
    end(ok ? 'chat ended' : 'the peer did not confirm the end of the chat: the last lines may not have arrived');
  }

  // ---- a room ----

  function startRoom() {
    $('chat').hidden = false;
    $('chat-title').textContent = 'Room';
    $('leave').textContent = 'Leave the room';
    $('room-send').hidden = false;
    $('room-name').disabled = true;
    const showMembers = (list) => {
      $('members-line').hidden = false;
      $('members').textContent = list.map((m) => m.name).join(', ');
    };
    s.room = globalThis.pigeonRoom.join(s.channel, $('room-name').value.trim(), {
      welcome(me, room, members) {
        note('you are in ' + room + '\'s room as ' + me.name + ', with ' + members.map((m) => m.name).join(', '));
        showMembers(members);
        $('message').focus();
      },
      joined(m) { note(m.name + ' joined the room'); showMembers(s.room.members()); },
      left(m) { note(m.name + ' left the room'); showMembers(s.room.members()); },
      line(m, text) { addMessage(m.name, text); },
      file(m, f) {
        const p = note(m.name + ' offers ' + f.name + ' (' + f.files + (f.files === 1 ? ' file, ' : ' files, ') + globalThis.pigeonTransfer.sizeText(f.size) + ') ');
        const get = document.createElement('button');
        get.type = 'button';
        get.className = 'plain';
        get.textContent = 'Get';
        get.setAttribute('aria-label', 'Get ' + f.name + ' from ' + m.name);
        get.addEventListener('click', () => { get.disabled = true; getRoomFile(m, f); });
        p.append(get);
      },
      ended(why) { end('the room is over: ' + why); },
    }, () => s.pc.createDataChannel('pigeon'));
  }

  // offerRoomFiles offers the chosen files to the room.
  function offerRoomFiles(files) {
    const names = [...new Set(files.map((f) => f.path.split('/')[0] + (f.path.includes('/') ? '/' : '')))];
    const name = names.slice(0, 5).map((n) => JSON.stringify(n)).join(', ') + (names.length > 5 ? ', and ' + (names.length - 5) + ' more' : '');
    const f = s.room.offer(files, name);
    if (f) note('you offered ' + f.name + ' (' + f.files + (f.files === 1 ? ' file, ' : ' files, ') + globalThis.pigeonTransfer.sizeText(f.size) + ') to the room');
  }

  // serveRoomFile sends one of our offers to the member that asked for it
  // on ch, a channel the host opened to us.
  async function serveRoomFile(ch) {
    let got;
    try {
      got = await s.room.serve(ch);
    } catch (e) {
      return;
    }
    note('sending to ' + got.by.name + ' ...');
    globalThis.pigeonTransfer.send(ch, got.files, {
      plain: true,
      offered() {},
      progress() {},
      finished(text) { note('to ' + got.by.name + ': ' + text); },
      failed(text) { note('the files did not reach ' + got.by.name + ': ' + text); },
    });
  }

  // getRoomFile gets file f, offered by member m, through the host.
  async function getRoomFile(m, f) {
    $('transfer').hidden = false;
    $('transfer-offer').textContent = 'getting ' + f.name + ' from ' + m.name + ' ...';
    let ch;
    try {
      ch = await s.room.get(m.id, f);
    } catch (e) {
      note(f.name + ' from ' + m.name + ' did not arrive: ' + e.message);
      return;
    }
    const ui = transferUI();
    ui.maxSize = f.size;
    ui.offered = (text, decide) => decide(true); // asked for: accepted as offered
    ui.finished = (text) => { $('rate').textContent = text; note(f.name + ' from ' + m.name + ': ' + text); ch.close(); };
    ui.failed = (text) => { $('rate').textContent = text; note(f.name + ' from ' + m.name + ' did not arrive: ' + text); ch.close(); };
    globalThis.pigeonTransfer.receive(ch, ui);
  }

  // ---- files ----

  function transferUI() {
    $('transfer').hidden = false;
    return {
      offered(text, decide) {
        $('transfer-offer').textContent = text;
        if (!decide) return;
        $('transfer-decide').hidden = false;
        $('accept').onclick = () => { $('transfer-decide').hidden = true; decide(true); };
        $('decline').onclick = () => { $('transfer-decide').hidden = true; decide(false); };
        $('accept').focus();
      },
      progress(done, total, rate) {
        $('progress').max = total || 1;
        $('progress').value = done;
        $('rate').textContent = rate;
      },
      received(name, blob) {
        $('received').hidden = false;
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.href = URL.createObjectURL(blob);
        a.download = name.split('/').pop();
        a.textContent = name;
        li.append(a);
        $('received-list').append(li);
      },
      finished(text) { end(text); $('rate').textContent = text; },
      failed(text) { end(text); problem(text); },
    };
  }

  function chooseFiles(list) {
    if (!list || list.length === 0) return;
    const files = Array.from(list, (file) => ({ file, path: file.webkitRelativePath || file.name }));
    if (s.room) { offerRoomFiles(files); return; }
    s.files = files;
    startOffer(APP_SEND);
  }

  // ---- reading QR codes ----

  let scanning = null;

  function decodeImage(source, w, h) {
    const canvas = document.createElement('canvas');
    canvas.width = w; canvas.height = h;
    const g = canvas.getContext('2d', { willReadFrequently: true });
    g.drawImage(source, 0, 0, w, h);
    const data = g.getImageData(0, 0, w, h);
    const found = jsQR(data.data, w, h, { inversionAttempts: 'attemptBoth' });
    return found ? found.data : null;
  }

  async function detect(source, w, h) {
    if ('BarcodeDetector' in globalThis) {
      try {
        const formats = await BarcodeDetector.getSupportedFormats();
        if (formats.includes('qr_code')) {
          const codes = await new BarcodeDetector({ formats: ['qr_code'] }).detect(source);
          if (codes.length) return codes[0].rawValue;
          return null;
        }
      } catch (e) { /* fall back to jsQR */ }
    }
    return decodeImage(source, w, h);
  }

  function scanned(text) {
    $('other-text').value = text;
    connect();
  }

  async function scan() {
    problem('');
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      problem('this browser gives the page no camera here (pages served over plain http to another device cannot use it): read a QR code image instead, or paste the text');
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    } catch (e) {
      problem('the camera could not be used: ' + e.message);
      return;
    }
    const video = $('camera');
    video.srcObject = stream;
    video.hidden = false;
    $('stop-scan').hidden = false;
    await video.play();
    let stop = false;
    scanning = () => {
      stop = true;
      stream.getTracks().forEach((t) => t.stop());
      video.hidden = true;
      $('stop-scan').hidden = true;
      scanning = null;
    };
    const tick = async () => {
      if (stop) return;
      if (video.videoWidth > 0) {
        const text = await detect(video, video.videoWidth, video.videoHeight);
        if (text && /^\s*PIGEON|^\s*ey|^\s*\{/i.test(text)) { scanning(); scanned(text); return; }
      }
      setTimeout(tick, 150);
    };
    tick();
  }

  async function readImage(file) {
    problem('');
    try {
      const bitmap = await createImageBitmap(file);
      const text = await detect(bitmap, bitmap.width, bitmap.height);
      if (!text) { problem('no QR code was found in ' + file.name + ': try a sharper picture, or paste the text'); return; }
      scanned(text);
    } catch (e) {
      problem(file.name + ' is not an image this browser can read');
    }
  }

  // ---- wiring ----

  $('start-chat').addEventListener('click', () => startOffer(APP_CHAT).catch((e) => problem(e.message)));
  $('send-files').addEventListener('click', () => $('files').click());
  $('room-send').addEventListener('click', () => $('files').click());
  $('files').addEventListener('change', (e) => { chooseFiles(e.target.files); e.target.value = ''; });
  $('connect').addEventListener('click', connect);
  $('say').addEventListener('submit', submitLine);
  $('leave').addEventListener('click', leave);
  $('copy').addEventListener('click', async () => {
    const text = $('own-text').textContent;
    try {
      await navigator.clipboard.writeText(text);
      $('copied').textContent = 'copied';
    } catch (e) {
      const r = document.createRange();
      r.selectNodeContents($('own-text'));
      getSelection().removeAllRanges();
      getSelection().addRange(r);
      $('copied').textContent = 'selected: press Ctrl-C (or Cmd-C) to copy';
    }
  });
  $('scan').addEventListener('click', scan);
  $('stop-scan').addEventListener('click', () => scanning && scanning());
  $('read-image').addEventListener('click', () => $('image').click());
  $('image').addEventListener('change', (e) => e.target.files[0] && readImage(e.target.files[0]));
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    if (!s.pc || s.room) chooseFiles(e.dataTransfer.files);
  });
  window.addEventListener('pagehide', () => {
    if (s.channel && s.channel.readyState === 'open' && !s.ended && !s.foreign && s.app === APP_CHAT) s.channel.send(frame(FRAME_BYE));
    if (s.room && !s.ended) s.pc.close();
  });
})();
