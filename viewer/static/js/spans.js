// spans.js — the model's span store and the stage that fills it: every
// span (an X event, a B/E pair, a b/e pair, an instant) becomes one index
// into typed arrays (start, end, name, cat, lane, row, depth, parent, Σ
// children, event, colour, flags). Pairs are matched here; rows and depth
// are nest.js's.
"use strict";

const Spans = (() => {
  // FLAG_CUT_END / FLAG_CUT_START: the recording's limits cut the span
  // (args "cut": "end" | "start" | "both", or the legacy "incomplete": true
  // = "end"); its duration is what was seen, a lower bound.
  // FLAG_UNENDED: from a B with no E (drawn to the end, or to an E that
  // closed an outer B); a span with no known end, left out of figures.
  // (The cut flags are those Table.cutFlags reads from args.)
  const FLAG_CUT_END = Table.CUT_END, FLAG_OVERFLOW = 2, FLAG_INSTANT = 4,
    FLAG_UNENDED = 8, FLAG_CUT_START = Table.CUT_START;
  const FLAG_CUT = FLAG_CUT_END | FLAG_CUT_START;

  // "start", "end", "both" or null, from a span's flags.
  function cutOf(flags) {
    const c = flags & FLAG_CUT;
    return c === FLAG_CUT ? Vocab.CUT.BOTH : c === FLAG_CUT_END ? Vocab.CUT.END
      : c === FLAG_CUT_START ? Vocab.CUT.START : null;
  }

  // Returns an empty store with room for every span ingest result `r`
  // found (an upper bound: every X, B, instant and b).
  function create(r) {
    let cap = 0;
    for (const t of r.threads.values()) cap += t.x.length + t.be.length + t.inst.length;
    for (const list of r.asyncs.values()) cap += list.length;
    for (const list of r.markers.values()) cap += list.length;
    const S = {
      n: 0,
      start: new Float64Array(cap),
      end: new Float64Array(cap),
      name: new Int32Array(cap),
      cat: new Int32Array(cap),
      lane: new Int32Array(cap),
      row: new Int32Array(cap),
      depth: new Int32Array(cap),
      parent: new Int32Array(cap),
      child: new Float64Array(cap), // Σ dur of direct children
      ev: new Int32Array(cap),
      colour: new Uint8Array(cap),
      flags: new Uint8Array(cap),
    };
    return {
      S, r,
      endEv: new Map(), // span of a B/E or b/e pair -> index of its end event
      spanOfEvent: new Int32Array(r.n).fill(-1),
      colours: [], // css colours, indexed by S.colour
      colourIds: new Map(),
      colourCache: new Map(), // cat -> (name, kind, instant) -> colour index
      unmatched: { e: 0, open: 0, asyncOpen: 0 },
    };
  }

  // Adds the span of event k on lane laneIdx; returns its index.
  function add(st, k, ts, end, laneIdx, flags) {
    const S = st.S, r = st.r;
    const s = S.n++;
    S.start[s] = ts - r.origin;
    S.end[s] = end - r.origin;
    S.name[s] = r.nameOf[k];
    S.cat[s] = r.catOf[k];
    S.lane[s] = laneIdx;
    S.ev[s] = k;
    S.flags[s] = flags;
    S.parent[s] = -1;
    st.spanOfEvent[k] = s;
    S.colour[s] = colourOf(st, k, s, flags);
    return s;
  }

  // The colour index of span s (event k): a cache per category keyed by a
  // small integer (a string key per span would churn the GC at 1M spans).
  function colourOf(st, k, s, flags) {
    const S = st.S, r = st.r;
    const kindId = r.kindOf[k];
    const instant = flags & FLAG_INSTANT ? 1 : 0;
    let byCat = st.colourCache.get(S.cat[s]);
    if (!byCat) st.colourCache.set(S.cat[s], byCat = new Map());
    const key = S.name[s] < 262144 && kindId < 1024
      ? (S.name[s] * 1024 + kindId) * 2 + instant
      : `${S.name[s]}:${kindId}:${instant}`;
    let c = byCat.get(key);
    if (c === undefined) {
      const bits = r.table.bits[k];
      const css = instant ? Theme.INSTANT_COLOUR
        : Theme.spanColour(bits & Table.NO_CAT ? undefined : r.strings[S.cat[s]],
                           bits & Table.NO_NAME ? "undefined" : r.strings[S.name[s]],
                           r.kindNames[kindId]);
      c = st.colourIds.get(css);
      if (c === undefined) {
        c = st.colours.length;
        st.colours.push(css);
        st.colourIds.set(css, c);
      }
      byCat.set(key, c);
    }
    return c;
  }

  function instant(st, k, laneIdx) {
    const ts = st.r.tsNs[k];
    return add(st, k, ts, ts, laneIdx, FLAG_INSTANT);
  }

  // The spans of one thread: X events, B/E pairs, thread instants (an
  // Int32Array: an array grown a span at a time, millions of them, cost a
  // tenth of the model's time in copies and garbage collection).
  function ofThread(st, t, laneIdx) {
    const r = st.r;
    const x = t.x, inst = t.inst, tsNs = r.tsNs, durNs = r.durNs, cut = r.cut;
    const ids = new Int32Array(x.length + inst.length + t.be.length);
    let n = 0;
    for (let i = 0; i < x.length; i++) {
      const k = x[i];
      ids[n++] = add(st, k, tsNs[k], tsNs[k] + durNs[k], laneIdx, cut[k]);
    }
    for (let i = 0; i < inst.length; i++) ids[n++] = instant(st, inst[i], laneIdx);
    if (t.be.length > 0) {
      const pairs = [];
      pairBeginEnd(st, t.be, laneIdx, pairs);
      ids.set(pairs, n);
      n += pairs.length;
    }
    return ids.subarray(0, n);
  }

  // B/E: an E closes the innermost open B whose name and cat match those
  // the E gives (any B when it gives none), like Perfetto. B/E timestamps
  // must grow within a thread; a stable sort by ts forgives files that
  // are not quite in order.
  function pairBeginEnd(st, list, laneIdx, ids) {
    const r = st.r, t = r.table;
    const ts = list.map((k) => r.tsNs[k]);
    const order = list.map((_, i) => i);
    order.sort((a, b) => ts[a] - ts[b] || a - b);
    const open = [];
    const B = t.phs.ids.get("B");
    for (const i of order) {
      const k = list[i];
      if (t.ph[k] === B) {
        open.push(i);
        continue;
      }
      let j = open.length - 1;
      const anyName = t.bits[k] & Table.NO_NAME, anyCat = t.bits[k] & Table.NO_CAT;
      const matches = (b) =>
        (anyName || (!(t.bits[b] & Table.NO_NAME) && t.name[b] === t.name[k])) &&
        (anyCat || (!(t.bits[b] & Table.NO_CAT) && t.cat[b] === t.cat[k]));
      while (j >= 0 && !matches(list[open[j]])) j--;
      if (j < 0) {
        st.unmatched.e++;
        continue;
      }
      // Slices left open above the match end here too (Perfetto truncates).
      while (open.length > j) {
        const b = open.pop();
        const never = open.length > j; // not the one this E ends
        if (never) st.unmatched.open++;
        const s = add(st, list[b], ts[b], ts[i], laneIdx,
                      never ? FLAG_CUT_END | FLAG_UNENDED : r.cut[list[b]]);
        st.endEv.set(s, k);
        st.spanOfEvent[k] = s;
        ids.push(s);
      }
    }
    for (const b of open) {
      st.unmatched.open++;
      ids.push(add(st, list[b], ts[b], r.maxEnd, laneIdx, FLAG_CUT_END | FLAG_UNENDED));
    }
  }

  // Async b/e pairs of one process, matched on (cat, id, name) as catapult
  // does.
  function ofAsync(st, list, laneIdx) {
    const r = st.r;
    const open = new Map();
    const ids = [];
    const t = r.table;
    const BEGIN = t.phs.ids.get("b");
    for (const k of list) {
      // (cat, id, name), an absent one as -1
      const key = `${t.bits[k] & Table.NO_CAT ? -1 : t.cat[k]}\0${t.id[k]}\0` +
        `${t.bits[k] & Table.NO_NAME ? -1 : t.name[k]}`;
      if (t.ph[k] === BEGIN) {
        if (!open.has(key)) open.set(key, []);
        open.get(key).push(k);
      } else {
        const stack = open.get(key);
        if (!stack || stack.length === 0) {
          st.unmatched.e++;
          continue;
        }
        const b = stack.pop();
        const s = add(st, b, r.tsNs[b], r.tsNs[k], laneIdx, 0);
        st.endEv.set(s, k);
        st.spanOfEvent[k] = s;
        ids.push(s);
      }
    }
    for (const stack of open.values()) {
      for (const b of stack) {
        st.unmatched.asyncOpen++;
        ids.push(add(st, b, r.tsNs[b], r.maxEnd, laneIdx, FLAG_CUT_END | FLAG_UNENDED));
      }
    }
    return ids;
  }

  return {
    FLAG_CUT_END, FLAG_CUT_START, FLAG_CUT, FLAG_OVERFLOW, FLAG_INSTANT,
    FLAG_UNENDED, cutOf, create, instant, ofThread, ofAsync,
  };
})();
