// theme.js — the one place for names and colours: libuv's phases in their
// order, the colour of each phase, of `wait`, of each callback kind, and the
// palette other spans draw from. Everything else asks here.
//
// These files are classic scripts, not ES modules, on purpose: a page
// opened straight from disk (file://) cannot load modules in Chromium, and
// the viewer must work that way too. Each file defines one top-level
// constant named for its idea; index.html loads them in dependency order.
"use strict";

const Theme = (() => {
  // libuv 1.44 runs timers first; 1.45+ runs them last (TRACE-FORMAT.md).
  const PHASES_1_44 = ["timers", "pending", "idle", "prepare", "poll",
                       "check", "close"];
  const PHASES_1_45 = ["pending", "idle", "prepare", "poll", "check",
                       "close", "timers"];

  // Fixed colours, chosen to be told apart at a glance: the blocking wait
  // is pale (the loop is idle), poll is blue, JS-ish phases warm.
  const PHASE_COLOURS = {
    timers: "#e8a33d",
    pending: "#c96bc3",
    idle: "#9aa5b1",
    prepare: "#7fb77e",
    poll: "#4a90d9",
    check: "#e4665c",
    close: "#8d6e63",
    wait: "#d6e6f5",
  };

  // Callback kinds (TRACE-FORMAT.md, "Callback kind").
  const KIND_COLOURS = {
    timer: "#f2c46d",
    interval: "#f0b04f",
    immediate: "#f08a80",
    work: "#5fb3a1",
    fs: "#6fbf73",
    dns: "#8fd19e",
    crypto: "#3fa58f",
    connection: "#76a7e8",
    connect: "#5d95e0",
    read: "#8cb8ee",
    write: "#a98be0",
    close: "#b08a7e",
    signal: "#e06b9a",
    user: "#c9b458",
  };

  const TICK_COLOUR = "#c7ccd3";
  const SUBMIT_COLOUR = "#2f6f9f";
  const INSTANT_COLOUR = "#d0342c";

  // Threadpool work, by label: cool hues, apart from the phase colours.
  const WORK_PALETTE = ["#2a9d8f", "#3f7fbf", "#6a5acd", "#1f8a70", "#4d9de0",
                        "#7b68ee", "#20b2aa", "#5c7cfa"];

  // Spans that are not ours are coloured by a hash of their name, so one
  // name keeps one colour across lanes and reloads.
  const PALETTE = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#86bcb6", "#8cd17d", "#b6992d",
    "#499894", "#d37295", "#a0cbe8", "#ffbe7d", "#f1ce63", "#d4a6c8",
    "#79706e", "#bab0ac",
  ];

  function hashColour(name, palette = PALETTE) {
    let h = 2166136261;
    for (let i = 0; i < name.length; i++) {
      h ^= name.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    return palette[(h >>> 0) % palette.length];
  }

  // Returns the phase order for a libuv version string such as "1.44.2";
  // without a version, 1.44's order (the one on this Debian).
  function phaseOrder(libuvVersion) {
    const m = /^(\d+)\.(\d+)/.exec(String(libuvVersion || ""));
    if (m && (+m[1] > 1 || (+m[1] === 1 && +m[2] >= 45)))
      return PHASES_1_45;
    return PHASES_1_44;
  }

  // The colour of one span, from what the exporter writes: its cat, name
  // and, for callbacks, its kind.
  function spanColour(cat, name, kind) {
    switch (cat) {
      case "tick": return TICK_COLOUR;
      case "phase": return PHASE_COLOURS[name] || hashColour(name);
      case "wait": return PHASE_COLOURS.wait;
      case "submit": return SUBMIT_COLOUR;
      case "work": return hashColour(name, WORK_PALETTE);
      case "callback":
        return (kind && KIND_COLOURS[kind]) || hashColour(name);
      default: return hashColour(name);
    }
  }

  // What the legend lists: every phase and `wait`.
  function legend() {
    return PHASES_1_44.concat(["wait"]).map((name) => ({
      name, colour: PHASE_COLOURS[name],
    }));
  }

  return {
    PHASES_1_44, PHASES_1_45, PHASE_COLOURS, KIND_COLOURS, TICK_COLOUR,
    INSTANT_COLOUR, hashColour, phaseOrder, spanColour, legend,
  };
})();
