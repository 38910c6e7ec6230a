// flows.js — the arrows between spans: threadpool handoffs (flow v2:
// `bind_id` with `flow_out` / `flow_in` on the span events themselves, our
// tracer's form) and, from other producers, flow v1 (`s`/`t`/`f` events
// bound to the slice they fall in, as catapult binds them).
//
// An arrow goes from the end of its source span to the start of its
// destination (Perfetto draws them that way); a chain is a run of arrows
// sharing an id (submit → worker → completion is one chain of two arrows).
"use strict";

const Flows = (() => {
  // Returns {n, from, to, fromT, toT, chains, maxLen, bySpan}: arrows sorted
  // by fromT; bySpan.get(s) gives the indexes of span s's arrows.
  function build(model) {
    const S = model.spans;
    const tab = model.table;
    const v2 = flowsV2(model, S, tab);
    let chains = v2.chains;
    const list = []; // v1's arrows: [from, to, fromT, toT]

    // v1: s starts, t steps, f finishes; bound by thread and time.
    const open = new Map();
    const v1 = model.flowV1.map((k) => [k, model.event(k)])
      .sort(([a, x], [b, y]) => Model.toNs(x.ts) - Model.toNs(y.ts) || a - b);
    for (const [, ev] of v1) {
      const pid = ev.pid === undefined ? model.defaultPid : ev.pid;
      const tid = ev.tid === undefined || ev.tid === 0 ? pid : ev.tid;
      const lane = model.threadLanes.get(`${pid}:${tid}`);
      const t = Model.toNs(ev.ts) - model.origin;
      if (!lane) continue;
      const s = ev.ph === "f" && ev.bp !== "e" ? Model.nextSpan(model, lane, t)
                                              : Model.enclosing(model, lane, t);
      const key = `${ev.cat}\0${ev.id}`;
      if (ev.ph === "s") {
        open.set(key, s < 0 ? null : { s, t, linked: false });
        continue;
      }
      const prev = open.get(key);
      if (prev && s >= 0) {
        if (!prev.linked) chains++;
        list.push([prev.s, s, prev.t, Math.max(prev.t, t)]);
        open.set(key, { s, t, linked: true });
      }
      if (ev.ph === "f") open.delete(key);
    }

    // v2's arrows then v1's, sorted by fromT (ties in that order).
    const n = v2.n + list.length;
    const from = new Int32Array(n), to = new Int32Array(n);
    const fromT = new Float64Array(n), toT = new Float64Array(n);
    from.set(v2.from.subarray(0, v2.n));
    to.set(v2.to.subarray(0, v2.n));
    fromT.set(v2.fromT.subarray(0, v2.n));
    toT.set(v2.toT.subarray(0, v2.n));
    list.forEach(([a, b, ta, tb], j) => {
      from[v2.n + j] = a;
      to[v2.n + j] = b;
      fromT[v2.n + j] = ta;
      toT[v2.n + j] = tb;
    });
    const order = new Uint32Array(n);
    let sorted = true;
    for (let i = 0; i < n; i++) {
      order[i] = i;
      if (i > 0 && fromT[i] < fromT[i - 1]) sorted = false;
    }
    if (!sorted) order.sort((a, b) => fromT[a] - fromT[b] || a - b);
    const F = {
      n, chains, maxLen: 0, bySpan: null,
      from: new Int32Array(n), to: new Int32Array(n),
      fromT: new Float64Array(n), toT: new Float64Array(n),
    };
    for (let i = 0; i < n; i++) {
      const j = order[i];
      F.from[i] = from[j];
      F.to[i] = to[j];
      F.fromT[i] = fromT[j];
      F.toT[i] = toT[j];
      if (toT[j] - fromT[j] > F.maxLen) F.maxLen = toT[j] - fromT[j];
    }
    F.bySpan = spanIndex(F, S.n);
    return F;
  }

  // v2: the steps of each id (spans whose event has a bind_id), in time
  // order (start, then file order); an arrow joins a step with flow_out
  // to the next one with flow_in. The events are grouped by id with a
  // counting sort (ids are small integers: the table's key ids), not a
  // Map of arrays (400k of them at 5M events). Returns {n, chains, from,
  // to, fromT, toT} (typed arrays, n used), ids in the order first met.
  function flowsV2(model, S, tab) {
    const spanOf = model.spanOfEvent;
    const events = model.flowEvents;
    const ids = tab.keys.list.length;
    const first = new Int32Array(ids + 1);
    const idOrder = []; // ids as first met (the arrows' order on ties)
    let m = 0;
    for (const k of events) {
      if (spanOf[k] < 0) continue;
      if (first[tab.bind[k] + 1]++ === 0) idOrder.push(tab.bind[k]);
      m++;
    }
    for (let id = 0; id < ids; id++) first[id + 1] += first[id];
    const at = first.slice(0, ids);
    const steps = new Int32Array(m);
    for (const k of events) if (spanOf[k] >= 0) steps[at[tab.bind[k]]++] = k;
    const out = {
      n: 0, chains: 0,
      from: new Int32Array(m), to: new Int32Array(m),
      fromT: new Float64Array(m), toT: new Float64Array(m),
    };
    const before = (x, y) => S.start[spanOf[x]] - S.start[spanOf[y]] || x - y;
    for (const id of idOrder) {
      const a0 = first[id], a1 = first[id + 1];
      // An insertion sort: an id has a few steps, nearly in order.
      for (let i = a0 + 1; i < a1; i++) {
        const k = steps[i];
        let j = i - 1;
        while (j >= a0 && before(steps[j], k) > 0) {
          steps[j + 1] = steps[j];
          j--;
        }
        steps[j + 1] = k;
      }
      let linked = false;
      for (let i = a0 + 1; i < a1; i++) {
        const ka = steps[i - 1], kb = steps[i];
        const ok = (tab.bits[ka] & Table.FLOW_OUT) !== 0 && (tab.bits[kb] & Table.FLOW_IN) !== 0;
        if (ok) {
          if (!linked) out.chains++;
          const a = spanOf[ka], b = spanOf[kb];
          out.from[out.n] = a;
          out.to[out.n] = b;
          out.fromT[out.n] = Math.min(S.end[a], S.start[b]);
          out.toT[out.n] = S.start[b];
          out.n++;
        }
        linked = ok;
      }
    }
    return out;
  }

  // bySpan.get(s): the indexes of span s's arrows (undefined: none), in
  // arrow order. The index (arrows grouped by span, a counting sort) is
  // made the first time it is asked: only a selection asks.
  function spanIndex(F, spans) {
    let first = null, arrows = null;
    const make = () => {
      first = new Int32Array(spans + 1);
      for (let i = 0; i < F.n; i++) {
        first[F.from[i] + 1]++;
        if (F.to[i] !== F.from[i]) first[F.to[i] + 1]++;
      }
      for (let s = 0; s < spans; s++) first[s + 1] += first[s];
      const fill = first.slice(0, spans);
      arrows = new Int32Array(first[spans]);
      for (let i = 0; i < F.n; i++) {
        arrows[fill[F.from[i]]++] = i;
        if (F.to[i] !== F.from[i]) arrows[fill[F.to[i]]++] = i;
      }
    };
    return {
      get(s) {
        if (first === null) make();
        if (s < 0 || s >= spans || first[s] === first[s + 1]) return undefined;
        return Array.from(arrows.subarray(first[s], first[s + 1]));
      },
    };
  }

  // The arrows that may be visible in [t0, t1], or null when there are
  // more than `cap` of them (the caller then draws fewer).
  function visible(F, t0, t1, cap) {
    const out = [];
    let i = Model.lowerBound(F.fromT, t0 - F.maxLen);
    for (; i < F.n && F.fromT[i] <= t1; i++) {
      if (F.toT[i] < t0) continue;
      if (out.length === cap) return null;
      out.push(i);
    }
    return out;
  }

  return { build, visible };
})();
