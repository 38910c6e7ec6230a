// scan.js — trace bytes to a Table as they stream in, for the tracer's
// layout: `[`, then one event per line ending in `,`, then `]`. Each line
// is read byte by byte straight into the table's columns: no string and no
// object per event, which is what lets a tab hold millions of them. A line
// the byte reader does not take on (an escaped string, a nested value, a
// number in exponent form) is parsed by JSON.parse alone; anything that is
// not this layout at all (object form, pretty-printed JSON, an odd line)
// falls back to Parse.parseTrace on the whole text at the end, which stays
// the one definition of what is accepted.
"use strict";

const Scan = (() => {
  const OPEN_BRACE = 123, CLOSE_BRACE = 125, OPEN_BRACKET = 91, CLOSE_BRACKET = 93,
    QUOTE = 34, BACKSLASH = 92, COMMA = 44, COLON = 58, NL = 10, MINUS = 45, DOT = 46;
  // The file's bytes are kept for the fallback up to this size; beyond it,
  // a file read line by line so far drops them (they would double what a
  // big trace costs the tab), and one that then needs the fallback (after
  // its `]`, more data) cannot be read.
  const KEEP_LIMIT = 64e6;
  const BATCH = 4e6;

  const isSpace = (c) => c === 32 || c === 10 || c === 13 || c === 9;

  // Known keys, by a code from their bytes.
  const KEY = { ph: 1, ts: 2, dur: 3, name: 4, cat: 5, pid: 6, tid: 7, args: 8,
                bind_id: 9, flow_in: 10, flow_out: 11, id: 12, id2: 13, s: 14, bp: 15 };
  const KEY_BYTES = [];
  for (const [k, code] of Object.entries(KEY)) {
    const first = k.charCodeAt(0);
    (KEY_BYTES[first] || (KEY_BYTES[first] = [])).push([code, Array.from(k, (ch) => ch.charCodeAt(0))]);
  }
  // The bytes of `"key":` by its code, for the keys fastLine reads (0:
  // any other).
  const FAST_LEN = new Int32Array(16);
  for (const k of ["name", "cat", "ph", "ts", "dur", "pid", "tid", "args", "bind_id",
                   "flow_in", "flow_out", "s"]) FAST_LEN[KEY[k]] = k.length + 3;
  function keyCode(b, a, e) {
    const list = KEY_BYTES[b[a]];
    if (list === undefined) return 0;
    for (let x = 0; x < list.length; x++) {
      const kb = list[x][1];
      if (kb.length !== e - a) continue;
      let i = 1;
      while (i < kb.length && kb[i] === b[a + i]) i++;
      if (i === kb.length) return list[x][0];
    }
    return 0;
  }
  const ARG_KIND = Array.from(Vocab.ARG.KIND, (c) => c.charCodeAt(0));
  const ARG_CUT = Array.from(Vocab.ARG.CUT, (c) => c.charCodeAt(0));
  const ARG_INCOMPLETE = Array.from(Vocab.ARG.INCOMPLETE, (c) => c.charCodeAt(0));
  function isKey(b, a, e, kb) {
    if (kb.length !== e - a) return false;
    for (let i = 0; i < kb.length; i++) if (kb[i] !== b[a + i]) return false;
    return true;
  }

  // UTF-8 strings to ids of an intern, without decoding one already seen:
  // a hash of the bytes finds it.
  function newByteIntern(intern) {
    let size = 1024;
    let slots = new Int32Array(size).fill(-1);
    const hashes = [], keys = [], ids = [];
    const decoder = new TextDecoder();
    const rehash = () => {
      size *= 2;
      slots = new Int32Array(size).fill(-1);
      for (let x = 0; x < keys.length; x++) {
        let slot = hashes[x] & (size - 1);
        while (slots[slot] >= 0) slot = (slot + 1) & (size - 1);
        slots[slot] = x;
      }
    };
    return (b, a, e) => {
      let h = 0x811c9dc5;
      for (let i = a; i < e; i++) h = Math.imul(h ^ b[i], 16777619);
      let slot = h & (size - 1);
      for (;;) {
        const x = slots[slot];
        if (x < 0) break;
        const key = keys[x];
        if (hashes[x] === h && key.length === e - a) {
          let i = 0;
          while (i < key.length && key[i] === b[a + i]) i++;
          if (i === key.length) return ids[x];
        }
        slot = (slot + 1) & (size - 1);
      }
      const id = intern.get(decoder.decode(b.subarray(a, e)));
      slots[slot] = keys.length;
      hashes.push(h);
      keys.push(b.slice(a, e));
      ids.push(id);
      if (keys.length * 2 > size) rehash();
      return id;
    };
  }

  // Reads events from bytes into table `t`. scanLine(b, i, end) reads the
  // event whose `{` is at i; returns the index after its `}`, or -1 when
  // the line needs JSON.parse (the table is then unchanged).
  function newLineReader(t) {
    const strings = newByteIntern(t.strings);
    const phs = newByteIntern(t.phs);
    const keys = newByteIntern(t.keys);
    const values = newByteIntern(t.values);
    const numKeys = new Map(); // an integer id -> its key id
    let lastPid = NaN, lastPidId = -1, lastTid = NaN, lastTidId = -1;

    // The value last read (by string(), number()).
    let va = 0, ve = 0; // a string's bytes
    let num = 0, ns = 0, simple = false; // a number; ns when simple (≤ 3 decimals)

    // A string at i (its quote); returns the index after it, or -1 when
    // it has an escape or a control character.
    function string(b, i, end) {
      va = ++i;
      for (; i < end; i++) {
        const c = b[i];
        if (c === QUOTE) {
          ve = i;
          return i + 1;
        }
        if (c === BACKSLASH || c < 0x20) return -1;
      }
      return -1;
    }

    // A JSON number at i; returns the index after it, or -1 when it is
    // not one. Simple: digits with at most 3 decimals, exact in ns.
    function number(b, i, end) {
      const a = i;
      if (b[i] === MINUS) i++;
      const d0 = i;
      let whole = 0;
      while (i < end && b[i] >= 48 && b[i] <= 57) whole = whole * 10 + (b[i++] - 48);
      const digits = i - d0;
      if (digits === 0 || (digits > 1 && b[d0] === 48)) return -1;
      let frac = 0, decimals = 0;
      if (b[i] === DOT) {
        i++;
        const f0 = i;
        while (i < end && b[i] >= 48 && b[i] <= 57) frac = frac * 10 + (b[i++] - 48);
        decimals = i - f0;
        if (decimals === 0) return -1;
      }
      if (b[i] === 101 || b[i] === 69) { // an exponent: let Number() read it
        i++;
        if (b[i] === 43 || b[i] === MINUS) i++;
        const e0 = i;
        while (i < end && b[i] >= 48 && b[i] <= 57) i++;
        if (i === e0) return -1;
        simple = false;
      } else {
        simple = decimals <= 3 && digits <= 12; // ns below 2^53: exact
      }
      if (simple) {
        const sign = b[a] === MINUS ? -1 : 1;
        ns = sign * (whole * 1000 + frac * (decimals === 0 ? 1 : decimals === 1 ? 100 : decimals === 2 ? 10 : 1));
        num = decimals === 0 ? sign * whole : ns / 1000;
      } else {
        num = Number(String.fromCharCode.apply(null, b.subarray(a, i)));
        ns = Table.toNs(num);
      }
      return i;
    }

    // true, false or null at i: returns the index after it, or -1; sets lit.
    let lit = null;
    function literal(b, i, end) {
      const c = b[i];
      if (c === 116 && i + 4 <= end && b[i + 1] === 114 && b[i + 2] === 117 && b[i + 3] === 101) {
        lit = true;
        return i + 4;
      }
      if (c === 102 && i + 5 <= end && b[i + 1] === 97 && b[i + 2] === 108 && b[i + 3] === 115 &&
          b[i + 4] === 101) {
        lit = false;
        return i + 5;
      }
      if (c === 110 && i + 4 <= end && b[i + 1] === 117 && b[i + 2] === 108 && b[i + 3] === 108) {
        lit = null;
        return i + 4;
      }
      return -1;
    }

    const ws = (b, i, end) => {
      while (i < end && isSpace(b[i])) i++;
      return i;
    };

    // What the line holds, before it goes into the table.
    let ph, ts, dur, name, cat, pid, tid, kind, cut, bits, bind, id, scope, bp, argsA, argsE;
    let pairs = 0, pairsOk = true; // counter pairs pending (t.cLen onwards)
    const pairKey = [], pairVal = [];

    // The args object at i: kind, cut, and (for a counter) the values.
    // Returns the index after it, or -1 (a nested value, an odd kind).
    function args(b, i, end) {
      i = ws(b, i + 1, end);
      if (b[i] === CLOSE_BRACE) return i + 1;
      let cutVal = 0, incomplete = false;
      for (;;) {
        if (b[i] !== QUOTE || (i = string(b, i, end)) < 0) return -1;
        const ka = va, ke = ve;
        i = ws(b, i, end);
        if (b[i] !== COLON) return -1;
        i = ws(b, i + 1, end);
        const c = b[i];
        if (c === QUOTE) {
          if ((i = string(b, i, end)) < 0) return -1;
          if (isKey(b, ka, ke, ARG_KIND)) kind = values(b, va, ve);
          else if (isKey(b, ka, ke, ARG_CUT)) cutVal = cutCode(b, va, ve);
          pairsOk = false; // a counter's Number("...") is JSON.parse's path
        } else if (c === MINUS || (c >= 48 && c <= 57)) {
          if ((i = number(b, i, end)) < 0) return -1;
          if (isKey(b, ka, ke, ARG_KIND)) return -1;
          if (isKey(b, ka, ke, ARG_CUT)) cutVal = 0;
          pairKey[pairs] = ka;
          pairVal[pairs] = num;
          pairKey[pairs + 1] = ke;
          pairs += 2;
          if (b[ka] >= 48 && b[ka] <= 57) pairsOk = false; // for-in puts it first
        } else {
          if ((i = literal(b, i, end)) < 0) return -1;
          if (isKey(b, ka, ke, ARG_KIND)) return -1;
          if (isKey(b, ka, ke, ARG_CUT)) cutVal = 0;
          if (isKey(b, ka, ke, ARG_INCOMPLETE)) incomplete = lit === true;
          pairsOk = false;
        }
        i = ws(b, i, end);
        if (b[i] === COMMA) {
          i = ws(b, i + 1, end);
          continue;
        }
        if (b[i] !== CLOSE_BRACE) return -1;
        cut = cutVal === 1 ? Table.CUT_END : cutVal === 2 ? Table.CUT_START
          : cutVal === 3 ? Table.CUT_END | Table.CUT_START : incomplete ? Table.CUT_END : 0;
        return i + 1;
      }
    }

    // "end" 1, "start" 2, "both" 3, else 0 (then "incomplete" decides).
    function cutCode(b, a, e) {
      const s = String.fromCharCode.apply(null, b.subarray(a, e));
      return s === Vocab.CUT.END ? 1 : s === Vocab.CUT.START ? 2 : s === Vocab.CUT.BOTH ? 3 : 0;
    }

    function scanLine(b, i, end) {
      const start = i;
      ph = -1; ts = NaN; dur = NaN; name = 0; cat = 0; pid = -1; tid = -1; kind = -1;
      cut = 0; bits = Table.NO_NAME | Table.NO_CAT | Table.ARGS_ONLY; bind = -1; id = -1;
      scope = 0; bp = 0; argsA = -1;
      pairs = 0;
      pairsOk = true;
      i = ws(b, i + 1, end);
      if (b[i] !== CLOSE_BRACE) {
        for (;;) {
          if (b[i] !== QUOTE || (i = string(b, i, end)) < 0) return -1;
          const key = keyCode(b, va, ve);
          i = ws(b, i, end);
          if (b[i] !== COLON) return -1;
          i = value(b, ws(b, i + 1, end), end, key);
          if (i < 0) return -1;
          i = ws(b, i, end);
          if (b[i] === COMMA) {
            i = ws(b, i + 1, end);
            continue;
          }
          if (b[i] !== CLOSE_BRACE) return -1;
          break;
        }
      }
      i++;
      const isCounter = ph >= 0 && t.phs.list[ph] === "C";
      if (isCounter && !pairsOk) return -1;
      if (ph < 0) return -1; // no ph: JSON.parse's path says what it is
      commit(b, isCounter);
      return i;
    }

    // A line as the tracer writes it, read by one function with locals
    // only (the reader above keeps its state in closure variables, a
    // memory write each): no space, keys among those of FAST_LEN, strings
    // without escapes, times of at most 3 decimals, integer pid, tid and
    // bind_id. Returns -1 at anything else, and the reader above reads the
    // line (the table is then unchanged).
    const numKeyIds = []; // a small integer id -> its key id
    function fastLine(b, i, end) {
      let fPh = -1, fTs = NaN, fDur = NaN, fName = 0, fCat = 0, fPid = -1, fTid = -1;
      let fBind = -1, fScope = 0, fBits = Table.NO_NAME | Table.NO_CAT | Table.ARGS_ONLY;
      let isCounter = false;
      kind = -1;
      cut = 0;
      pairs = 0;
      pairsOk = true;
      argsA = -1;
      i++;
      for (;;) {
        if (b[i] !== QUOTE) return -1;
        // The key, as `"key":`: told by its letters in a switch (through a
        // list of keys' bytes, this was a fifth of the reading of a line).
        let key = 0;
        switch (b[i + 1]) {
          case 110: if (b[i + 2] === 97 && b[i + 3] === 109 && b[i + 4] === 101) key = KEY.name; break;
          case 99: if (b[i + 2] === 97 && b[i + 3] === 116) key = KEY.cat; break;
          case 112: // ph, pid
            if (b[i + 2] === 104) key = KEY.ph;
            else if (b[i + 2] === 105 && b[i + 3] === 100) key = KEY.pid;
            break;
          case 116: // ts, tid
            if (b[i + 2] === 115) key = KEY.ts;
            else if (b[i + 2] === 105 && b[i + 3] === 100) key = KEY.tid;
            break;
          case 100: if (b[i + 2] === 117 && b[i + 3] === 114) key = KEY.dur; break;
          case 97: if (b[i + 2] === 114 && b[i + 3] === 103 && b[i + 4] === 115) key = KEY.args; break;
          case 98: // bind_id
            if (b[i + 2] === 105 && b[i + 3] === 110 && b[i + 4] === 100 && b[i + 5] === 95 &&
                b[i + 6] === 105 && b[i + 7] === 100) key = KEY.bind_id;
            break;
          case 102: // flow_in, flow_out
            if (b[i + 2] === 108 && b[i + 3] === 111 && b[i + 4] === 119 && b[i + 5] === 95) {
              if (b[i + 6] === 105 && b[i + 7] === 110) key = KEY.flow_in;
              else if (b[i + 6] === 111 && b[i + 7] === 117 && b[i + 8] === 116) key = KEY.flow_out;
            }
            break;
          case 115: key = KEY.s; break;
          default: return -1;
        }
        let v = i + FAST_LEN[key];
        if (key === 0 || b[v - 2] !== QUOTE || b[v - 1] !== COLON) return -1;
        let c = b[v];
        if (c === QUOTE) { // a string
          const a = v + 1;
          let e = a;
          for (c = b[e]; c !== QUOTE; c = b[++e]) if (c === BACKSLASH || c < 0x20 || e >= end) return -1;
          switch (key) {
            case KEY.name: fName = strings(b, a, e); fBits &= ~Table.NO_NAME; break;
            case KEY.cat: fCat = strings(b, a, e); fBits &= ~Table.NO_CAT; break;
            case KEY.ph:
              if (e - a === 1 && phIds[b[a]] !== undefined) fPh = phIds[b[a]];
              else if ((fPh = phs(b, a, e)) >= 0 && e - a === 1) phIds[b[a]] = fPh;
              isCounter = e - a === 1 && b[a] === 67; // "C"
              break;
            case KEY.s:
              fScope = e === a ? 0 : e - a === 1 && (b[a] === 116 || b[a] === 103) ? b[a]
                : Table.SCOPE_OTHER;
              break;
            default: return -1;
          }
          v = e + 1;
        } else if (c >= 48 && c <= 57) { // a number, not negative
          const d0 = v;
          let whole = 0;
          for (; c >= 48 && c <= 57; c = b[++v]) whole = whole * 10 + (c - 48);
          const digits = v - d0;
          if ((digits > 1 && b[d0] === 48) || digits > 12) return -1;
          let frac = 0, decimals = 0;
          if (c === DOT) {
            for (c = b[++v]; c >= 48 && c <= 57; c = b[++v]) {
              frac = frac * 10 + (c - 48);
              decimals++;
            }
            if (decimals === 0 || decimals > 3) return -1;
          }
          if (c === 101 || c === 69 || v >= end) return -1;
          const ns = whole * 1000 + frac * (decimals === 0 ? 1 : decimals === 1 ? 100 : decimals === 2 ? 10 : 1);
          switch (key) {
            case KEY.ts: fTs = ns; break;
            case KEY.dur: fDur = ns; break;
            case KEY.pid:
              if (decimals > 0) return -1;
              if (whole !== lastPid) {
                lastPid = whole;
                lastPidId = t.values.get(whole);
              }
              fPid = lastPidId;
              break;
            case KEY.tid:
              if (decimals > 0) return -1;
              if (whole !== lastTid) {
                lastTid = whole;
                lastTidId = t.values.get(whole);
              }
              fTid = lastTidId;
              break;
            case KEY.bind_id: {
              if (decimals > 0 || whole >= 1 << 24) return -1;
              let kid = numKeyIds[whole];
              if (kid === undefined) numKeyIds[whole] = kid = t.keys.get(String(whole));
              fBind = kid;
              break;
            }
            default: return -1;
          }
        } else if (c === OPEN_BRACE) {
          if (key !== KEY.args) return -1;
          argsA = v;
          if ((v = argsE = args(b, v, end)) < 0) return -1;
        } else if (c === 116 && b[v + 1] === 114 && b[v + 2] === 117 && b[v + 3] === 101) {
          if (key === KEY.flow_in) fBits |= Table.FLOW_IN;
          else if (key === KEY.flow_out) fBits |= Table.FLOW_OUT;
          else return -1;
          v += 4;
        } else {
          return -1;
        }
        c = b[v];
        if (c === COMMA) {
          i = v + 1;
          continue;
        }
        if (c !== CLOSE_BRACE || fPh < 0) return -1;
        i = v + 1;
        break;
      }
      if (isCounter && !pairsOk) return -1;
      ph = fPh; ts = fTs; dur = fDur; name = fName; cat = fCat; pid = fPid; tid = fTid;
      bits = fBits; bind = fBind; id = -1; scope = fScope; bp = 0;
      commit(b, isCounter);
      return i;
    }
    const phIds = [];

    // The value of `key` at i; returns the index after it, or -1.
    function value(b, i, end, key) {
      const c = b[i];
      if (c === QUOTE) {
        if ((i = string(b, i, end)) < 0) return -1;
        switch (key) {
          case KEY.ph: ph = phs(b, va, ve); break;
          case KEY.name: name = strings(b, va, ve); bits &= ~Table.NO_NAME; break;
          case KEY.cat: cat = strings(b, va, ve); bits &= ~Table.NO_CAT; break;
          case KEY.pid: pid = values(b, va, ve); break;
          case KEY.tid: tid = values(b, va, ve); break;
          case KEY.bind_id: bind = keys(b, va, ve); bits |= Table.BIND_STR; break;
          case KEY.id: id = keys(b, va, ve); bits |= Table.ID_STR; break;
          case KEY.s:
            scope = ve === va ? 0 : ve - va === 1 && (b[va] === 116 || b[va] === 103) ? b[va]
              : Table.SCOPE_OTHER;
            break;
          case KEY.bp: bp = ve - va === 1 && b[va] === 101 ? 1 : 0; break;
          case 0: break;
          default: return -1; // ts as a string, args as one, ...: JSON.parse's path
        }
        return i;
      }
      if (c === MINUS || (c >= 48 && c <= 57)) {
        if ((i = number(b, i, end)) < 0) return -1;
        switch (key) {
          case KEY.ts: ts = ns; break;
          case KEY.dur: dur = ns; break;
          case KEY.pid:
            if (num !== lastPid) {
              lastPid = num;
              lastPidId = t.values.get(num);
            }
            pid = lastPidId;
            break;
          case KEY.tid:
            if (num !== lastTid) {
              lastTid = num;
              lastTidId = t.values.get(num);
            }
            tid = lastTidId;
            break;
          case KEY.bind_id: case KEY.id: {
            let kid = numKeys.get(num);
            if (kid === undefined) numKeys.set(num, kid = t.keys.get(String(num)));
            if (key === KEY.id) {
              id = kid;
              bits &= ~Table.ID_STR;
            } else {
              bind = kid;
              bits &= ~Table.BIND_STR;
            }
            break;
          }
          case KEY.s: scope = num ? Table.SCOPE_OTHER : 0; break;
          case 0: case KEY.flow_in: case KEY.flow_out: case KEY.bp: case KEY.args: break;
          default: return -1;
        }
        return i;
      }
      if (c === OPEN_BRACE) {
        if (key === KEY.args) {
          argsA = i;
          argsE = args(b, i, end);
          return argsE;
        }
        if (key === 0) return flatObject(b, i, end);
        return -1;
      }
      if ((i = literal(b, i, end)) < 0) return -1; // an array, or not JSON
      switch (key) {
        case KEY.flow_in: if (lit === true) bits |= Table.FLOW_IN; break;
        case KEY.flow_out: if (lit === true) bits |= Table.FLOW_OUT; break;
        case KEY.s: scope = lit === true ? Table.SCOPE_OTHER : 0; break;
        case 0: case KEY.args: case KEY.bp: break;
        default: return -1;
      }
      return i;
    }

    // An object of plain values (skipped): returns the index after it.
    function flatObject(b, i, end) {
      i = ws(b, i + 1, end);
      if (b[i] === CLOSE_BRACE) return i + 1;
      for (;;) {
        if (b[i] !== QUOTE || (i = string(b, i, end)) < 0) return -1;
        i = ws(b, i, end);
        if (b[i] !== COLON) return -1;
        i = ws(b, i + 1, end);
        const c = b[i];
        if (c === QUOTE) i = string(b, i, end);
        else if (c === MINUS || (c >= 48 && c <= 57)) i = number(b, i, end);
        else i = literal(b, i, end);
        if (i < 0) return -1;
        i = ws(b, i, end);
        if (b[i] === COMMA) {
          i = ws(b, i + 1, end);
          continue;
        }
        return b[i] === CLOSE_BRACE ? i + 1 : -1;
      }
    }

    // The event goes into the table; of its text only args is kept: the
    // rest is in the columns (Table.event puts it back together).
    function commit(b, isCounter) {
      if (t.n === t.cap) Table.reserve(t, 1);
      const k = t.n++;
      t.ph[k] = ph;
      t.ts[k] = ts;
      t.dur[k] = dur;
      t.name[k] = name;
      t.cat[k] = cat;
      t.pid[k] = pid;
      t.tid[k] = tid;
      t.kind[k] = kind;
      t.cut[k] = cut;
      t.bits[k] = bits;
      t.bind[k] = bind;
      t.id[k] = id;
      t.scope[k] = scope;
      t.bp[k] = bp;
      t.cargs[k] = -1;
      if (isCounter) {
        t.cargs[k] = t.cLen;
        for (let p = 0; p < pairs; p += 2)
          Table.counterPair(t, strings(b, pairKey[p], pairKey[p + 1]), pairVal[p]);
        Table.counterPair(t, -1, 0);
      }
      t.line[k] = argsA < 0 ? -1 : Table.keepText(t, b, argsA, argsE);
    }

    return (b, i, end) => {
      const e = fastLine(b, i, end);
      return e >= 0 ? e : scanLine(b, i, end);
    };
  }

  // Returns {push(bytes), finish(), count(), bytes()}; finish() gives
  // {table, otherData, warnings, error, lineByLine}, what parseTrace gives
  // but with a Table for the events. With the file's size (`size`, 0 if
  // unknown) the table is given its room once, after the first batch says
  // how many bytes an event takes; bytes() then says what the whole table
  // will take, so that a trace over `budget` is known at once.
  //
  // `helper` (optional): another thread that scans every other batch of
  // whole lines once `helper.from` bytes have come, so that two cores read
  // a big trace: helper.post(bytes) sends it a batch, helper.collect()
  // gives a promise of {table (a Table message), counts (events per
  // batch), fallback (a batch it could not read)}; call drain() before
  // finish() and finish() puts the events back in the file's order.
  function createStreamScanner(size = 0, budget = Infinity, helper = null) {
    const chunks = [];
    let kept = 0;
    let fast = true;
    let opened = false;
    let closed = false;
    let trailingComma = false; // the last line read ended with ','
    let t = Table.create();
    let scanLine = newLineReader(t);
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();

    function fallback() {
      fast = false;
    }

    // The file's order: runs of events read here and batches sent to the
    // helper, [here (count), helper (batch), ...].
    const segments = [];
    let segStart = 0, batches = 0, helped = null;

    // Bytes are gathered in one buffer of about BATCH (fetch hands over
    // 64 KB pieces) and read up to its last whole line; what is left (a
    // line not yet whole) moves to the buffer's start. One copy of each
    // byte, no allocation per batch.
    let buf = new Uint8Array(BATCH);
    let bufLen = 0;
    let read = 0; // bytes of whole lines read
    let estimate = 0; // the bytes of the whole file's table, once known
    function push(bytes, last) {
      kept += bytes.length;
      if (kept <= KEEP_LIMIT) chunks.push(bytes);
      else chunks.length = 0;
      let at = 0;
      while (fast && at < bytes.length) {
        const n = Math.min(bytes.length - at, buf.length - bufLen);
        buf.set(at === 0 && n === bytes.length ? bytes : bytes.subarray(at, at + n), bufLen);
        bufLen += n;
        at += n;
        if (bufLen === buf.length) batch(true);
      }
      if (fast && last && bufLen > 0) batch(false);
    }

    // Reads the whole lines in the buffer; finish() reads what is left.
    function batch(mayHelp) {
      const s = buf;
      const nl = s.lastIndexOf(NL, bufLen - 1);
      let end = nl + 1;
      if (nl >= 0) {
        // A last line without its ',' is the last event: wait for the ']'.
        let j = nl;
        while (j > 0 && isSpace(s[j - 1])) j--;
        const ch = j > 0 ? s[j - 1] : COMMA;
        if (ch !== COMMA && ch !== CLOSE_BRACKET && ch !== OPEN_BRACKET)
          end = s.lastIndexOf(NL, j - 1) + 1;
      }
      if (end > 0 && mayHelp && helper !== null && opened && !closed && kept >= helper.from &&
          batches++ % 2 === 0 && isCommaLine(s, end)) {
        // Whole lines ending in ',', neither the first nor the last: every
        // other batch after the first is the helper's. (A copy: the buffer
        // is reused.)
        segments.push(true, t.n - segStart, false, 0);
        helper.post(s.slice(0, end));
        segStart = t.n;
        read += end;
        s.copyWithin(0, end, bufLen);
        bufLen -= end;
      } else if (end > 0) {
        lines(s, 0, end);
        read += end;
        s.copyWithin(0, end, bufLen);
        bufLen -= end;
      }
      if (bufLen === buf.length) { // one line longer than the buffer
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
      if (size > 0 && estimate === 0 && fast && t !== null && t.n >= 1000) {
        const events = Math.ceil((t.n * size) / read * 1.02);
        estimate = events * Table.bytesPerEvent(t);
        if (estimate < budget) Table.reserve(t, events - t.n, true);
      }
    }

    // Whether s[0, end) ends with a line ending in ','.
    function isCommaLine(s, end) {
      let j = end;
      while (j > 0 && isSpace(s[j - 1])) j--;
      return j > 0 && s[j - 1] === COMMA;
    }

    // Reads a run of whole lines, s[a, b).
    function lines(s, a, b) {
      while (a < b && isSpace(s[a])) a++;
      while (b > a && isSpace(s[b - 1])) b--;
      if (a === b) return;
      if (closed) return fallback(); // something after the closing ']'
      if (!opened) {
        if (s[a] !== OPEN_BRACKET) return fallback();
        opened = true;
        a++;
        while (a < b && isSpace(s[a])) a++;
        if (a === b) return;
      }
      if (s[b - 1] === CLOSE_BRACKET) {
        closed = true;
        b--;
        while (b > a && isSpace(s[b - 1])) b--;
        if (a === b) {
          if (trailingComma) fallback(); // "[...,\n]": let parseTrace judge
          return;
        }
      }
      trailingComma = s[b - 1] === COMMA;
      if (trailingComma) b--;
      else if (!closed) return fallback(); // a line without its ','
      events(s, a, b);
    }

    // Reads `{...},\n{...}` (no final comma) in s[a, b).
    function events(s, a, b) {
      let i = a;
      while (i < b) {
        if (s[i] !== OPEN_BRACE) return fallback();
        let e = scanLine(s, i, b);
        if (e < 0) {
          // JSON.parse reads this line (its text up to the ',' ending it).
          let lineEnd = s.indexOf(NL, i);
          if (lineEnd < 0 || lineEnd > b) lineEnd = b;
          let te = lineEnd;
          while (te > i && isSpace(s[te - 1])) te--;
          if (te > i && s[te - 1] === COMMA && te < b) te--;
          let ev;
          try {
            ev = JSON.parse(decoder.decode(s.subarray(i, te)));
          } catch (err) {
            return fallback();
          }
          if (ev === null || typeof ev !== "object" || Array.isArray(ev)) return fallback();
          Table.add(t, ev, Table.keepText(t, s, i, te));
          e = te;
        }
        i = e;
        while (i < b && isSpace(s[i])) i++;
        if (i === b) return;
        if (s[i] !== COMMA) return fallback();
        i++;
        while (i < b && isSpace(s[i])) i++;
      }
    }

    // Waits for the helper's batches (before finish()).
    async function drain() {
      push(new Uint8Array(0), true);
      if (helper !== null && segments.length > 0) helped = await helper.collect();
    }

    function finish() {
      push(new Uint8Array(0), true);
      const tail = fast ? buf.slice(0, bufLen) : null;
      buf = null;
      if (fast && tail.length > 0 && !isBlank(tail)) {
        // The last line had no newline: whole (`]`, or an event and `]`) or
        // cut short (then parseTrace's repair is the rule).
        let z = tail.length;
        while (z > 0 && isSpace(tail[z - 1])) z--;
        if (tail[z - 1] === CLOSE_BRACKET) {
          const nl = new Uint8Array(tail.length + 1);
          nl.set(tail);
          nl[tail.length] = NL;
          lines(nl, 0, nl.length);
        } else {
          cutTail(tail);
        }
      }
      if (helped !== null && fast) {
        if (helped.fallback) fallback();
        else Table.interleave(t, segments.concat(true, t.n - segStart), helped.table, helped.counts);
      }
      if (fast && opened && closed && t.n > 0) {
        Table.trim(t);
        return { table: t, otherData: null, warnings: [], error: null, lineByLine: true };
      }
      if (fast && opened && !closed && trailingComma && t.n > 0) {
        // Cut right after a line: every event read is whole.
        Table.trim(t);
        return { table: t, otherData: null, error: null, lineByLine: true, warnings: [
          `file ends without ']' (recording cut short?); read ${t.n} events`] };
      }
      if (kept > KEEP_LIMIT) {
        return { table: null, otherData: null, warnings: [], error:
          `this ${(kept / 1e6).toFixed(0)} MB file is not all in the one-event-per-line ` +
          `layout, and is too large (over ${KEEP_LIMIT / 1e6} MB) to read as one string` };
      }
      t = null;
      const text = decoder.decode(join(chunks));
      const parsed = Parse.parseTrace(text);
      return { table: parsed.error ? null : Table.fromObjects(parsed.events),
               otherData: parsed.otherData, warnings: parsed.warnings, error: parsed.error };
    }

    // The file was cut inside its last line: keep its complete events, as
    // repair() would on the whole text (everything before it is whole).
    function cutTail(tail) {
      const text = decoder.decode(tail);
      const fixed = Parse.repair("[" + text, 0);
      let rest = null;
      try {
        rest = fixed === null ? null : JSON.parse(fixed.text);
      } catch (e) {
        rest = null;
      }
      if (fixed === null && opened && /^\s*\{/.test(text)) rest = []; // half an event
      if (rest === null || !opened) return fallback();
      for (const ev of rest)
        if (ev === null || typeof ev !== "object" || Array.isArray(ev)) return fallback();
      for (const ev of rest) {
        const text = encoder.encode(JSON.stringify(ev));
        Table.add(t, ev, Table.keepText(t, text, 0, text.length));
      }
      trailingComma = true; // whatever the tail was, the file was cut
    }

    // How many events have been read so far, and the bytes they hold.
    const count = () => (t ? t.n : 0);
    const bytes = () => (t ? Math.max(Table.bytes(t), estimate) : 0);

    // For a helper: reads whole lines from the middle of a file (after
    // its '[', ending in ','); returns how many events they held, or -1
    // when they are not in the layout.
    function readLines(bytes) {
      opened = true;
      const n0 = t.n;
      lines(bytes, 0, bytes.length);
      return fast ? t.n - n0 : -1;
    }
    const table = () => t;
    // How many batches the helper read.
    const helpedBatches = () => segments.length / 4;

    return { push, drain, finish, count, bytes, readLines, table, helpedBatches };
  }

  function join(list) {
    if (list.length === 1) return list[0];
    let n = 0;
    for (const c of list) n += c.length;
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of list) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  function isBlank(b) {
    for (let i = 0; i < b.length; i++) if (!isSpace(b[i])) return false;
    return true;
  }

  return { createStreamScanner };
})();
