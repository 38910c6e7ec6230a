// theme.js — the one place for colours: of each phase, of `wait`, of each
// callback kind, and the palette other spans draw from. The names it
// colours come from vocab.js.
//
// These files are classic scripts, not ES modules, on purpose: a page
// opened straight from disk (file://) cannot load modules in Chromium, and
// the viewer must work that way too. Each file defines one top-level
// constant named for its idea; index.html loads them in dependency order.
"use strict";

const Theme = (() => {
  // A table name -> colour from vocab.js's names and colours in the same
  // order; a list that does not match its names is a defect, caught at load.
  function byName(names, colours) {
    if (names.length !== colours.length)
      throw new Error(`theme.js: ${colours.length} colours for ${names.length} names`);
    return Object.freeze(Object.fromEntries(names.map((n, i) => [n, colours[i]])));
  }

  // Fixed colours, chosen to be told apart at a glance: the blocking wait
  // is pale (the loop is idle), poll is blue, JS-ish phases warm.
  const PHASE_COLOURS = byName(Vocab.PHASES_1_44.concat([Vocab.CAT.WAIT]), [
    "#e8a33d", // timers
    "#c96bc3", // pending
    "#9aa5b1", // idle
    "#7fb77e", // prepare
    "#4a90d9", // poll
    "#e4665c", // check
    "#8d6e63", // close
    "#d6e6f5", // wait
  ]);

  // Callback kinds, in Vocab.CALLBACK_KINDS's order.
  const KIND_COLOURS = byName(Vocab.CALLBACK_KINDS, [
    "#f2c46d", // timer
    "#f0b04f", // interval
    "#f08a80", // immediate
    "#5fb3a1", // work
    "#6fbf73", // fs
    "#8fd19e", // dns
    "#3fa58f", // crypto
    "#76a7e8", // connection
    "#5d95e0", // connect
    "#8cb8ee", // read
    "#a98be0", // write
    "#b08a7e", // close
    "#e06b9a", // signal
    "#c9b458", // user
  ]);

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

  // The colour of one span, from what the exporter writes: its cat, name
  // and, for callbacks, its kind.
  function spanColour(cat, name, kind) {
    const C = Vocab.CAT;
    switch (cat) {
      case C.TICK: return TICK_COLOUR;
      case C.PHASE: return PHASE_COLOURS[name] || hashColour(name);
      case C.WAIT: return PHASE_COLOURS[C.WAIT];
      case C.SUBMIT: return SUBMIT_COLOUR;
      case C.WORK: return hashColour(name, WORK_PALETTE);
      case C.CALLBACK:
        return (kind && KIND_COLOURS[kind]) || hashColour(name);
      default: return hashColour(name);
    }
  }

  // What the legend lists: every phase and `wait`.
  function legend() {
    return Vocab.PHASES_1_44.concat([Vocab.CAT.WAIT]).map((name) => ({
      name, colour: PHASE_COLOURS[name],
    }));
  }

  return {
    PHASE_COLOURS, KIND_COLOURS, TICK_COLOUR, INSTANT_COLOUR, hashColour,
    spanColour, legend,
  };
})();
