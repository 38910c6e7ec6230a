// main.js — the app: loads a trace (from ?trace=URL, from /trace.json when
// `looptrace view` serves the page, or from a file the user opens or
// drops), builds the model, draws frames on demand, and keeps the panels
// in step with the selection, range and search. It also exposes
// window.looptrace, the hook tests and scripts use.
"use strict";

const App = (() => {
  const $ = (id) => document.getElementById(id);
  const FRAME_LOG = 2000;

  const app = {
    model: null, view: null, flows: null, search: null, summaryCache: null,
    selected: -1, hover: -1, range: null, rangeLanes: null, agg: null,
    aggSort: "total", showFlows: true, error: null, parseWarnings: [],
    source: null, timings: {}, frameTimes: [], lastFrame: { arrows: 0, capped: false },
    measure: false, tab: "details", pending: false, loads: 0,
  };
  let canvas, ctx, scroller, spacer;

  // ---- loading ------------------------------------------------------------

  const nextPaint = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));

  function status(text) {
    $("status").textContent = text;
    $("status").hidden = !text;
  }

  // `ready` settles when a load ends (shown or failed), with the state; a
  // new load gets a new promise unless the current one is still pending.
  let readyResolve = null;
  function beginLoad(source) {
    hook.loaded = false;
    if (readyResolve === null) hook.ready = new Promise((r) => { readyResolve = r; });
    app.timings = { start_ms: performance.now(), worker: false };
    app.source = source;
  }

  function endLoad() {
    status("");
    app.loads++;
    hook.loaded = app.model !== null;
    app.timings.total_ms = performance.now() - app.timings.start_ms;
    const resolve = readyResolve;
    readyResolve = null;
    resolve(hook.state());
  }

  async function loadUrl(url, quietIfMissing) {
    beginLoad(url);
    status(`Fetching ${url} …`);
    try {
      if (await loadInWorker({ url, wholeTextLimit, budget: tableBudget, helperFrom }, url,
                             quietIfMissing))
        return;
      const res = await fetch(url, { cache: "no-store" });
      if (!res.ok) {
        if (quietIfMissing) {
          showWelcome();
          endLoad();
          return;
        }
        throw new Error(`${res.status} ${res.statusText}`);
      }
      // A .json.gz trace comes with Content-Encoding: gzip (`looptrace
      // view`): fetch inflates it, and the length is the compressed one,
      // so it always streams. A raw .gz body is found by its magic.
      const size = Number(res.headers.get("content-length")) || 0;
      if (size === 0 || size > wholeTextLimit || res.headers.get("content-encoding") ||
          /\.gz$/i.test(new URL(url).pathname)) {
        await loadStream(res.body, url, res.headers.get("content-encoding") ? 0 : size);
      } else {
        const text = await res.text();
        app.timings.fetch_ms = performance.now() - app.timings.start_ms;
        await loadText(text);
      }
    } catch (e) {
      fail(`could not fetch ${url}: ${e.message}`);
      endLoad();
    }
  }

  async function loadFile(file) {
    beginLoad(file.name);
    status(`Reading ${file.name} (${(file.size / 1e6).toFixed(1)} MB) …`);
    try {
      if (file.size > wholeTextLimit || await isGzip(file)) {
        if (await loadInWorker({ file, budget: tableBudget, helperFrom }, file.name, false)) return;
        await loadStream(file.stream(), file.name, file.size);
      } else {
        const text = await file.text();
        app.timings.fetch_ms = performance.now() - app.timings.start_ms;
        await loadText(text);
      }
    } catch (e) {
      fail(`could not read ${file.name}: ${e.message}`);
      endLoad();
    }
  }

  // Up to this size a trace is read as one string and parsed by one
  // JSON.parse into objects, the simplest way. Bigger ones are read as
  // they stream in, straight into columns (scan.js): an object per event
  // would not fit in a tab by the million, and V8 caps strings near 512 MB.
  let wholeTextLimit = 16e6;

  // gzip's magic number: 1f 8b.
  async function isGzip(file) {
    const b = new Uint8Array(await file.slice(0, 2).arrayBuffer());
    return b.length === 2 && b[0] === 0x1f && b[1] === 0x8b;
  }

  // Reads a byte stream on the page's thread (where no worker can start),
  // parsing lines while the rest arrives; `size` is its length if known
  // (0 if not).
  async function loadStream(stream, name, size) {
    const r = await Stream.read(stream, size, tableBudget, (bytes, events, tableBytes) => {
      status(`Reading ${name}: ${(bytes / 1e6).toFixed(0)} MB …`);
      return heapFull() || tableFull(tableBytes);
    });
    if (r.stopped) {
      refuse(r.bytes, r.events, r.stopped);
      return;
    }
    await streamRead(r);
  }

  // A stream read (Stream.read's result) is shown.
  async function streamRead(r) {
    app.timings.read = (!app.timings.worker ? "" : r.helped > 0 ? "2 workers, " : "worker, ") +
      r.read;
    app.timings.parse_ms = r.parseMs;
    app.timings.fetch_ms = performance.now() - app.timings.start_ms;
    await showParsed(r.parsed);
  }

  function refuse(bytes, events, why) {
    tooBig(`${(bytes / 1e6).toFixed(0)} MB in (${events.toLocaleString("en-US")} ` +
           `events), ${why}`);
  }

  // Loads `job` (load-worker.js's message: a URL or a File) in a worker,
  // off the page's thread; false when no worker could start (a page opened
  // from disk may not start one), the page then reads it itself.
  let useWorker = true;
  let worker = null;
  // A second worker helps read a stream past this many bytes (-1: never).
  let helperFrom = 32e6;
  function loadInWorker(job, name, quietIfMissing) {
    if (!useWorker) return Promise.resolve(false);
    if (worker !== null) worker.terminate(); // a load still running
    try {
      worker = new Worker("js/load-worker.js");
    } catch (e) {
      worker = null;
      return Promise.resolve(false);
    }
    const w = worker;
    return new Promise((resolve) => {
      let heard = false;
      const end = (handled) => {
        w.terminate();
        if (worker === w) worker = null;
        resolve(handled);
      };
      w.onerror = (e) => {
        e.preventDefault();
        if (!heard) return end(false); // it did not start: the page reads it
        fail(`could not read ${name}: ${e.message || "the loading worker failed"}`);
        endLoad();
        end(true);
      };
      w.onmessage = async (e) => {
        heard = true;
        if (worker !== w) return end(true); // a newer load took over
        const m = e.data;
        switch (m.type) {
          case "progress": {
            status(`Reading ${name}: ${(m.bytes / 1e6).toFixed(0)} MB …`);
            const full = heapFull() || tableFull(m.tableBytes);
            if (full !== null) {
              refuse(m.bytes, m.events, full);
              end(true);
            }
            return;
          }
          case "stopped":
            refuse(m.bytes, m.events, tableFull(m.tableBytes));
            return end(true);
          case "missing":
            if (quietIfMissing) {
              showWelcome();
              endLoad();
            } else {
              fail(`could not fetch ${name}: ${m.status} ${m.statusText}`);
              endLoad();
            }
            return end(true);
          case "text":
            end(true);
            app.timings.fetch_ms = performance.now() - app.timings.start_ms;
            await loadText(m.text);
            return;
          case "done":
            end(true);
            app.timings.worker = true;
            if (m.result.parsed.table) m.result.parsed.table = Table.fromMessage(m.result.parsed.table);
            await streamRead(m.result);
            return;
          default: // "error"
            end(true);
            fail(`could not ${job.url !== undefined ? "fetch" : "read"} ${name}: ${m.message}`);
            endLoad();
        }
      };
      // The worker resolves URLs against its own script's: make it whole.
      w.postMessage(job.url !== undefined ? { ...job, url: new URL(job.url, location.href).href } : job);
    });
  }

  // The tab can hold this share of its JS heap limit in parsed events: the
  // model needs about the rest to build. Past it the load stops with a
  // message instead of the tab running out of memory (a crash, or minutes
  // of garbage collection that look like a hang).
  let heapShare = 0.55;

  // The events' tables (scan.js) may take this many bytes: past it the
  // tab could not also hold the model built from them (about as much
  // again) without running out of memory.
  let tableBudget = 1.5e9;

  // Null while the tables fit the budget; else what they take, in words.
  function tableFull(bytes) {
    if (bytes < tableBudget) return null;
    return `its events would take more than the ${(tableBudget / 1e6).toFixed(0)} MB ` +
      "a browser tab can give them";
  }

  // Null while the JS heap has room; else how full it is, in words.
  function heapFull() {
    const m = performance.memory; // Chromium's; elsewhere, no guard
    if (!m || !m.jsHeapSizeLimit || m.usedJSHeapSize < heapShare * m.jsHeapSizeLimit) return null;
    return `the tab's memory holds ${(m.usedJSHeapSize / 1e6).toFixed(0)} MB of its ` +
      `${(m.jsHeapSizeLimit / 1e6).toFixed(0)} MB`;
  }

  // Ends a load that cannot fit, saying what to do instead.
  function tooBig(what) {
    app.timings.read = "refused: too big";
    fail(`this trace is too big for a browser tab to hold (${what}). Record less: ` +
         "a shorter window (looptrace record -d SECONDS), or only the moments " +
         "that matter (looptrace record --flight SECONDS); looptrace stat FILE " +
         "summarizes a trace of any size");
    endLoad();
  }

  // Parses a whole text (window.looptrace.loadText).
  async function loadText(text) {
    status(`Parsing ${(text.length / 1e6).toFixed(1)} MB …`);
    await nextPaint();
    const t = performance.now();
    app.timings.parse_at_ms = t;
    const parsed = Parse.parseTrace(text);
    parsed.table = parsed.error ? null : Table.fromObjects(parsed.events);
    parsed.events = null;
    app.timings.read = "whole text";
    app.timings.parse_ms = performance.now() - t;
    await showParsed(parsed);
  }

  // Past this many flow events, the arrows are made after the first frame.
  const FLOWS_LATER = 20000;

  async function showParsed(parsed) {
    try {
      app.parseWarnings = parsed.warnings;
      if (parsed.error) {
        fail(parsed.error);
        endLoad();
        return;
      }
      status(`Building lanes for ${parsed.table.n.toLocaleString("en-US")} events …`);
      await nextPaint();
      let t = performance.now();
      app.timings.model_at_ms = t;
      const model = Model.build(parsed.table, parsed.otherData);
      // Many flow events: the first frame, the whole trace, has more
      // arrows in view than are drawn (render.js's FLOW_CAP), so the
      // arrows are made after it is shown (0.4 s of the page's thread at
      // 5M events), and the frame drawn again with them.
      const later = model.flowEvents.length + model.flowV1.length > FLOWS_LATER;
      const flows = later ? null : Flows.build(model);
      app.timings.model_ms = performance.now() - t;
      show(model, flows);
      t = performance.now();
      app.timings.draw_at_ms = t;
      drawNow();
      app.timings.first_frame_ms = performance.now() - t;
      app.timings.first_frame_at_ms = performance.now();
      if (later) {
        await nextPaint();
        if (app.model !== model) return; // a newer load took over
        t = performance.now();
        app.flows = Flows.build(model);
        app.timings.flows_ms = performance.now() - t;
        if (app.selected >= 0) Panels.details($("tab-details"), model, app.flows, app.selected, follow);
        drawNow();
      }
    } catch (e) {
      // Out of memory shows as a RangeError ("Array buffer allocation
      // failed", "Invalid array length").
      if (e instanceof RangeError) {
        app.model = null;
        tooBig(`${parsed.table.n.toLocaleString("en-US")} events: ${e.message}`);
        return;
      }
      console.error(e);
      fail(`internal error while loading: ${e.message}`);
    }
    endLoad();
  }

  function fail(message) {
    app.error = message;
    app.model = null;
    app.view = null;
    $("app").classList.remove("has-trace");
    $("trigger-chip").hidden = true;
    $("welcome").hidden = false;
    Panels.banners($("banners"), message, app.parseWarnings);
  }

  function showWelcome() {
    $("welcome").hidden = false;
  }

  function show(model, flows) {
    Object.assign(app, {
      model, flows, error: null, selected: -1, hover: -1, range: null,
      rangeLanes: null, agg: null, search: null, summaryCache: null,
    });
    app.view = Timeline.create(model);
    $("welcome").hidden = true;
    $("app").classList.add("has-trace");
    $("source").textContent = app.source;
    $("search").value = "";
    $("search-count").textContent = "";
    Panels.banners($("banners"), null, app.parseWarnings.concat(model.warnings));
    showTriggerChip();
    resize(false); // the caller draws the first frame
    Panels.details($("tab-details"), model, flows, -1, follow);
    Panels.range($("tab-range"), null);
    if (app.tab === "summary") showTab("summary");
  }

  // ---- drawing ------------------------------------------------------------

  // Fits the canvas to its box; draws unless `draw` is false.
  function resize(draw = true) {
    if (!app.view) return;
    const dpr = window.devicePixelRatio || 1;
    const w = scroller.clientWidth, h = scroller.clientHeight;
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    app.view.width = w;
    app.view.height = h;
    spacer.style.height = `${Math.max(0, app.view.contentH + Timeline.RULER_H - h)}px`;
    Timeline.clamp(app.view);
    if (draw) drawNow();
  }

  function requestDraw() {
    if (app.pending) return;
    app.pending = true;
    requestAnimationFrame(() => {
      app.pending = false;
      drawNow();
    });
  }

  // Draws synchronously and logs how long it took (with `measure`, until
  // the canvas is rasterized: reading a pixel forces it).
  function drawNow() {
    if (!app.view) return;
    const t = performance.now();
    if (scroller.scrollTop !== app.view.scrollY) scroller.scrollTop = app.view.scrollY;
    app.lastFrame = Render.draw(ctx, app.view, app);
    if (app.measure) ctx.getImageData(0, 0, 1, 1);
    const ms = performance.now() - t;
    app.frameTimes.push(ms);
    if (app.frameTimes.length > FRAME_LOG) app.frameTimes.splice(0, app.frameTimes.length - FRAME_LOG);
    $("flow-note").hidden = !app.lastFrame.capped;
    return ms;
  }

  // ---- selection, range, search --------------------------------------------

  function select(s, reveal) {
    app.selected = s;
    if (s >= 0 && reveal) revealSpan(s);
    Panels.details($("tab-details"), app.model, app.flows, s, follow);
    if (s >= 0) showTab("details");
    requestDraw();
  }

  // Selects span s and brings it on screen ("follow the flow").
  function follow(s) {
    select(s, true);
  }

  function revealSpan(s) {
    const v = app.view;
    const S = app.model.spans;
    const a = S.start[s], b = S.end[s];
    if (a < v.t0 || b > v.t1) {
      if (b - a <= (v.t1 - v.t0) * 0.8) Timeline.panBy(v, (a + b) / 2 - (v.t0 + v.t1) / 2);
      else Timeline.fit(v, a, b);
    }
    Timeline.reveal(v, v.entries[S.lane[s]], S.row[s]);
  }

  function fitSelection() {
    const S = app.model.spans;
    if (app.selected >= 0) Timeline.fit(app.view, S.start[app.selected], S.end[app.selected]);
    else if (app.range) Timeline.fit(app.view, app.range.t0, app.range.t1);
  }

  // Sets the range (ns) and its lanes (null: all); `live` while dragging.
  function setRange(range, lanes, live) {
    if (!app.model) return;
    app.range = range && range.t1 > range.t0 ? range : null;
    app.rangeLanes = app.range ? lanes || null : null;
    if (!live) {
      app.agg = app.range ? Aggregate.compute(app.model, app.range.t0, app.range.t1, app.rangeLanes) : null;
      Panels.range($("tab-range"), app.agg, app.aggSort, sortAgg);
      if (app.agg) showTab("range");
    }
    requestDraw();
  }

  function sortAgg(key) {
    app.aggSort = key;
    Panels.range($("tab-range"), app.agg, app.aggSort, sortAgg);
  }

  function runSearch(query) {
    if (!app.model) return;
    app.search = query.trim() === "" ? null : Search.run(app.model, query);
    updateSearchCount();
    requestDraw();
  }

  function stepSearch(dir) {
    if (!app.search || app.search.hits === 0) return -1;
    const s = Search.step(app.search, dir);
    select(s, true);
    updateSearchCount();
    return s;
  }

  function updateSearchCount() {
    const r = app.search;
    $("search-count").textContent = !r ? ""
      : r.hits === 0 ? "no match"
      : `${r.current >= 0 ? r.current + 1 : "–"} / ${r.hits}`;
  }

  function clickAt(x, y) {
    select(spanAtPoint(x, y), false);
  }

  function spanAtPoint(x, y) {
    const v = app.view;
    if (x < Timeline.GUTTER_W) return -1;
    const h = Timeline.hit(v, y);
    if (!h || h.entry.lane.kind === "counter") return -1;
    const tol = (4 * (v.t1 - v.t0)) / Timeline.plotWidth(v);
    return Model.spanAt(app.model, h.entry.lane, h.row, Timeline.tOf(v, x), tol);
  }

  function hoverAt(x, y, cx, cy) {
    const tip = $("tooltip");
    const s = x < 0 || !app.view ? -1 : spanAtPoint(x, y);
    if (s !== app.hover) {
      app.hover = s;
      requestDraw();
    }
    const place = () => {
      tip.style.left = `${cx + 12}px`;
      tip.style.top = `${cy + 12}px`;
      tip.hidden = false;
    };
    const counter = s < 0 && x > Timeline.GUTTER_W ? counterAt(x, y) : null;
    if (counter) {
      tip.textContent = counter;
      place();
      return;
    }
    if (s < 0) {
      tip.hidden = true;
      return;
    }
    const S = app.model.spans;
    const cut = Model.cutOf(S.flags[s]);
    tip.textContent = `${app.model.strings[S.name[s]] || "(unnamed)"} — ` +
      `${Format.duration(S.end[s] - S.start[s])}` +
      (cut === null ? "" : cut === "both" ? " (cut at both ends)" : ` (cut at ${cut})`);
    tip.style.left = `${cx + 12}px`;
    tip.style.top = `${cy + 12}px`;
    tip.hidden = false;
  }

  // "name: key value, ..." of the counter under the pointer, or null.
  function counterAt(x, y) {
    const h = Timeline.hit(app.view, y);
    if (!h || h.entry.lane.kind !== "counter") return null;
    const t = Timeline.tOf(app.view, x);
    const lane = h.entry.lane;
    const i = Model.lowerBound(lane.series[0].ts, t + 1) - 1;
    if (i < 0) return null;
    return `${lane.name}: ` + lane.series.map((ser) => `${ser.key} ${ser.val[i]}`).join(", ");
  }

  function scrollBy(dy) {
    app.view.scrollY += dy;
    Timeline.clamp(app.view);
  }

  // ---- panels -----------------------------------------------------------

  function showTab(name) {
    app.tab = name;
    for (const b of document.querySelectorAll("#tabs button"))
      b.classList.toggle("active", b.dataset.tab === name);
    for (const sec of document.querySelectorAll(".tab"))
      sec.hidden = sec.id !== `tab-${name}`;
    if (name === "summary" && app.model) {
      const sum = summary();
      Panels.summary($("tab-summary"), sum, Summary.chartData(app.model, 120), (i) => {
        const t = sum.longest_ticks[i];
        const s = findSpans({ cat: Vocab.CAT.TICK, ts_us: t.ts_us })[0];
        if (s !== undefined) follow(s);
      }, triggers());
    }
  }

  // The trigger instants as the panels list them: {span, text, select}.
  function triggers() {
    const m = app.model;
    return m.triggers.map((s) => {
      const v = Model.args(m, s)[Vocab.ARG.VALUE_US];
      return {
        span: s,
        text: `${Render.triggerText(m, s)}` +
          (typeof v === "number" ? ` (value ${Format.duration(v * 1e3)})` : "") +
          ` at ${Format.time(m.spans.start[s])}`,
        select: () => follow(s),
      };
    });
  }

  // The toolbar's trigger button: a trace a flight recorder dumped says
  // why at once; clicking it goes to the (first) trigger.
  function showTriggerChip() {
    const chip = $("trigger-chip");
    const list = app.model ? triggers() : [];
    chip.hidden = list.length === 0;
    if (list.length === 0) return;
    chip.textContent = `⚑ trigger: ${list[0].text}` +
      (list.length > 1 ? ` (+${list.length - 1} more)` : "");
    chip.onclick = list[0].select;
  }

  function summary() {
    if (!app.model) return null;
    if (!app.summaryCache) app.summaryCache = Summary.compute(app.model, app.parseWarnings);
    return app.summaryCache;
  }

  function toggleHelp() {
    $("help").hidden = !$("help").hidden;
  }

  // ---- the test hook ------------------------------------------------------

  const toUs = (ns) => (ns + (app.model ? app.model.origin : 0)) / 1e3;
  const toNs = (us) => Math.round(us * 1e3) - (app.model ? app.model.origin : 0);

  // Spans matching {name, cat, lane (name), tid, ts_us}, in time order.
  function findSpans(spec) {
    const m = app.model;
    if (!m) return [];
    if (typeof spec === "number") return [spec];
    const S = m.spans;
    const out = [];
    const name = spec.name === undefined ? undefined : m.stringId(String(spec.name));
    const cat = spec.cat === undefined ? undefined : m.stringId(String(spec.cat));
    if ((spec.name !== undefined && name === undefined) ||
        (spec.cat !== undefined && cat === undefined)) return [];
    for (let s = 0; s < S.n; s++) {
      if (name !== undefined && S.name[s] !== name) continue;
      if (cat !== undefined && S.cat[s] !== cat) continue;
      const lane = m.lanes[S.lane[s]];
      if (spec.lane !== undefined && lane.name !== spec.lane) continue;
      if (spec.tid !== undefined && lane.tid !== spec.tid) continue;
      if (spec.ts_us !== undefined && Math.abs(toUs(S.start[s]) - spec.ts_us) > 5e-4) continue;
      out.push(s);
    }
    return out.sort((a, b) => S.start[a] - S.start[b] || S.lane[a] - S.lane[b]);
  }

  function spanInfo(s) {
    if (s < 0 || !app.model) return null;
    const m = app.model, S = m.spans, lane = m.lanes[S.lane[s]];
    return {
      id: s, name: m.strings[S.name[s]], cat: m.strings[S.cat[s]], lane: lane.name,
      tid: lane.tid, ts_us: toUs(S.start[s]), dur_us: (S.end[s] - S.start[s]) / 1e3,
      self_us: (S.end[s] - S.start[s] - S.child[s]) / 1e3, depth: S.depth[s],
      row: S.row[s], args: Model.args(m, s), cut: Model.cutOf(S.flags[s]),
      flows: ((app.flows && app.flows.bySpan.get(s)) || []).map((i) => ({
        dir: app.flows.to[i] === s ? "in" : "out",
        span: app.flows.to[i] === s ? app.flows.from[i] : app.flows.to[i],
      })),
    };
  }

  const hook = {
    ready: null,
    loaded: false,
    get loads() { return app.loads; },
    get frameTimes() { return app.frameTimes.slice(); },
    state() {
      const m = app.model, v = app.view;
      return {
        loaded: m !== null, loads: app.loads, source: app.source,
        error: app.error, warnings: app.parseWarnings.concat(m ? m.warnings : []),
        events: m ? m.eventCount : 0, spans: m ? m.spans.n : 0,
        lanes: m ? m.lanes.map((l) => ({
          kind: l.kind, name: l.name, pid: l.pid, tid: l.tid, sortIndex: l.sortIndex,
          spans: l.spanCount, rows: l.depthRows, overflowRows: l.overflowRows,
          series: l.series ? l.series.map((s) => s.key) : undefined,
          samples: l.samples,
        })) : [],
        flows: app.flows ? { arrows: app.flows.n, chains: app.flows.chains,
                             drawn: app.lastFrame.arrows, capped: app.lastFrame.capped }
                         : { arrows: 0, chains: 0, drawn: 0, capped: false },
        view: v ? { t0_us: toUs(v.t0), t1_us: toUs(v.t1), start_us: toUs(m.start),
                    end_us: toUs(m.end), scrollY: v.scrollY, width: v.width,
                    height: v.height } : null,
        selection: spanInfo(app.selected),
        range: app.agg ? {
          t0_us: toUs(app.agg.t0), t1_us: toUs(app.agg.t1), spans: app.agg.spans,
          lanes: app.rangeLanes ? [...app.rangeLanes].map((i) => m.lanes[i].name) : null,
          rows: app.agg.rows.map((r) => ({
            name: r.name, count: r.count, total_us: r.total / 1e3, self_us: r.self / 1e3,
            avg_us: r.avg / 1e3, min_us: r.min / 1e3, max_us: r.max / 1e3 })),
        } : null,
        search: app.search ? { query: app.search.query, hits: app.search.hits,
                               current: app.search.current } : null,
        facts: m ? m.facts : null,
        triggers: m ? m.triggers.map((s) => ({
          id: s, ts_us: toUs(m.spans.start[s]), trigger: Model.args(m, s)[Vocab.ARG.TRIGGER],
          value_us: Model.args(m, s)[Vocab.ARG.VALUE_US] })) : [],
        timings: app.timings,
      };
    },
    summary,
    find: findSpans,
    span: spanInfo,
    // Selects the first span matching spec (or a span id); returns its id.
    select(spec, reveal = true) {
      const s = findSpans(spec)[spec && spec.index ? spec.index : 0];
      select(s === undefined ? -1 : s, reveal);
      return s === undefined ? -1 : s;
    },
    selectRange(t0us, t1us, laneNames) {
      const lanes = laneNames ? new Set(app.model.lanes.filter((l) => laneNames.includes(l.name))
                                          .map((l) => l.index)) : null;
      setRange({ t0: toNs(t0us), t1: toNs(t1us) }, lanes, false);
      return hook.state().range;
    },
    search(q) {
      $("search").value = q;
      runSearch(q);
      return hook.state().search;
    },
    step: stepSearch,
    setView(t0us, t1us) {
      app.view.t0 = toNs(t0us);
      app.view.t1 = toNs(t1us);
      Timeline.clamp(app.view);
      drawNow();
    },
    // The CSS-pixel box of span s in the page (to click it), or null.
    spanRect(s) {
      const b = Render.spanBox(app.view, app.model, s);
      if (!b) return null;
      const r = canvas.getBoundingClientRect();
      return { x: r.left + b.x, y: r.top + b.y, w: b.w, h: b.h };
    },
    reveal(s) {
      revealSpan(s);
      drawNow();
    },
    // Draws now and returns how long it took, raster included.
    measureFrame() {
      const old = app.measure;
      app.measure = true;
      const ms = drawNow();
      app.measure = old;
      return ms;
    },
    setMeasure(on) { app.measure = !!on; },
    // Tests lower it to send small files down the streaming path.
    setWholeTextLimit(bytes) { wholeTextLimit = bytes; },
    // Tests lower them to see the "too big" message on a small trace.
    setHeapShare(share) { heapShare = share; },
    setTableBudget(bytes) { tableBudget = bytes; },
    // Tests turn it off to read a trace on the page's thread, as a page
    // opened from disk does.
    setWorker(on) { useWorker = !!on; },
    // Tests lower it to have two workers read a small trace (-1: one).
    setHelperFrom(bytes) { helperFrom = bytes; },
    showTab,
    loadText(text, name) {
      beginLoad(name || "text");
      return loadText(text);
    },
  };
  window.looptrace = hook;
  beginLoad(null);

  // ---- start --------------------------------------------------------------

  function start() {
    canvas = $("timeline");
    ctx = canvas.getContext("2d", { alpha: false });
    scroller = $("scroller");
    spacer = $("spacer");
    Input.attach(app, canvas);
    app.requestDraw = requestDraw;
    app.select = (s) => select(s, false);
    app.setRange = setRange;
    app.fitSelection = fitSelection;
    app.focusSearch = () => { $("search").focus(); $("search").select(); };
    app.toggleHelp = toggleHelp;
    app.helpOpen = () => !$("help").hidden;
    app.clickAt = clickAt;
    app.hoverAt = hoverAt;
    app.scrollBy = scrollBy;

    scroller.addEventListener("scroll", () => {
      if (!app.view) return;
      app.view.scrollY = scroller.scrollTop;
      Timeline.clamp(app.view);
      requestDraw();
    });
    new ResizeObserver(() => resize()).observe(scroller);

    // Legend: one fixed colour per phase, and wait.
    for (const { name, colour } of Theme.legend()) {
      const sw = Panels.el("span", { class: "swatch" });
      sw.style.background = colour;
      $("legend").append(Panels.el("span", { class: "legend-item", "data-phase": name }, sw, name));
    }

    $("open").addEventListener("change", (e) => {
      const f = e.target.files[0];
      if (f) loadFile(f);
      e.target.value = "";
    });
    $("open-button").addEventListener("click", () => $("open").click());
    $("welcome-open").addEventListener("click", () => $("open").click());
    $("search").addEventListener("input", (e) => runSearch(e.target.value));
    $("search").addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        stepSearch(e.shiftKey ? -1 : 1);
      }
    });
    $("show-flows").addEventListener("change", (e) => {
      app.showFlows = e.target.checked;
      requestDraw();
    });
    for (const b of document.querySelectorAll("#tabs button"))
      b.addEventListener("click", () => showTab(b.dataset.tab));
    $("help-button").addEventListener("click", toggleHelp);
    $("help-close").addEventListener("click", toggleHelp);

    // The splitter between timeline and panel: drag to give either more room.
    $("splitter").addEventListener("mousedown", (e) => {
      e.preventDefault();
      const panel = $("panel");
      const y0 = e.clientY, h0 = panel.getBoundingClientRect().height;
      const move = (m) => {
        const h = Math.max(60, Math.min(window.innerHeight - 160, h0 - (m.clientY - y0)));
        panel.style.flexBasis = `${h}px`;
      };
      const up = () => {
        window.removeEventListener("mousemove", move);
        window.removeEventListener("mouseup", up);
      };
      window.addEventListener("mousemove", move);
      window.addEventListener("mouseup", up);
    });

    // Drag and drop a file anywhere on the page.
    let depth = 0;
    const overlay = $("drop-overlay");
    window.addEventListener("dragenter", (e) => {
      e.preventDefault();
      depth++;
      overlay.hidden = false;
    });
    window.addEventListener("dragleave", () => {
      if (--depth <= 0) {
        depth = 0;
        overlay.hidden = true;
      }
    });
    window.addEventListener("dragover", (e) => e.preventDefault());
    window.addEventListener("drop", (e) => {
      e.preventDefault();
      depth = 0;
      overlay.hidden = true;
      const f = e.dataTransfer && e.dataTransfer.files[0];
      if (f) loadFile(f);
    });

    // Where the trace comes from: ?trace=URL (same origin only: the page
    // fetches nothing else), else trace.json next to the page when served
    // (what `looptrace view` does), else wait for the user.
    const param = new URLSearchParams(location.search).get("trace");
    if (param) {
      let url;
      try {
        url = new URL(param, location.href);
      } catch (e) {
        url = null;
      }
      if (!url || url.origin !== location.origin) {
        beginLoad(param);
        fail(`not fetching ${param}: the viewer only loads traces from its own ` +
             "server; open the file instead");
        endLoad();
      } else {
        loadUrl(url.href, false);
      }
    } else if (location.protocol === "http:" || location.protocol === "https:") {
      loadUrl(new URL("trace.json", location.href).href, true);
    } else {
      showWelcome();
      endLoad();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  return app;
})();
