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
    const list = []; // [from, to, fromT, toT]
    let chains = 0;

    // v2: collect the steps of each id (spans whose event has a bind_id),
    // in time order.
    const steps = new Map();
    for (const k of model.flowEvents) {
      const s = model.spanOfEvent[k];
      if (s < 0) continue;
      let st = steps.get(tab.bind[k]);
      if (!st) steps.set(tab.bind[k], st = []);
      st.push(k);
    }
    const spanOf = (k) => model.spanOfEvent[k];
    for (const st of steps.values()) {
      st.sort((x, y) => S.start[spanOf(x)] - S.start[spanOf(y)] || x - y);
      let linked = false;
      for (let i = 1; i < st.length; i++) {
        const ka = st[i - 1], kb = st[i];
        const a = spanOf(ka), b = spanOf(kb);
        const ok = (tab.bits[ka] & Table.FLOW_OUT) !== 0 && (tab.bits[kb] & Table.FLOW_IN) !== 0;
        if (ok) {
          if (!linked) chains++;
          list.push([a, b, Math.min(S.end[a], S.start[b]), S.start[b]]);
        }
        linked = ok;
      }
    }

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

    list.sort((a, b) => a[2] - b[2]);
    const n = list.length;
    const F = {
      n, chains, maxLen: 0, bySpan: null,
      from: new Int32Array(n), to: new Int32Array(n),
      fromT: new Float64Array(n), toT: new Float64Array(n),
    };
    list.forEach(([a, b, ta, tb], i) => {
      F.from[i] = a;
      F.to[i] = b;
      F.fromT[i] = ta;
      F.toT[i] = tb;
      if (tb - ta > F.maxLen) F.maxLen = tb - ta;
    });
    F.bySpan = spanIndex(F, S.n);
    return F;
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
