// sdpcodec.js: pigeon blobs in the browser, a port of package sdpcodec
// (sdpcodec/SPEC.md). It reads every blob pigeon reads, in the same words,
// and makes the version 2 blobs that carry the browser's own ICE
// credentials. The vectors of sdpcodec/testdata drive its tests
// (sdpcodec.test.js), in Node and in the browser.
//
// A blob is a plain object: {kind: 'offer'|'answer'|'reconnect', app,
// binding, fingerprint (Uint8Array of 32), session, fromOfferer,
// generation, candidates: [{type, transport, addr (Uint8Array of 4 or 16)
// or hostname, port}], ufrag, pwd}.
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory(require('./vendor/sha256.js'));
  else root.pigeonCodec = factory(root.sha256);
})(typeof self !== 'undefined' ? self : this, function (sha256) {
  'use strict';

  const PREFIX = 'PIGEON';
  const VERSION = 2; // the newest version read
  const OPEN_VERSION = 3; // open offers, which the page cannot join
  const CARRIED_VERSION = 2;
  const MAX_CANDIDATES = 16;
  const MAX_TEXT_LEN = 1024;
  const MAX_INPUT_LEN = 64 << 10;
  const HEADER_LEN = 1, FP_LEN = 32, TRAILER_LEN = 3;
  const LIST_START = HEADER_LEN + FP_LEN;
  const RECONNECT_LIST_START = HEADER_LEN + 4;
  const EMPTY_LIST_TAG = 0xb0;
  const TAG_LAST = 0x80, TAG_SAME_PORT = 0x40;
  const FAMILY_IPV4 = 0, FAMILY_IPV6 = 1, FAMILY_MDNS = 2, FAMILY_RESERVED = 3;
  const FAMILY_LEN = [4, 16, 16, 0];
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const ICE_CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const MIN_UFRAG = 4, MIN_PWD = 22, MAX_CRED = 255;
  const KINDS = { 1: 'offer', 2: 'answer', 3: 'reconnect' };
  const APPS = { 1: 'chat', 2: 'send', 3: 'pipe', 4: 'share', 5: 'room' };
  const TYPES = ['host', 'srflx', 'prflx', 'relay'];
  const TYPE_PREFERENCE = [126, 100, 110, 0];
  const TRANSPORTS = ['udp', 'tcp-active', 'tcp-passive', 'tcp-so'];

  // The kinds of error, as errors.go names them: err.kind is the key.
  const KIND_TEXT = {
    empty: 'empty blob',
    'not a blob': 'not a pigeon blob',
    truncated: 'blob is incomplete',
    damaged: 'blob is damaged',
    malformed: 'blob is malformed',
    'too long': 'input is too long to be a pigeon blob',
    multiple: 'input holds more than one blob',
    'newer version': '',
    invalid: 'cannot encode blob',
    unsupported: 'session description cannot be carried in a blob',
    foreign: 'not a session description pigeon can read',
  };

  function fail(kind, detail) {
    const head = KIND_TEXT[kind];
    const e = new Error(head ? head + ': ' + detail : detail);
    e.kind = kind;
    return e;
  }

  // ---- checksums (crc.go) ----

  function crc(width, poly, init, data) {
    const top = 2 ** (width - 1);
    const mask = top * 2 - 1;
    let sum = init & mask;
    for (const b of data) {
      sum ^= b << (width - 8);
      for (let i = 0; i < 8; i++) sum = (sum & top) ? ((sum << 1) ^ poly) & mask : (sum << 1) & mask;
    }
    return sum;
  }
  const crc8 = (d) => crc(8, 0x07, 0x00, d);
  const crc16 = (d) => crc(16, 0x1021, 0xffff, d);

  function digest(...parts) {
    const h = sha256.create();
    for (const p of parts) h.update(p);
    return new Uint8Array(h.arrayBuffer());
  }
  const utf8 = (s) => new TextEncoder().encode(s);
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

  // ---- cleaning a paste (clean.go) ----

  const ZERO_WIDTH = /[\u200B\u200C\u200D\u2060\uFEFF]/;
  const QUOTES = '"\'`“”‘’«»';
  // Go's unicode.IsSpace: what JavaScript's \s is, less the byte order
  // mark (zero-width, removed too) and plus U+0085.
  const SPACE = /[\s\u0085]/;

  function trimQuotes(s) {
    let a = 0, b = s.length;
    while (a < b && QUOTES.includes(s[a])) a++;
    while (b > a && QUOTES.includes(s[b - 1])) b--;
    return s.slice(a, b);
  }

  function clean(pasted) {
    let s = pasted.replace(/^[\s\u0085]+/, '');
    if (s.startsWith('```')) {
      const nl = s.indexOf('\n', 3);
      if (nl >= 0 && !s.slice(3, nl).toUpperCase().includes(PREFIX)) s = s.slice(nl + 1);
    }
    let out = '';
    for (const ch of s) {
      if (SPACE.test(ch) || ZERO_WIDTH.test(ch)) continue;
      out += ch >= 'a' && ch <= 'z' ? ch.toUpperCase() : ch;
    }
    return trimQuotes(out);
  }

  // ---- decoding (decode.go) ----

  function parse(pasted) {
    if (pasted.length > MAX_INPUT_LEN) {
      throw fail('too long', 'it has ' + utf8(pasted).length + ' bytes; a blob has at most ' + MAX_TEXT_LEN + ' characters');
    }
    return decode(clean(pasted));
  }

  function count(text, sub) {
    let n = 0;
    for (let i = text.indexOf(sub); i >= 0; i = text.indexOf(sub, i + sub.length)) n++;
    return n;
  }

  function multipleError(n) {
    return fail('multiple', PREFIX + ' appears ' + n + ' times; paste only one blob');
  }

  function notBlobError(text) {
    const starts = (p) => text.slice(0, p.length).toUpperCase() === p.toUpperCase();
    if (starts('eyJ')) return fail('not a blob', 'it looks like base64 JSON from pion\'s examples or a web page');
    if (text.startsWith('{')) return fail('not a blob', 'it looks like a JSON session description');
    if (starts('v=0')) return fail('not a blob', 'it looks like raw SDP');
    if (starts(PREFIX)) return fail('not a blob', 'it starts with ' + JSON.stringify(text.slice(0, PREFIX.length)) + ', not "' + PREFIX + '" (letters must be upper case)');
    return fail('not a blob', 'a pigeon blob starts with ' + PREFIX);
  }

  function decode(text) {
    if (text === '') throw fail('empty', 'there is nothing to decode');
    if (text.length > MAX_TEXT_LEN) throw fail('too long', 'it has ' + text.length + ' characters; a blob has at most ' + MAX_TEXT_LEN);
    if (!text.startsWith(PREFIX)) {
      if (PREFIX.startsWith(text)) throw fail('truncated', 'only ' + JSON.stringify(text) + ' is there; copy the whole blob');
      const n = count(text, PREFIX);
      if (n >= 2) throw multipleError(n);
      throw notBlobError(text);
    }
    try {
      return decodeBlob(text);
    } catch (e) {
      const n = count(text, PREFIX);
      if (n >= 2) throw multipleError(n);
      throw e;
    }
  }

  function decodeText(text) {
    const out = [];
    let acc = 0, bits = 0, pos = PREFIX.length;
    for (const ch of text.slice(PREFIX.length)) {
      pos++;
      const v = ALPHABET.indexOf(ch);
      if (v < 0) throw fail('damaged', 'character ' + goQuote(ch) + ' at position ' + pos + ' cannot appear in a blob');
      acc = (acc << 5) | v;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out.push((acc >> bits) & 0xff);
        acc &= (1 << bits) - 1;
      }
    }
    return { buf: Uint8Array.from(out), canonical: bits < 5 && acc === 0 };
  }

  // goQuote writes a character as Go's %q does for the common cases.
  function goQuote(ch) {
    if (ch === "'") return "'\\''";
    if (ch === '\\') return "'\\\\'";
    const c = ch.codePointAt(0);
    if (c < 0x20 || c === 0x7f) return "'\\x" + c.toString(16).padStart(2, '0') + "'";
    return "'" + ch + "'";
  }

  const truncatedError = () => fail('truncated', 'it ends too early; copy the whole blob');

  function credentialsEnd(buf, at) {
    if (buf.length < at + 2) return 0;
    return at + 2 + Math.ceil((buf[at] + buf[at + 1]) * 6 / 8);
  }

  function decodeBlob(text) {
    const { buf, canonical } = decodeText(text);
    if (buf.length < HEADER_LEN) throw truncatedError();
    const version = buf[0] >> 5;
    if (version === 0) throw fail('malformed', 'format version 0 does not exist');
    if (version === OPEN_VERSION) {
      // An open offer (pigeon chat --open) is joined by pigeon only: its
      // joiner chooses ICE credentials that no browser lets a page set.
      const e = fail('newer version', 'this is an open offer (made with --open), which only the pigeon command can join: ask for an offer made without --open');
      e.version = version;
      throw e;
    }
    if (version !== 1 && version !== CARRIED_VERSION) {
      const e = fail('newer version', 'blob uses format version ' + version + '; this pigeon reads versions 1 to ' + OPEN_VERSION);
      e.version = version;
      throw e;
    }
    let kind = 'offer', start = LIST_START;
    if (buf[0] & 0x10) kind = 'answer';
    else if ((buf[0] & 0xf) === 0) { kind = 'reconnect'; start = RECONNECT_LIST_START; }
    const carried = version === CARRIED_VERSION;
    if (carried) {
      if (kind === 'reconnect') throw fail('malformed', 'a version ' + version + ' blob is an offer or an answer (app 0 marks a reconnect blob)');
      start = credentialsEnd(buf, LIST_START);
      if (start === 0) throw truncatedError();
    }
    if (buf.length < start + TRAILER_LEN) throw damageAt(buf, kind, start, carried, false);
    const body = buf.subarray(0, buf.length - TRAILER_LEN), trailer = buf.subarray(buf.length - TRAILER_LEN);
    const sum = crc16(buf.subarray(0, buf.length - 2));
    let sumOK = trailer[1] === sum >> 8 && trailer[2] === (sum & 0xff);
    if (sumOK && kind !== 'answer') sumOK = trailer[0] === crc8(body);
    if (!sumOK || !canonical) throw damageAt(buf, kind, start, carried, sumOK);

    const b = { kind, app: 0, binding: 0, fingerprint: new Uint8Array(FP_LEN), session: 0, fromOfferer: false, generation: 0, candidates: [], ufrag: '', pwd: '' };
    if (kind === 'offer') {
      b.app = buf[0] & 0xf;
      b.fingerprint = buf.slice(HEADER_LEN, LIST_START);
    } else if (kind === 'answer') {
      b.binding = ((buf[0] & 0xf) << 8) | trailer[0];
      b.fingerprint = buf.slice(HEADER_LEN, LIST_START);
    } else {
      const session = (buf[1] << 8) | buf[2];
      b.session = session & 0x7fff;
      b.fromOfferer = (session & 0x8000) !== 0;
      b.generation = (buf[3] << 8) | buf[4];
      if (b.generation === 0) throw fail('malformed', 'the reconnect blob has generation 0');
    }
    try {
      if (carried) [b.ufrag, b.pwd] = readCredentials(buf, LIST_START, start);
      b.candidates = parseCandidates(body.subarray(start));
    } catch (e) {
      if (e.kind) throw e;
      throw fail('malformed', e.message);
    }
    return b;
  }

  function damageAt(buf, kind, start, carried, sumOK) {
    if (carried) return classifyDamage(buf, start, sumOK);
    let other = RECONNECT_LIST_START;
    if (kind === 'reconnect') [start, other] = [RECONNECT_LIST_START, LIST_START];
    const err = classifyDamage(buf, start, sumOK);
    if ((buf[0] & 0xf) === 0 && err.kind === 'truncated') {
      const e = classifyDamage(buf, other, sumOK);
      if (e.kind !== 'truncated') return e;
    }
    return err;
  }

  function classifyDamage(buf, start, sumOK) {
    let p = start;
    for (;;) {
      if (p >= buf.length) return truncatedError();
      const tag = buf[p];
      if (tag === EMPTY_LIST_TAG) { p++; break; }
      p += 1 + FAMILY_LEN[(tag >> 4) & 3];
      if (!(tag & TAG_SAME_PORT)) p += 2;
      if (p > buf.length) return truncatedError();
      if (tag & TAG_LAST) break;
    }
    if (p + TRAILER_LEN > buf.length) return truncatedError();
    if (sumOK) return fail('damaged', 'its last characters do not fit; a character was added or changed');
    return fail('damaged', 'checksum mismatch: a character was changed');
  }

  function readCredentials(buf, at, end) {
    const nu = buf[at], np = buf[at + 1];
    let chars = '', acc = 0, bits = 0;
    for (const b of buf.subarray(at + 2, end)) {
      acc = (acc << 8) | b;
      bits += 8;
      while (bits >= 6 && chars.length < nu + np) {
        bits -= 6;
        chars += ICE_CHARSET[(acc >> bits) & 63];
      }
      acc &= (1 << bits) - 1;
    }
    if (acc !== 0) throw new Error('the ICE credentials end in padding bits that are not zero');
    const ufrag = chars.slice(0, nu), pwd = chars.slice(nu);
    const why = credentialsProblem(ufrag, pwd);
    if (why) throw new Error(why);
    return [ufrag, pwd];
  }

  function credentialsProblem(ufrag, pwd) {
    for (const [name, value, min] of [['ICE ufrag', ufrag, MIN_UFRAG], ['ICE password', pwd, MIN_PWD]]) {
      if (value.length < min || value.length > MAX_CRED) {
        return name + ' ' + JSON.stringify(value) + ' has ' + value.length + ' characters; a blob carries ' + min + ' to ' + MAX_CRED;
      }
      for (const ch of value) if (!ICE_CHARSET.includes(ch)) return name + ' ' + JSON.stringify(value) + ' holds ' + goQuote(ch) + ', which is not an ICE character';
    }
    return '';
  }

  const byteCount = (n) => (n === 1 ? '1 byte' : n + ' bytes');

  function parseCandidates(list) {
    if (list.length === 0) throw new Error('the candidate list is missing');
    if (list[0] === EMPTY_LIST_TAG) {
      if (list.length !== 1) throw new Error(byteCount(list.length - 1) + ' follow the empty candidate list');
      return [];
    }
    const cands = [];
    let p = 0;
    for (;;) {
      const n = cands.length + 1;
      if (n > MAX_CANDIDATES) throw new Error('more than ' + MAX_CANDIDATES + ' candidates');
      if (p >= list.length) throw new Error('candidate ' + n + ' is missing: the list has no last candidate');
      const tag = list[p++];
      const fam = (tag >> 4) & 3;
      if (fam === FAMILY_RESERVED) throw new Error('candidate ' + n + ' uses the reserved address family (tag 0x' + tag.toString(16) + ')');
      const alen = FAMILY_LEN[fam];
      if (list.length - p < alen) throw new Error('candidate ' + n + ': the address runs into the checksum');
      const addr = list.slice(p, p + alen);
      p += alen;
      const c = { type: TYPES[(tag >> 2) & 3], transport: TRANSPORTS[tag & 3], port: 0 };
      if (fam === FAMILY_IPV4) c.addr = addr;
      else if (fam === FAMILY_IPV6) {
        if (addr.subarray(0, 10).every((x) => x === 0) && addr[10] === 0xff && addr[11] === 0xff) {
          throw new Error('candidate ' + n + ': IPv6 address ' + addrString(addr) + ' is an IPv4-mapped address');
        }
        c.addr = addr;
      } else c.hostname = mdnsName(addr);
      if (tag & TAG_SAME_PORT) {
        if (cands.length === 0) throw new Error('the first candidate has no previous port to share');
        c.port = cands[cands.length - 1].port;
      } else {
        if (list.length - p < 2) throw new Error('candidate ' + n + ': the port runs into the checksum');
        c.port = (list[p] << 8) | list[p + 1];
        p += 2;
        if (cands.length > 0 && c.port === cands[cands.length - 1].port) {
          throw new Error('candidate ' + n + ' repeats the previous port ' + c.port + ' without the same-port flag');
        }
      }
      cands.push(c);
      if (tag & TAG_LAST) break;
    }
    if (p !== list.length) throw new Error(byteCount(list.length - p) + ' follow the last candidate');
    return cands;
  }

  // ---- addresses ----

  function mdnsName(id) {
    const h = hex(id);
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20, 32) + '.local';
  }

  function parseMDNSName(name) {
    const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\.local$/.exec(name);
    if (!m) return null;
    const h = m.slice(1).join('');
    return Uint8Array.from({ length: 16 }, (_, i) => parseInt(h.slice(2 * i, 2 * i + 2), 16));
  }

  function parseIPv4(s) {
    const parts = s.split('.');
    if (parts.length !== 4) return null;
    const out = new Uint8Array(4);
    for (let i = 0; i < 4; i++) {
      if (!/^(0|[1-9][0-9]{0,2})$/.test(parts[i]) || +parts[i] > 255) return null;
      out[i] = +parts[i];
    }
    return out;
  }

  // parseIP returns the 4 or 16 bytes of an address, an IPv4 address
  // mapped into IPv6 as 4, without a zone; null when it is not one.
  function parseIP(s) {
    s = s.replace(/%.*$/, '');
    const v4 = parseIPv4(s);
    if (v4) return v4;
    if (!s.includes(':')) return null;
    const last = s.lastIndexOf(':');
    if (s.slice(last + 1).includes('.')) { // a dotted IPv4 tail: two groups
      const t = parseIPv4(s.slice(last + 1));
      if (!t) return null;
      s = s.slice(0, last + 1) + ((t[0] << 8) | t[1]).toString(16) + ':' + ((t[2] << 8) | t[3]).toString(16);
    }
    const halves = s.split('::');
    if (halves.length > 2) return null;
    const groups = (h) => (h === '' ? [] : h.split(':'));
    const head = groups(halves[0]), tail = halves.length === 2 ? groups(halves[1]) : [];
    if (!head.concat(tail).every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
    const n = head.length + tail.length;
    if (halves.length === 1 ? n !== 8 : n > 7) return null;
    const words = head.concat(new Array(8 - n).fill('0'), tail).map((g) => parseInt(g, 16));
    const out = new Uint8Array(16);
    words.forEach((w, i) => { out[2 * i] = w >> 8; out[2 * i + 1] = w & 0xff; });
    if (out.subarray(0, 10).every((x) => x === 0) && out[10] === 0xff && out[11] === 0xff) return out.slice(12);
    return out;
  }

  // addrString writes an address as Go's netip.Addr.String does.
  function addrString(a) {
    if (a.length === 4) return Array.from(a).join('.');
    const words = [];
    for (let i = 0; i < 16; i += 2) words.push((a[i] << 8) | a[i + 1]);
    if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
      return '::ffff:' + Array.from(a.subarray(12)).join('.');
    }
    let best = -1, bestLen = 1;
    for (let i = 0; i < 8;) {
      if (words[i] !== 0) { i++; continue; }
      let j = i;
      while (j < 8 && words[j] === 0) j++;
      if (j - i > bestLen) { best = i; bestLen = j - i; }
      i = j;
    }
    const h = (ws) => ws.map((w) => w.toString(16)).join(':');
    if (best < 0) return h(words);
    return h(words.slice(0, best)) + '::' + h(words.slice(best + bestLen));
  }

  function hostOf(c) { return c.hostname || addrString(c.addr); }

  function candidateString(c) {
    const host = hostOf(c);
    return c.type + ' ' + c.transport + ' ' + (host.includes(':') ? '[' + host + ']' : host) + ':' + c.port;
  }

  // ---- encoding (blob.go, candidate.go, carried.go) ----

  function kindOf(b) {
    const k = b.kind;
    if (k !== 'offer' && k !== 'answer' && k !== 'reconnect') throw fail('invalid', k + ' is not a kind of blob');
    return k;
  }

  function appendCandidate(buf, c, last, samePort) {
    const type = TYPES.indexOf(c.type), transport = TRANSPORTS.indexOf(c.transport || 'udp');
    if (type < 0) throw new Error('unknown candidate type ' + c.type);
    if (transport < 0) throw new Error('unknown transport ' + c.transport);
    let tag = (type << 2) | transport;
    if (last) tag |= TAG_LAST;
    if (samePort) tag |= TAG_SAME_PORT;
    if (c.hostname) {
      if (c.addr) throw new Error('has both address ' + addrString(c.addr) + ' and mDNS name ' + JSON.stringify(c.hostname));
      const id = parseMDNSName(c.hostname);
      if (!id) throw new Error('mDNS name ' + JSON.stringify(c.hostname) + ' is not "<uuid>.local" with a lower-case UUID');
      buf.push(tag | (FAMILY_MDNS << 4), ...id);
    } else if (!c.addr) {
      throw new Error('no address and no mDNS name');
    } else if (c.addr.length === 4) {
      buf.push(tag | (FAMILY_IPV4 << 4), ...c.addr);
    } else {
      buf.push(tag | (FAMILY_IPV6 << 4), ...c.addr);
    }
    if (!samePort) buf.push(c.port >> 8, c.port & 0xff);
  }

  function encode(b) {
    const kind = kindOf(b);
    let low4 = 0, kindBit = 0;
    const binding = b.binding || 0, app = b.app || 0, generation = b.generation || 0;
    if (kind === 'offer') {
      if (app < 1 || app > 15) throw fail('invalid', 'offer app ' + app + ' is out of range 1..15');
      if (binding !== 0) throw fail('invalid', 'an offer has no binding, got ' + binding);
      low4 = app;
    } else if (kind === 'answer') {
      if (app !== 0) throw fail('invalid', 'an answer names no app, got ' + app);
      if (binding > 0xfff) throw fail('invalid', 'answer binding 0x' + binding.toString(16) + ' does not fit in 12 bits');
      kindBit = 0x10;
      low4 = binding >> 8;
    } else if (generation === 0) {
      throw fail('invalid', 'a reconnect blob\'s generation is 1 or more');
    }
    const cands = b.candidates || [];
    if (cands.length > MAX_CANDIDATES) throw fail('invalid', cands.length + ' candidates, at most ' + MAX_CANDIDATES + ' fit');
    let version = 1;
    const carries = !!(b.ufrag || b.pwd);
    if (carries) {
      if (kind === 'reconnect') throw fail('invalid', 'a reconnect blob carries no ICE credentials');
      const why = credentialsProblem(b.ufrag || '', b.pwd || '');
      if (why) throw fail('invalid', why);
      version = CARRIED_VERSION;
    }
    const buf = [(version << 5) | kindBit | low4];
    if (kind === 'reconnect') {
      const session = (b.session & 0x7fff) | (b.fromOfferer ? 0x8000 : 0);
      buf.push(session >> 8, session & 0xff, generation >> 8, generation & 0xff);
    } else {
      buf.push(...b.fingerprint);
    }
    if (carries) {
      const chars = b.ufrag + b.pwd;
      buf.push(b.ufrag.length, b.pwd.length);
      let acc = 0, bits = 0;
      for (const ch of chars) {
        acc = (acc << 6) | ICE_CHARSET.indexOf(ch);
        bits += 6;
        while (bits >= 8) { bits -= 8; buf.push((acc >> bits) & 0xff); acc &= (1 << bits) - 1; }
      }
      if (bits > 0) buf.push((acc << (8 - bits)) & 0xff);
    }
    if (cands.length === 0) buf.push(EMPTY_LIST_TAG);
    cands.forEach((c, i) => {
      try {
        appendCandidate(buf, c, i === cands.length - 1, i > 0 && c.port === cands[i - 1].port);
      } catch (e) {
        throw fail('invalid', 'candidate ' + (i + 1) + ': ' + e.message);
      }
    });
    buf.push(kind === 'answer' ? binding & 0xff : crc8(buf));
    const sum = crc16(buf);
    buf.push(sum >> 8, sum & 0xff);
    return PREFIX + base32(buf);
  }

  function base32(bytes) {
    let out = '', acc = 0, bits = 0;
    for (const b of bytes) {
      acc = (acc << 8) | b;
      bits += 8;
      while (bits >= 5) { bits -= 5; out += ALPHABET[(acc >> bits) & 31]; }
      acc &= (1 << bits) - 1;
    }
    if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
    return out;
  }

  // ---- credentials, binding, verification code (credentials.go, verify) ----

  function credentials(fp, generation) {
    const parts = [utf8('pigeon v1 ice credentials'), fp];
    if (generation) parts.push(Uint8Array.of(generation >> 8, generation & 0xff));
    const h = digest(...parts);
    return [hex(h.subarray(0, 4)), hex(h.subarray(4, 20))];
  }

  const bindingOf = (fp) => (fp[0] << 4) | (fp[1] >> 4);

  function verificationCode(offerFP, answerFP) {
    const h = digest(utf8('pigeon v1 verification code'), offerFP, answerFP);
    let v = 0n;
    for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(h[i]);
    const n = Number(v % 1000000n);
    return String(Math.floor(n / 1000)).padStart(3, '0') + '-' + String(n % 1000).padStart(3, '0');
  }

  // ---- session descriptions (sdp.go) ----

  function fingerprintString(fp) {
    return Array.from(fp, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');
  }

  function priority(c, i) {
    const local = c.transport === 'udp' || !c.transport ? 65535 - i : 32767 - i;
    return TYPE_PREFERENCE[TYPES.indexOf(c.type)] * 2 ** 24 + local * 256 + 255;
  }

  function candidateValue(c, i) {
    const proto = c.transport === 'udp' || !c.transport ? 'udp' : 'tcp';
    let s = (i + 1) + ' 1 ' + proto + ' ' + priority(c, i) + ' ' + hostOf(c) + ' ' + c.port + ' typ ' + c.type;
    if (c.type !== 'host') s += ' raddr 0.0.0.0 rport 0';
    if (c.transport === 'tcp-active') s += ' tcptype active';
    if (c.transport === 'tcp-passive') s += ' tcptype passive';
    if (c.transport === 'tcp-so') s += ' tcptype so';
    return s;
  }

  function sessionName(b) {
    if (b.kind === 'offer' && b.app) return 'pigeon ' + (APPS[b.app] || 'app ' + b.app);
    if (b.kind === 'answer') return 'pigeon answer ' + b.binding.toString(16).padStart(3, '0');
    return '-';
  }

  // toSDP rebuilds the description a blob stands for, as Blob.SDP does.
  function toSDP(b) {
    let [ufrag, pwd] = credentials(b.fingerprint, b.generation);
    if (b.ufrag || b.pwd) [ufrag, pwd] = [b.ufrag, b.pwd];
    let id = 0n;
    for (let i = 0; i < 8; i++) id = (id << 8n) | BigInt(b.fingerprint[i]);
    id &= (1n << 63n) - 1n;
    const lines = [
      'v=0',
      'o=- ' + id + ' 2 IN IP4 127.0.0.1',
      's=' + sessionName(b),
      't=0 0',
      'a=group:BUNDLE 0',
      'a=msid-semantic:WMS *',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      'c=IN IP4 0.0.0.0',
      'a=ice-ufrag:' + ufrag,
      'a=ice-pwd:' + pwd,
      'a=fingerprint:sha-256 ' + fingerprintString(b.fingerprint),
      'a=setup:' + (b.kind === 'answer' ? 'active' : 'actpass'),
      'a=mid:0',
      'a=sctp-port:5000',
      'a=max-message-size:262144',
    ];
    b.candidates.forEach((c, i) => lines.push('a=candidate:' + candidateValue(c, i)));
    lines.push('a=end-of-candidates');
    return lines.join('\r\n') + '\r\n';
  }

  // sections splits a description into its session part and media parts,
  // each a list of lines.
  function sections(sdp) {
    const parts = [[]];
    for (const line of sdp.split(/\r?\n/)) {
      if (!line) continue;
      if (line.startsWith('m=')) parts.push([]);
      parts[parts.length - 1].push(line);
    }
    return parts;
  }

  function attribute(lines, key) {
    const p = 'a=' + key + ':';
    const l = lines.find((x) => x.startsWith(p));
    return l === undefined ? undefined : l.slice(p.length);
  }

  function parseCandidate(value) {
    const f = value.replace(/^candidate:/, '').trim().split(/\s+/);
    if (f.length < 8 || f[6] !== 'typ') throw new Error('too few fields');
    const component = +f[1];
    const c = { type: f[7], transport: 'udp', port: +f[5] };
    if (!TYPES.includes(c.type)) throw new Error('unknown candidate type ' + f[7]);
    const proto = f[2].toLowerCase();
    if (proto === 'tcp') {
      let tcpType = '';
      for (let i = 3; i + 1 < f.length; i++) if (f[i].toLowerCase() === 'tcptype') tcpType = f[i + 1].toLowerCase();
      if (!['active', 'passive', 'so'].includes(tcpType)) throw new Error('tcp candidate has no tcptype active, passive or so');
      c.transport = 'tcp-' + tcpType;
    } else if (proto !== 'udp') {
      throw new Error('unsupported transport ' + JSON.stringify(proto));
    }
    if (!Number.isInteger(c.port) || c.port < 0 || c.port > 0xffff) throw new Error('port ' + f[5] + ' is out of range');
    const address = f[4];
    if (address.toLowerCase().endsWith('.local')) {
      const name = address.toLowerCase();
      if (!parseMDNSName(name)) throw new Error('mDNS name ' + JSON.stringify(address) + ' is not "<uuid>.local"');
      c.hostname = name;
      return { c, component };
    }
    const addr = parseIP(address);
    if (!addr) throw new Error('address ' + JSON.stringify(address) + ' is neither an IP address nor an mDNS name');
    c.addr = addr;
    return { c, component };
  }

  // candidatesOf returns the candidates of a media section as a blob
  // carries them: component 1, in order, without duplicates, at most 16.
  function candidatesOf(lines, strict) {
    const out = [], seen = new Set();
    for (const l of lines) {
      if (!l.startsWith('a=candidate:')) continue;
      let r;
      try {
        r = parseCandidate(l.slice(2));
      } catch (e) {
        if (strict) throw fail('unsupported', 'candidate ' + JSON.stringify(l.slice(2)) + ': ' + e.message);
        continue;
      }
      if (r.component !== 1) continue;
      const key = r.c.transport + ' ' + hostOf(r.c) + ' ' + r.c.port;
      if (seen.has(key)) continue;
      seen.add(key);
      if (out.length < MAX_CANDIDATES) out.push(r.c);
    }
    return out;
  }

  function fingerprintOf(session, media) {
    const found = [];
    for (const lines of [media, session]) {
      for (const l of lines) {
        if (!l.startsWith('a=fingerprint:')) continue;
        const [alg, value = ''] = l.slice('a=fingerprint:'.length).trim().split(/\s+/, 2);
        if (alg.toLowerCase() !== 'sha-256') { found.push(alg); continue; }
        const h = value.replace(/:/g, '');
        if (!/^[0-9a-fA-F]{64}$/.test(h)) throw fail('unsupported', 'sha-256 fingerprint ' + JSON.stringify(value) + ' is not 32 hex bytes');
        return Uint8Array.from({ length: 32 }, (_, i) => parseInt(h.slice(2 * i, 2 * i + 2), 16));
      }
    }
    if (found.length) throw fail('unsupported', 'it has no sha-256 fingerprint, only ' + found.join(', '));
    throw fail('unsupported', 'it has no fingerprint');
  }

  // fromSDP makes the blob of the browser's own description of the given
  // kind, with its ICE credentials carried (unless they happen to be the
  // derived ones). app is the offer's app; an answer's binding is left 0
  // for the caller to set.
  function fromSDP(sdp, kind, app) {
    if (kind !== 'offer' && kind !== 'answer') throw fail('unsupported', kind + ' is neither offer nor answer');
    const [session, ...media] = sections(sdp);
    if (media.length !== 1 || !media[0][0].startsWith('m=application ')) {
      throw fail('unsupported', 'it must have exactly one media section, for data channels (m=application); it has ' + media.length);
    }
    const md = media[0];
    const attr = (k) => { const v = attribute(md, k); return v === undefined ? attribute(session, k) : v; };
    const b = { kind, app: kind === 'offer' ? app : 0, binding: 0, fingerprint: fingerprintOf(session, md), session: 0, fromOfferer: false, generation: 0, candidates: [], ufrag: '', pwd: '' };
    const wantSetup = kind === 'answer' ? 'active' : 'actpass';
    const setup = attr('setup');
    if (setup !== wantSetup) throw fail('unsupported', 'an ' + kind + ' must have a=setup:' + wantSetup + ', not ' + JSON.stringify(setup || ''));
    const ufrag = attr('ice-ufrag') || '', pwd = attr('ice-pwd') || '';
    const [du, dp] = credentials(b.fingerprint, 0);
    if (ufrag !== du || pwd !== dp) { b.ufrag = ufrag; b.pwd = pwd; }
    b.candidates = candidatesOf(md, true);
    return b;
  }

  // ---- other programs' formats (foreign.go) ----

  // recognize tells the format of a paste: 'pigeon', 'base64 JSON',
  // 'JSON', 'raw SDP', or '' when it is none of them.
  function recognize(pasted) {
    const head = pasted.slice(0, 256).replace(/^[\s\u0085\u200B\u200C\u200D\u2060\uFEFF"'`“”‘’«»]+/, '');
    if (head.startsWith('{')) return 'JSON';
    if (head.startsWith('v=0')) return 'raw SDP';
    if (head.startsWith('eyJ')) return 'base64 JSON';
    if (clean(head).startsWith(PREFIX)) return 'pigeon';
    return '';
  }

  // parseForeign reads another program's description: {type, sdp, format}.
  function parseForeign(pasted) {
    if (pasted.length > MAX_INPUT_LEN) throw fail('foreign', 'input is too long: a session description pigeon reads has at most ' + MAX_INPUT_LEN + ' bytes');
    const text = pasted.replace(/^[\s\u0085\u200B\u200C\u200D\u2060\uFEFF"'`“”‘’«»]+|[\s\u0085\u200B\u200C\u200D\u2060\uFEFF"'`“”‘’«»]+$/g, '');
    let d, format;
    if (text.startsWith('{')) {
      format = 'JSON';
      try { d = JSON.parse(text); } catch (e) { throw fail('foreign', 'JSON is not valid: ' + e.message); }
    } else if (text.startsWith('v=0')) {
      format = 'raw SDP';
      const sdp = text.split(/[\r\n]+/).map((l) => l.trim()).join('\r\n') + '\r\n';
      let type = '';
      if (sdp.includes('a=setup:actpass')) type = 'offer';
      else if (sdp.includes('a=setup:active') || sdp.includes('a=setup:passive')) type = 'answer';
      else throw fail('foreign', 'raw SDP without a=setup: cannot tell an offer from an answer');
      d = { type, sdp };
    } else if (text.startsWith('eyJ')) {
      format = 'base64 JSON';
      let raw;
      try { raw = atob(text.replace(/[\s\u200B\u200C\u200D\u2060\uFEFF]/g, '')); } catch (e) {
        throw fail('foreign', 'looks like base64 JSON but does not decode: ' + e.message);
      }
      try { d = JSON.parse(new TextDecoder().decode(Uint8Array.from(raw, (c) => c.charCodeAt(0)))); } catch (e) {
        throw fail('foreign', 'base64 JSON is not valid: ' + e.message);
      }
    } else {
      throw fail('foreign', 'expected base64 JSON, JSON or SDP');
    }
    if (d.type !== 'offer' && d.type !== 'answer') throw fail('foreign', 'its type is ' + JSON.stringify(d.type || '') + '; pigeon reads an offer or an answer');
    if (typeof d.sdp !== 'string') throw fail('foreign', 'it has no sdp');
    const [session, ...media] = sections(d.sdp);
    if (media.length === 0) throw fail('foreign', 'its SDP: it has no media section');
    let fingerprint;
    try { fingerprint = fingerprintOf(session, media[0]); } catch (e) {
      throw fail('foreign', 'its SDP: ' + e.message.replace(KIND_TEXT.unsupported + ': ', ''));
    }
    return { type: d.type, sdp: d.sdp, format, fingerprint, candidates: candidatesOf(media[0], false) };
  }

  return {
    PREFIX, VERSION, MAX_CANDIDATES, APPS,
    clean, parse, decode, encode, toSDP, fromSDP, recognize, parseForeign,
    credentials, bindingOf, verificationCode, candidateString, addrString, parseIP,
  };
});
