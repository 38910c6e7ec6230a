// ingest.js — the model's first stage: reads every event once and sorts it
// by what it is (thread spans, B/E, instants, async, counters, flows,
// metadata), finds the time origin, and keeps what later stages need of
// each event in typed arrays. model.js runs the stages; this one knows the
// Trace Event format's `ph` letters and nothing of lanes or drawing.
//
// Times are integer nanoseconds (the format's µs with three decimals are
// exactly ns), so nesting tests in later stages are exact.
"use strict";

const Ingest = (() => {
  function toNs(v) {
    const n = typeof v === "number" ? v : Number(v);
    return Number.isFinite(n) ? Math.round(n * 1000) : NaN;
  }

  // Strings as small ids: names and cats repeat in runs, so the last one
  // is checked before the Map.
  function newStrings() {
    const strings = [];
    const ids = new Map();
    let lastString = null, lastId = -1;
    const intern = (s) => {
      if (s === lastString) return lastId;
      const key = s === undefined || s === null ? "" : String(s);
      let id = ids.get(key);
      if (id === undefined) {
        id = strings.length;
        strings.push(key);
        ids.set(key, id);
      }
      if (typeof s === "string") {
        lastString = s;
        lastId = id;
      }
      return id;
    };
    return { strings, ids, intern };
  }

  // Processes and threads as they are met (events come in runs of one
  // thread, so the last one is checked before the Map).
  function newRegistry() {
    const processes = new Map(); // pid -> {pid, name, sortIndex}
    const threads = new Map(); // "pid:tid" -> thread record
    const proc = (pid) => {
      let p = processes.get(pid);
      if (!p) {
        p = { pid, name: null, sortIndex: null };
        processes.set(pid, p);
      }
      return p;
    };
    let last = null;
    const thread = (pid, tid) => {
      if (last && last.pid === pid && last.tid === tid) return last;
      const key = `${pid}:${tid}`;
      let t = threads.get(key);
      if (!t) {
        proc(pid);
        t = { pid, tid, name: null, sortIndex: null, x: [], be: [], inst: [] };
        threads.set(key, t);
      }
      return (last = t);
    };
    return { processes, threads, proc, thread };
  }

  // An event without a pid belongs to the trace's first process.
  function defaultPidOf(events) {
    for (let k = 0; k < events.length; k++)
      if (events[k].pid !== undefined) return events[k].pid;
    return 0;
  }

  // Returns what the later stages read (see the object at the end). What
  // is read of each event is read once here: at 1M events of many shapes
  // every property read is a slow (megamorphic) load. Per event: times in
  // ns (NaN: no valid ts), name and cat as string ids, the callback kind
  // as a small id (0: none), the cut flags of its args.
  function read(events) {
    const { strings, ids: stringIds, intern } = newStrings();
    const reg = newRegistry();
    const n = events.length;
    const r = {
      events, strings, stringIds, intern,
      processes: reg.processes, threads: reg.threads,
      facts: {}, sawLooptrace: false, defaultPid: defaultPidOf(events),
      counters: new Map(), // "pid:name:id" -> {pid, rawName, id, name, events}
      asyncs: new Map(), // pid -> [event index] of b/e
      markers: new Map(), // pid (or "global") -> [event index]
      flowV1: [], // s/t/f events
      flowEvents: [], // events with a bind_id (flow v2)
      tsNs: new Float64Array(n).fill(NaN),
      durNs: new Float64Array(n),
      nameOf: new Int32Array(n),
      catOf: new Int32Array(n),
      kindOf: new Uint16Array(n),
      kindNames: [undefined],
      cut: new Uint8Array(n),
      badTime: 0,
      ignored: new Map(), // ph -> count
      minTs: Infinity, maxEnd: -Infinity, origin: 0,
    };
    const kindIds = new Map();
    let lastCounter = null;
    const { tsNs, durNs, nameOf, catOf, kindOf, cut } = r; // hot: locals
    const KIND = Vocab.ARG.KIND, CUT = Vocab.ARG.CUT, INCOMPLETE = Vocab.ARG.INCOMPLETE;

    for (let k = 0; k < n; k++) {
      const ev = events[k];
      const ph = ev.ph;
      const pid = ev.pid === undefined ? r.defaultPid : ev.pid;
      const tid = ev.tid === undefined || ev.tid === 0 ? pid : ev.tid;
      if (ph === "M") {
        metadata(r, reg, ev, pid, tid);
        continue;
      }
      const ts = toNs(ev.ts);
      if (Number.isNaN(ts)) {
        r.badTime++;
        continue;
      }
      tsNs[k] = ts;
      if (ts < r.minTs) r.minTs = ts;
      nameOf[k] = intern(ev.name);
      catOf[k] = intern(ev.cat);
      const args = ev.args;
      if (args !== undefined && args !== null) {
        const kind = args[KIND];
        if (kind !== undefined) {
          let id = kindIds.get(kind);
          if (id === undefined) {
            id = r.kindNames.length;
            r.kindNames.push(kind);
            kindIds.set(kind, id);
          }
          kindOf[k] = id;
        }
        if (args[CUT] !== undefined || args[INCOMPLETE] !== undefined)
          cut[k] = Spans.cutFlags(args);
      }
      if (ev.bind_id !== undefined) r.flowEvents.push(k);
      let end = ts;
      switch (ph) {
        case "X": {
          const d = toNs(ev.dur);
          if (d > 0) {
            end = ts + d;
            durNs[k] = d;
          }
          reg.thread(pid, tid).x.push(k);
          break;
        }
        case "B": case "E":
          reg.thread(pid, tid).be.push(k);
          break;
        case "i": case "I": case "R": {
          const scope = ph === "R" ? "g" : ev.s || "t";
          if (scope === "t") {
            reg.thread(pid, tid).inst.push(k);
          } else {
            const key = scope === "g" ? "global" : pid;
            if (scope !== "g") reg.proc(pid);
            if (!r.markers.has(key)) r.markers.set(key, []);
            r.markers.get(key).push(k);
          }
          break;
        }
        case "C":
          lastCounter = counterEvent(r, reg, lastCounter, ev, pid, k);
          break;
        case "b": case "e":
          reg.proc(pid);
          if (!r.asyncs.has(pid)) r.asyncs.set(pid, []);
          r.asyncs.get(pid).push(k);
          break;
        case "s": case "t": case "f":
          r.flowV1.push(k);
          reg.thread(pid, tid);
          break;
        default:
          r.ignored.set(ph, (r.ignored.get(ph) || 0) + 1);
      }
      if (end > r.maxEnd) r.maxEnd = end;
    }
    if (r.minTs === Infinity) {
      r.minTs = 0;
      r.maxEnd = 0;
    }
    // Our recordings are rebased (ts 0 = the recording's start): keep their
    // clock. Other producers' clocks start anywhere: begin at the first event.
    r.origin = r.sawLooptrace ? Math.min(0, r.minTs) : r.minTs;
    return r;
  }

  function metadata(r, reg, ev, pid, tid) {
    const args = ev.args || {};
    switch (ev.name) {
      case Vocab.META_PROCESS_NAME: reg.proc(pid).name = String(args.name); break;
      case Vocab.META_PROCESS_SORT_INDEX: reg.proc(pid).sortIndex = +args.sort_index; break;
      case Vocab.META_THREAD_NAME: reg.thread(pid, tid).name = String(args.name); break;
      case Vocab.META_THREAD_SORT_INDEX:
        reg.thread(pid, tid).sortIndex = +args.sort_index;
        break;
      case Vocab.META_LOOPTRACE: // several; a later key wins
        Object.assign(r.facts, args);
        r.sawLooptrace = true;
        break;
      default: break;
    }
  }

  // Files counter sample k under its series (pid, name, id); returns that
  // series, which the next sample most likely belongs to as well.
  function counterEvent(r, reg, last, ev, pid, k) {
    let c = last;
    if (!c || c.pid !== pid || c.rawName !== ev.name || c.id !== ev.id) {
      const key = `${pid}:${ev.name}:${ev.id === undefined ? "" : ev.id}`;
      c = r.counters.get(key);
      if (!c) {
        reg.proc(pid);
        c = { pid, rawName: ev.name, id: ev.id,
              name: ev.id === undefined ? String(ev.name) : `${ev.name} ${ev.id}`,
              events: [] };
        r.counters.set(key, c);
      }
    }
    c.events.push(k);
    return c;
  }

  return { read, toNs };
})();
