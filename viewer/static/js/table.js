// table.js — the events of a trace as columns: one typed array per field
// the model reads (ph, ts and dur in ns, name, cat, pid, tid, args.kind,
// the cut flags, flow ids and bits, scope), so a 5M-event trace costs tens
// of bytes an event instead of a JS object each. scan.js fills it from
// bytes; add() fills it from a parsed event (the fallback, and files that
// are not one event a line). The whole event, for the few places that
// need more than the columns (details, metadata, B/E args), is event(k):
// the object, or its JSON text (kept in an arena of bytes) parsed again.
"use strict";

const Table = (() => {
  // bits: flow_in / flow_out are true; name or cat absent (an E without a
  // name matches any B); the id came from id2; only the event's args are
  // kept as text (the rest is in the columns); bind_id or id was a string.
  const FLOW_IN = 1, FLOW_OUT = 2, NO_NAME = 4, NO_CAT = 8, ID2 = 16, ARGS_ONLY = 32,
    BIND_STR = 64, ID_STR = 128;
  const SCOPE_OTHER = 1; // an "s" that is neither "t" nor "g"
  const ARENA_CHUNK = 1 << 25;
  const NL = 10, QUOTE = 34, BACKSLASH = 92, OPEN = 123, CLOSE = 125,
    OPEN_BRACKET = 91, CLOSE_BRACKET = 93;

  // Strings (or any values, as Map keys) to ids; `list` by id. Made from
  // a list (distinct values: a table message's), its Map is made when first
  // needed: the page never looks up the flow ids of a trace (430k at 5M
  // events, a Map that took its thread a tenth of a second).
  function newIntern(list = []) {
    let ids = null;
    const index = () => {
      ids = new Map();
      for (let i = 0; i < list.length; i++) ids.set(list[i], i);
      return ids;
    };
    const get = (v) => {
      const map = ids || index();
      let id = map.get(v);
      if (id === undefined) {
        id = list.length;
        list.push(v);
        map.set(v, id);
      }
      return id;
    };
    return { list, get ids() { return ids || index(); }, get };
  }

  const COLUMNS = {
    ph: Uint8Array, ts: Float64Array, dur: Float64Array, name: Int32Array,
    cat: Int32Array, pid: Int32Array, tid: Int32Array, kind: Int32Array,
    cut: Uint8Array, bits: Uint8Array, bind: Int32Array, id: Int32Array,
    scope: Uint8Array, bp: Uint8Array, line: Float64Array, cargs: Int32Array,
  };

  // An empty table. Strings (names, cats, counter keys) and keys (flow
  // ids, ids, always as strings) are interned apart: search looks at
  // every string, and a trace has a flow id per task.
  function create() {
    const t = {
      n: 0, cap: 0, objects: null,
      strings: newIntern(), keys: newIntern(), values: newIntern(), phs: newIntern(),
      arena: [], arenaAt: 0, arenaBytes: 0, // the events' text (keepText)
      cKey: new Int32Array(1024), cVal: new Float64Array(1024), cLen: 0,
      // The columns (COLUMNS), fields from the start: properties added by
      // computed names would make `t` a dictionary, slow in the hot loops.
      ph: null, ts: null, dur: null, name: null, cat: null, pid: null, tid: null,
      kind: null, cut: null, bits: null, bind: null, id: null, scope: null, bp: null,
      line: null, cargs: null,
    };
    t.strings.get(""); // id 0: an absent name or cat reads as ""
    reserve(t, 1024);
    return t;
  }

  // Makes room for `more` events.
  // (Twice the room it has, at least; exactly `more` with `exact`.)
  function reserve(t, more, exact) {
    if (t.n + more <= t.cap) return;
    const cap = exact ? t.n + more : Math.max(t.n + more, t.cap * 2);
    for (const [key, Type] of Object.entries(COLUMNS)) {
      const a = new Type(cap);
      if (t[key]) a.set(t[key].subarray(0, t.n));
      t[key] = a;
    }
    t.cap = cap;
  }

  // Ends the columns at the last event: views, not copies (a copy of a
  // 5M-event table costs a third of a second; the room left is a few %).
  function trim(t) {
    for (const key of Object.keys(COLUMNS)) t[key] = t[key].subarray(0, t.n);
    t.cap = t.n;
  }

  // Bytes an event takes in the columns, and its text so far on average.
  function bytesPerEvent(t) {
    let b = 0;
    for (const Type of Object.values(COLUMNS)) b += Type.BYTES_PER_ELEMENT;
    return b + (t.n > 0 ? t.arenaBytes / t.n : 0);
  }

  // Bytes the table holds (for the tab's budget).
  function bytes(t) {
    let b = 0;
    for (const key of Object.keys(COLUMNS)) b += t[key].byteLength;
    for (const c of t.arena) b += c.byteLength;
    return b + t.cKey.byteLength + t.cVal.byteLength;
  }

  // Keeps bytes a..e of b, a JSON object (an event, or its args); returns
  // where it went. Chunks grow from 64 KB to 32 MB; an offset is
  // chunk × 2^32 + where.
  function keepText(t, b, a, e) {
    const len = e - a + 1;
    let chunk = t.arena[t.arena.length - 1];
    if (!chunk || t.arenaAt + len > chunk.length) {
      chunk = new Uint8Array(Math.max(len, Math.min(ARENA_CHUNK, Math.max(65536, 2 * (chunk ? chunk.length : 0)))));
      t.arena.push(chunk);
      t.arenaAt = 0;
    }
    const at = t.arenaAt;
    if (len < 64) for (let i = a; i < e; i++) chunk[at + i - a] = b[i];
    else chunk.set(e - a === b.length ? b : b.subarray(a, e), at);
    chunk[at + len - 1] = NL;
    t.arenaAt += len;
    t.arenaBytes += len;
    return (t.arena.length - 1) * 2 ** 32 + at;
  }

  const decoder = new TextDecoder();

  // Event k as an object (parsed again from its text: not for hot loops).
  function event(t, k) {
    if (t.objects) return t.objects[k];
    if (!(t.bits[k] & ARGS_ONLY)) return text(t, t.line[k]);
    return columnsEvent(t, k);
  }

  // The object kept by keepText at `off`.
  function text(t, off) {
    const chunk = t.arena[Math.floor(off / 2 ** 32)];
    const a = off % 2 ** 32;
    return JSON.parse(decoder.decode(chunk.subarray(a, objectEnd(chunk, a))));
  }

  // Event k put back together from its columns and its args' text, its
  // keys in the order the tracer writes them (TRACE-FORMAT.md).
  function columnsEvent(t, k) {
    const bits = t.bits[k];
    const ev = {};
    if (!(bits & NO_NAME)) ev.name = t.strings.list[t.name[k]];
    if (!(bits & NO_CAT)) ev.cat = t.strings.list[t.cat[k]];
    ev.ph = t.phs.list[t.ph[k]];
    const sc = t.scope[k];
    if (sc) ev.s = sc === SCOPE_OTHER ? "p" : String.fromCharCode(sc);
    if (!Number.isNaN(t.ts[k])) ev.ts = t.ts[k] / 1000;
    if (!Number.isNaN(t.dur[k])) ev.dur = t.dur[k] / 1000;
    if (t.pid[k] >= 0) ev.pid = t.values.list[t.pid[k]];
    if (t.tid[k] >= 0) ev.tid = t.values.list[t.tid[k]];
    if (t.id[k] >= 0) ev.id = key(t, t.id[k], bits & ID_STR);
    if (t.bp[k]) ev.bp = "e";
    if (t.line[k] >= 0) ev.args = text(t, t.line[k]);
    if (t.bind[k] >= 0) ev.bind_id = key(t, t.bind[k], bits & BIND_STR);
    if (bits & FLOW_IN) ev.flow_in = true;
    if (bits & FLOW_OUT) ev.flow_out = true;
    return ev;
  }

  // A flow id or id as it was written: a string, or a number.
  const key = (t, id, isString) => (isString ? t.keys.list[id] : Number(t.keys.list[id]));

  // The index after the JSON object starting at b[a] (its `{`).
  function objectEnd(b, a) {
    let depth = 0;
    for (let i = a; i < b.length; i++) {
      const c = b[i];
      if (c === QUOTE) {
        for (i++; b[i] !== QUOTE; i++) if (b[i] === BACKSLASH) i++;
      } else if (c === OPEN || c === OPEN_BRACKET) {
        depth++;
      } else if ((c === CLOSE || c === CLOSE_BRACKET) && --depth === 0) {
        return i + 1;
      }
    }
    return b.length;
  }

  // A counter sample's (key, value) pairs go in a pool: cargs[k] is where
  // they start, ended by key -1.
  function counterPair(t, key, val) {
    if (t.cLen + 2 > t.cKey.length) {
      const keys = new Int32Array(t.cKey.length * 2), vals = new Float64Array(t.cKey.length * 2);
      keys.set(t.cKey);
      vals.set(t.cVal);
      t.cKey = keys;
      t.cVal = vals;
    }
    t.cKey[t.cLen] = key;
    t.cVal[t.cLen++] = val;
  }

  function toNs(v) {
    const n = typeof v === "number" ? v : Number(v);
    return Number.isFinite(n) ? Math.round(n * 1000) : NaN;
  }

  // The cut flags of an event's args (TRACE-FORMAT.md, "Cut spans").
  const CUT_END = 1, CUT_START = 16;
  function cutFlags(args) {
    switch (args[Vocab.ARG.CUT]) {
      case Vocab.CUT.END: return CUT_END;
      case Vocab.CUT.START: return CUT_START;
      case Vocab.CUT.BOTH: return CUT_END | CUT_START;
      default: return args[Vocab.ARG.INCOMPLETE] === true ? CUT_END : 0;
    }
  }

  const str = (s) => (s === undefined || s === null ? "" : String(s));

  // Appends parsed event `ev`. A table of objects (fromObjects) keeps it;
  // else `line` is where keepText() put its text.
  function add(t, ev, line) {
    reserve(t, 1);
    const k = t.n++;
    t.ph[k] = t.phs.get(ev.ph);
    t.ts[k] = toNs(ev.ts);
    t.dur[k] = ev.dur === undefined ? NaN : toNs(ev.dur);
    t.name[k] = t.strings.get(str(ev.name));
    t.cat[k] = t.strings.get(str(ev.cat));
    t.pid[k] = ev.pid === undefined ? -1 : t.values.get(ev.pid);
    t.tid[k] = ev.tid === undefined ? -1 : t.values.get(ev.tid);
    let bits = (ev.flow_in === true ? FLOW_IN : 0) | (ev.flow_out === true ? FLOW_OUT : 0) |
      (ev.name === undefined ? NO_NAME : 0) | (ev.cat === undefined ? NO_CAT : 0);
    t.bind[k] = ev.bind_id === undefined ? -1 : t.keys.get(String(ev.bind_id));
    if (ev.id !== undefined) {
      t.id[k] = t.keys.get(String(ev.id));
    } else if (ev.id2) {
      t.id[k] = t.keys.get(String(ev.id2.local !== undefined ? ev.id2.local : ev.id2.global));
      bits |= ID2;
    } else {
      t.id[k] = -1;
    }
    t.bits[k] = bits;
    t.scope[k] = !ev.s ? 0 : ev.s === "t" || ev.s === "g" ? ev.s.charCodeAt(0) : SCOPE_OTHER;
    t.bp[k] = ev.bp === "e" ? 1 : 0;
    const args = ev.args;
    t.kind[k] = -1;
    t.cut[k] = 0;
    if (args !== undefined && args !== null) {
      if (args[Vocab.ARG.KIND] !== undefined) t.kind[k] = t.values.get(args[Vocab.ARG.KIND]);
      if (args[Vocab.ARG.CUT] !== undefined || args[Vocab.ARG.INCOMPLETE] !== undefined)
        t.cut[k] = cutFlags(args);
    }
    t.cargs[k] = -1;
    if (ev.ph === "C") {
      t.cargs[k] = t.cLen;
      for (const key in args) counterPair(t, t.strings.get(key), Number(args[key]));
      counterPair(t, -1, 0);
    }
    if (t.objects) t.objects[k] = ev;
    else t.line[k] = line;
    return k;
  }

  // A table of parsed events (parseTrace's array).
  function fromObjects(events) {
    const t = create();
    t.objects = new Array(events.length);
    reserve(t, events.length);
    for (let k = 0; k < events.length; k++) add(t, events[k]);
    return t;
  }

  // Table `t` as a message for postMessage, and the buffers to transfer
  // with it (its columns move, not copied); fromMessage() makes the table
  // again on the other side.
  function toMessage(t) {
    const m = { n: t.n, cap: t.cap, objects: t.objects, arena: t.arena, arenaAt: t.arenaAt,
                arenaBytes: t.arenaBytes, cKey: t.cKey, cVal: t.cVal, cLen: t.cLen };
    for (const name of ["strings", "keys", "values", "phs"]) m[name] = t[name].list;
    const transfer = [t.cKey.buffer, t.cVal.buffer];
    for (const c of t.arena) transfer.push(c.buffer);
    for (const key of Object.keys(COLUMNS)) {
      m[key] = t[key];
      if (!transfer.includes(t[key].buffer)) transfer.push(t[key].buffer);
    }
    return { message: m, transfer };
  }

  function fromMessage(m) {
    const t = create();
    for (const name of ["strings", "keys", "values", "phs"]) t[name] = newIntern(m[name]);
    for (const key of ["n", "cap", "objects", "arena", "arenaAt", "arenaBytes", "cKey", "cVal",
                       "cLen"].concat(Object.keys(COLUMNS))) t[key] = m[key];
    return t;
  }

  // Puts the events of table message `hm` (a helper's: batches of the
  // same file) among those of `t`, in the file's order: `segments` is
  // [isT, count, ...] in that order, a helper batch's count being
  // counts[its index] (the other count is ignored). t's events move up,
  // from the last run, to make room; hm's ids become t's.
  function interleave(t, segments, hm, counts) {
    const ids = (name) => Int32Array.from(hm[name], (v) => t[name].get(v));
    const str = ids("strings"), ph = ids("phs"), val = ids("values"), key = ids("keys");
    const chunkShift = t.arena.length * 2 ** 32;
    for (const c of hm.arena) t.arena.push(c);
    if (hm.arena.length > 0) t.arenaAt = hm.arenaAt; // the last chunk is hm's
    t.arenaBytes += hm.arenaBytes;
    const pool = t.cLen;
    for (let p = 0; p < hm.cLen; p++) counterPair(t, hm.cKey[p] < 0 ? -1 : str[hm.cKey[p]], hm.cVal[p]);
    let total = 0, helperN = 0;
    const seg = [];
    for (let x = 0, b = 0; x < segments.length; x += 2) {
      const count = segments[x] ? segments[x + 1] : counts[b++];
      seg.push(segments[x], count, total);
      total += count;
      if (!segments[x]) helperN += count;
    }
    reserve(t, helperN, true);
    // From the last run: t's runs move up (never onto one not moved yet),
    // hm's are copied in with their ids mapped.
    let tAt = t.n, hAt = hm.n;
    // hm's events [from, from + count) to t's [to, ...), their ids mapped.
    // The columns are locals: hm, a message, is a dictionary, and a look
    // up of each column for each event made this 5 times slower.
    const copyMapped = (t, to, hm, from, count) => {
      const { ph: tPh, ts: tTs, dur: tDur, name: tName, cat: tCat, pid: tPid, tid: tTid,
              kind: tKind, cut: tCut, bits: tBits, bind: tBind, id: tId, scope: tScope,
              bp: tBp, line: tLine, cargs: tCargs } = t;
      const { ph: hPh, ts: hTs, dur: hDur, name: hName, cat: hCat, pid: hPid, tid: hTid,
              kind: hKind, cut: hCut, bits: hBits, bind: hBind, id: hId, scope: hScope,
              bp: hBp, line: hLine, cargs: hCargs } = hm;
      for (let i = 0; i < count; i++) {
        const k = to + i, j = from + i;
        tPh[k] = ph[hPh[j]];
        tTs[k] = hTs[j];
        tDur[k] = hDur[j];
        tName[k] = str[hName[j]];
        tCat[k] = str[hCat[j]];
        tPid[k] = hPid[j] < 0 ? hPid[j] : val[hPid[j]];
        tTid[k] = hTid[j] < 0 ? hTid[j] : val[hTid[j]];
        tKind[k] = hKind[j] < 0 ? hKind[j] : val[hKind[j]];
        tCut[k] = hCut[j];
        tBits[k] = hBits[j];
        tBind[k] = hBind[j] < 0 ? hBind[j] : key[hBind[j]];
        tId[k] = hId[j] < 0 ? hId[j] : key[hId[j]];
        tScope[k] = hScope[j];
        tBp[k] = hBp[j];
        tLine[k] = hLine[j] < 0 ? -1 : hLine[j] + chunkShift;
        tCargs[k] = hCargs[j] < 0 ? -1 : hCargs[j] + pool;
      }
    };
    for (let x = seg.length - 3; x >= 0; x -= 3) {
      const count = seg[x + 1], to = seg[x + 2];
      if (seg[x]) {
        tAt -= count;
        if (to !== tAt) for (const name of Object.keys(COLUMNS)) t[name].copyWithin(to, tAt, tAt + count);
        continue;
      }
      hAt -= count;
      copyMapped(t, to, hm, hAt, count);
    }
    t.n = total;
  }

  return {
    FLOW_IN, FLOW_OUT, NO_NAME, NO_CAT, ID2, ARGS_ONLY, BIND_STR, ID_STR, SCOPE_OTHER,
    CUT_END, CUT_START,
    create, reserve, trim, bytes, bytesPerEvent, keepText, event, counterPair, add, fromObjects,
    cutFlags, toNs, toMessage, fromMessage, interleave,
  };
})();
