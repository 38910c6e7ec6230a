// ingest.js — the model's first stage: reads every event of a Table once
// (its columns: no object per event) and sorts it by what it is (thread
// spans, B/E, instants, async, counters, flows, metadata), finds the time
// origin, and keeps what later stages need of each event in typed arrays.
// model.js runs the stages; this one knows the Trace Event format's `ph`
// letters and nothing of lanes or drawing.
//
// Times are integer nanoseconds (the format's µs with three decimals are
// exactly ns), so nesting tests in later stages are exact.
"use strict";

const Ingest = (() => {
  const toNs = Table.toNs;

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
  function defaultPidOf(t) {
    for (let k = 0; k < t.n; k++) if (t.pid[k] >= 0) return t.values.list[t.pid[k]];
    return 0;
  }

  // Returns what the later stages read (see the object below), from the
  // columns of table `t`: per event, times in ns (NaN: no valid ts), name
  // and cat as string ids, the callback kind as a small id (0: none), the
  // cut flags of its args.
  function read(t) {
    const reg = newRegistry();
    const n = t.n;
    const strings = t.strings.list;
    const r = {
      table: t, n, strings, stringIds: t.strings.ids, intern: t.strings.get,
      event: (k) => Table.event(t, k),
      processes: reg.processes, threads: reg.threads,
      facts: {}, sawLooptrace: false, defaultPid: defaultPidOf(t),
      counters: new Map(), // "pid:name:id" -> {pid, rawName, id, name, events}
      asyncs: new Map(), // pid -> [event index] of b/e
      markers: new Map(), // pid (or "global") -> [event index]
      flowV1: [], // s/t/f events
      flowEvents: [], // events with a bind_id (flow v2)
      tsNs: t.ts,
      durNs: new Float64Array(n),
      nameOf: t.name,
      catOf: t.cat,
      kindOf: new Uint16Array(n),
      kindNames: [undefined],
      cut: t.cut,
      badTime: 0,
      ignored: new Map(), // ph -> count
      minTs: Infinity, maxEnd: -Infinity, origin: 0,
    };
    const kindIds = []; // values id -> kind id
    let lastCounter = null;
    const { tsNs, durNs, kindOf } = r; // hot: locals
    const values = t.values.list, phs = t.phs.list;
    let lastPid = -2, lastTid = -2, pid = 0, tid = 0;
    // The thread of each (pid, tid) value id pair met: threads interleave
    // in a file, and the registry's key is a string.
    const byIds = new Map();
    let thread = null;
    const threadOf = () => {
      if (thread === null) {
        const key = (lastPid + 1) * 2 ** 26 + lastTid + 1;
        thread = byIds.get(key);
        if (thread === undefined) byIds.set(key, thread = reg.thread(pid, tid));
      }
      return thread;
    };

    for (let k = 0; k < n; k++) {
      const ph = phs[t.ph[k]];
      if (t.pid[k] !== lastPid || t.tid[k] !== lastTid) {
        lastPid = t.pid[k];
        lastTid = t.tid[k];
        pid = lastPid < 0 ? r.defaultPid : values[lastPid];
        tid = lastTid < 0 || values[lastTid] === 0 ? pid : values[lastTid];
        thread = null;
      }
      if (ph === "M") {
        metadata(r, reg, r.event(k), pid, tid);
        continue;
      }
      const ts = tsNs[k];
      if (Number.isNaN(ts)) {
        r.badTime++;
        continue;
      }
      if (ts < r.minTs) r.minTs = ts;
      if (t.kind[k] >= 0) {
        let id = kindIds[t.kind[k]];
        if (id === undefined) {
          id = r.kindNames.length;
          r.kindNames.push(values[t.kind[k]]);
          kindIds[t.kind[k]] = id;
        }
        kindOf[k] = id;
      }
      if (t.bind[k] >= 0) r.flowEvents.push(k);
      let end = ts;
      switch (ph) {
        case "X": {
          const d = t.dur[k];
          if (d > 0) {
            end = ts + d;
            durNs[k] = d;
          }
          threadOf().x.push(k);
          break;
        }
        case "B": case "E":
          threadOf().be.push(k);
          break;
        case "i": case "I": case "R": {
          const sc = t.scope[k];
          const scope = ph === "R" || sc === 103 ? "g" : sc === 0 || sc === 116 ? "t" : "p";
          if (scope === "t") {
            threadOf().inst.push(k);
          } else {
            const key = scope === "g" ? "global" : pid;
            if (scope !== "g") reg.proc(pid);
            if (!r.markers.has(key)) r.markers.set(key, []);
            r.markers.get(key).push(k);
          }
          break;
        }
        case "C":
          lastCounter = counterEvent(r, reg, lastCounter, k, pid);
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
  function counterEvent(r, reg, last, k, pid) {
    const t = r.table;
    const rawName = t.bits[k] & Table.NO_NAME ? undefined : r.strings[t.name[k]];
    const id = t.id[k] < 0 || t.bits[k] & Table.ID2 ? undefined : t.keys.list[t.id[k]];
    let c = last;
    if (!c || c.pid !== pid || c.rawName !== rawName || c.id !== id) {
      const key = `${pid}:${rawName}:${id === undefined ? "" : id}`;
      c = r.counters.get(key);
      if (!c) {
        reg.proc(pid);
        c = { pid, rawName, id, name: id === undefined ? String(rawName) : `${rawName} ${id}`,
              events: [] };
        r.counters.set(key, c);
      }
    }
    c.events.push(k);
    return c;
  }

  return { read, toNs };
})();
