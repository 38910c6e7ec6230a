// panels.js — the DOM around the timeline: banners, the details of the
// selected span, the range aggregate table and the summary panel. Every
// string from the trace goes in through textContent (el() below) — never
// innerHTML — so a label like <img src=x onerror=...> shows as text.
"use strict";

const Panels = (() => {
  // el("td", {class: "num"}, "text", child...): an element; strings become
  // text nodes.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "onclick") node.addEventListener("click", v);
      else if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const clear = (node) => node.replaceChildren();

  // Error and warning banners above the timeline.
  function banners(container, error, warnings) {
    clear(container);
    if (error) {
      container.append(el("div", { class: "banner error", role: "alert" },
        el("strong", {}, "Cannot show this file: "), error));
    }
    if (warnings.length > 0) {
      const box = el("div", { class: "banner warning", role: "status" });
      const close = el("button", { class: "dismiss", title: "Hide",
                                   onclick: () => box.remove() }, "×");
      box.append(close, el("strong", {}, warnings.length === 1 ? "Warning: "
                                                             : "Warnings:"));
      if (warnings.length === 1) box.append(warnings[0]);
      else box.append(el("ul", {}, ...warnings.map((w) => el("li", {}, w))));
      container.append(box);
    }
  }

  function spanLabel(model, s) {
    const S = model.spans;
    const lane = model.lanes[S.lane[s]];
    return `${model.strings[S.name[s]] || "(unnamed)"} on ${lane.name} at ` +
      Format.time(S.start[s]);
  }

  // What a cut span's "cut" row says (TRACE-FORMAT.md, "Cut spans").
  const CUT_NOTES = {
    end: "cut at end: it had not ended when the recording stopped seeing " +
         "it; the duration shown is a lower bound",
    start: "cut at start: it began before the recording could see it; the " +
           "duration shown is a lower bound",
    both: "cut at start and at end: it began before the recording could " +
          "see it and had not ended when it stopped; the duration shown is " +
          "a lower bound",
  };

  // The details of span s (or a hint when s < 0). `follow(span)` selects
  // and reveals another span.
  function details(container, model, flows, s, follow) {
    clear(container);
    if (s < 0) {
      container.append(el("p", { class: "hint" },
        "Click a span to see its details. Shift+drag (or drag in the ruler) " +
        "to select a time range."));
      return;
    }
    const S = model.spans;
    const lane = model.lanes[S.lane[s]];
    const dur = S.end[s] - S.start[s];
    const flags = [];
    if (S.flags[s] & Model.FLAG_OVERFLOW) flags.push("overflow (partly overlaps the span it starts in)");
    if (S.flags[s] & Model.FLAG_INSTANT) flags.push("instant");
    const rows = [
      ["name", model.strings[S.name[s]] || "(unnamed)"],
      ["category", model.strings[S.cat[s]] || "–"],
      ["thread", lane.kind === "thread" ? `${lane.name} (tid ${lane.tid})` : lane.name],
      ["start", `${Format.us(S.start[s] + model.origin)} µs (ts)`],
      ["duration", `${Format.duration(dur)} (${Format.us(dur)} µs)`],
      ["self time", `${Format.duration(dur - S.child[s])} (${Format.us(dur - S.child[s])} µs)`],
      ["depth", S.depth[s] >= 0 ? String(S.depth[s]) : "overflow row"],
    ];
    const cut = Model.cutOf(S.flags[s]);
    if (cut !== null) rows.push(["cut", CUT_NOTES[cut]]);
    if (flags.length) rows.push(["note", flags.join("; ")]);
    container.append(el("h3", { class: "span-name" }, model.strings[S.name[s]] || "(unnamed)"));
    container.append(el("table", { class: "fields" }, ...rows.map(([k, v]) =>
      el("tr", { "data-field": k }, el("th", {}, k), el("td", {}, v)))));

    const links = el("div", { class: "links" });
    if (S.parent[s] >= 0) {
      links.append(el("button", { class: "link parent", onclick: () => follow(S.parent[s]) },
                      `↑ parent: ${spanLabel(model, S.parent[s])}`));
    }
    container.append(links);

    const arrows = (flows && flows.bySpan.get(s)) || [];
    if (arrows.length > 0) {
      const list = el("ul", { class: "flows" });
      for (const i of arrows) {
        const incoming = flows.to[i] === s;
        const other = incoming ? flows.from[i] : flows.to[i];
        list.append(el("li", {}, el("button", {
          class: `link flow ${incoming ? "flow-in" : "flow-out"}`,
          "data-span": other, onclick: () => follow(other),
        }, `${incoming ? "← from" : "→ to"} ${spanLabel(model, other)}`)));
      }
      container.append(el("h4", {}, `Flows (${arrows.length})`), list);
    }

    container.append(el("h4", {}, "Args"),
      el("pre", { class: "args" }, JSON.stringify(Model.args(model, s), null, 2)));
  }

  const COLUMNS = [
    ["name", "name"], ["count", "count"], ["total", "total"], ["self", "self"],
    ["avg", "avg"], ["min", "min"], ["max", "max"],
  ];

  // The range aggregate table; clicking a column header sorts by it.
  function range(container, agg, sortKey, onSort) {
    clear(container);
    if (!agg) {
      container.append(el("p", { class: "hint" },
        "Shift+drag over the lanes, or drag in the time ruler, to select a " +
        "range: every span overlapping it is counted here by name."));
      return;
    }
    const rows = agg.rows.slice();
    if (sortKey && sortKey !== "total") {
      rows.sort((a, b) => sortKey === "name" ? (a.name < b.name ? -1 : 1)
                                             : b[sortKey] - a[sortKey]);
    }
    container.append(el("p", { class: "range-head" },
      `Range ${Format.time(agg.t0)} – ${Format.time(agg.t1)} ` +
      `(${Format.duration(agg.t1 - agg.t0)}): ${agg.spans} spans, ` +
      `${agg.rows.length} names`));
    const head = el("tr", {}, ...COLUMNS.map(([key, title]) => el("th", {
      "data-key": key, class: key === (sortKey || "total") ? "sorted" : null,
      onclick: () => onSort(key),
    }, title)));
    const body = el("tbody", {}, ...rows.slice(0, 500).map((r) => el("tr", {},
      el("td", { class: "name" }, r.name),
      el("td", { class: "num", "data-key": "count" }, String(r.count)),
      ...["total", "self", "avg", "min", "max"].map((k) => el("td", {
        class: "num", "data-key": k, "data-us": Format.us(r[k]),
      }, Format.duration(r[k]))))));
    container.append(el("table", { class: "aggregate" }, el("thead", {}, head), body));
    if (rows.length > 500) container.append(el("p", { class: "hint" }, `(${rows.length - 500} more names not shown)`));
  }

  // The summary panel: key figures, four charts, the tables, the JSON.
  // `triggers`: the flight recorder's trigger instants, listed first
  // ({text, select}).
  function summary(container, sum, chartData, selectTick, triggers = []) {
    clear(container);
    if (triggers.length > 0) {
      container.append(el("h4", {}, "Triggers (why this trace was written)"),
        el("ul", { class: "triggers" }, ...triggers.map((t) => el("li", {},
          el("button", { class: "link trigger", onclick: t.select }, t.text)))));
    }
    // ticks and threadpool are null in traces without them.
    const tp = sum.threadpool || { tasks: 0, queue_wait_us: null, peak_concurrency: 0, workers: [] };
    const ticks = sum.ticks || { count: 0, cut: 0, per_s: null, p50_us: null, p99_us: null, max_us: null };
    const fig = (label, value, key) => el("div", { class: "figure", "data-figure": key },
      el("div", { class: "value" }, value), el("div", { class: "label" }, label));
    const usOr = (v) => (v === null || v === undefined ? "–" : Format.duration(v * 1e3));
    container.append(el("div", { class: "figures" },
      fig("recording", usOr(sum.recording_us), "recording_us"),
      fig("loop utilization", Format.percent(sum.loop_utilization), "loop_utilization"),
      fig("ticks", `${ticks.count}` +
          (ticks.per_s !== null ? ` (${ticks.per_s.toFixed(1)}/s)` : ""), "ticks"),
      fig(ticks.cut > 0 ? `tick p50 / p99 / max (${ticks.cut} cut left out)`
                        : "tick p50 / p99 / max",
          `${usOr(ticks.p50_us)} / ${usOr(ticks.p99_us)} / ${usOr(ticks.max_us)}`,
          "tick_durations"),
      fig("threadpool tasks", String(tp.tasks), "tasks"),
      fig("peak concurrency", String(tp.peak_concurrency), "peak_concurrency"),
      fig("queue wait p50 / p99 / max", tp.queue_wait_us
        ? `${usOr(tp.queue_wait_us.p50)} / ${usOr(tp.queue_wait_us.p99)} / ${usOr(tp.queue_wait_us.max)}`
        : "–", "queue_wait"),
      fig("drops", sum.drops === null ? "–" : String(sum.drops), "drops")));

    const chart = (title, id) => el("figure", { class: "chart" },
      el("figcaption", {}, title), el("canvas", { id, width: 360, height: 170 }));
    container.append(el("div", { class: "charts" },
      chart("Time per phase", "chart-phases"),
      chart("Loop utilization over time", "chart-utilization"),
      chart("Queue wait distribution", "chart-queue-wait"),
      chart("Worker occupancy", "chart-workers")));

    const table = (cls, heads, rows) => el("table", { class: `summary-table ${cls}` },
      el("thead", {}, el("tr", {}, ...heads.map((h) => el("th", {}, h)))),
      el("tbody", {}, ...rows));
    const num = (v) => el("td", { class: "num" }, v === null ? "–" : String(v));
    container.append(el("h4", {}, "Phases"), table("phases",
      ["phase", "count", "total µs", "share", "p50 µs", "p99 µs", "max µs"],
      sum.phases.map((p) => el("tr", {}, el("td", {}, p.name), num(p.count),
        num(p.total_us), el("td", { class: "num" }, Format.percent(p.share)),
        num(p.p50_us), num(p.p99_us), num(p.max_us)))));
    container.append(el("h4", {}, "Callbacks (most total time)"), table("callbacks",
      ["name", "kind", "count", "total µs", "self µs"],
      sum.callbacks.map((c) => el("tr", {}, el("td", {}, c.name), el("td", {}, c.kind ?? "–"),
        num(c.count), num(c.total_us), num(c.self_us)))));
    container.append(el("h4", {}, "Workers"), table("workers",
      ["worker", "tid", "tasks", "busy µs", "busy share"],
      tp.workers.map((w) => el("tr", {}, el("td", {}, w.name), num(w.tid), num(w.tasks),
        num(w.busy_us), el("td", { class: "num" }, Format.percent(w.busy_share))))));
    container.append(el("h4", {}, "Longest busy ticks (what blocked the loop)"),
      el("p", { class: "hint" }, "Busy time is a tick's duration minus its waits " +
        "in poll; ticks cut by the recording's limits are not ranked."),
      table("longest",
      ["tick", "at µs", "busy µs", "wall µs", "callbacks (longest first)"],
      sum.longest_ticks.map((t, i) => el("tr", {},
        el("td", {}, el("button", { class: "link", onclick: () => selectTick(i) },
                       t.tick === null ? "?" : `#${t.tick}`)),
        num(t.ts_us), num(t.busy_us), num(t.dur_us),
        el("td", {}, t.callbacks.map((c) => `${c.name} (${c.kind ?? "–"}) ${c.dur_us} µs`)
                                .join(", "))))));
    if (sum.warnings.length || sum.missing.length) {
      container.append(el("h4", {}, "Notes"), el("ul", { class: "notes" },
        ...sum.warnings.map((w) => el("li", { class: "warning" }, w)),
        ...sum.missing.map((w) => el("li", { class: "missing" }, `not computed: ${w}`))));
    }
    container.append(el("details", { class: "json" }, el("summary", {}, "Summary as JSON"),
      el("pre", { id: "summary-json" }, JSON.stringify(sum, null, 2))));

    Charts.phases(container.querySelector("#chart-phases"), sum.phases);
    Charts.utilization(container.querySelector("#chart-utilization"),
                       chartData.utilization, chartData.binNs);
    Charts.queueWaits(container.querySelector("#chart-queue-wait"), chartData.queueWaitsUs);
    Charts.workers(container.querySelector("#chart-workers"), tp.workers);
  }

  return { el, banners, details, range, summary };
})();
