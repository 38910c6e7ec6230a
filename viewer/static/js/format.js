// format.js — how times and numbers read on screen. Internally times are
// integer nanoseconds (as the tracer measures them); people read µs, ms, s.
"use strict";

const Format = (() => {
  // A duration in ns as "812 ns", "12.345 µs", "1.234 ms", "2.500 s".
  function duration(ns) {
    const a = Math.abs(ns);
    if (a < 1e3) return `${trim(ns, 0)} ns`;
    if (a < 1e6) return `${trim(ns / 1e3, 3)} µs`;
    if (a < 1e9) return `${trim(ns / 1e6, 3)} ms`;
    return `${trim(ns / 1e9, 3)} s`;
  }

  // A point in time (ns since the trace's origin), same units.
  const time = duration;

  // Microseconds with the trace's own precision (three decimals).
  function us(ns) {
    return (ns / 1e3).toFixed(3);
  }

  function trim(v, digits) {
    // Enough digits to tell neighbours apart, no trailing zeros noise.
    return Number(v.toFixed(digits)).toString();
  }

  // A share in [0, 1] as a percentage.
  function percent(f) {
    return f === null || f === undefined ? "–" : `${(f * 100).toFixed(1)} %`;
  }

  function count(n) {
    return n.toLocaleString("en-US");
  }

  return { duration, time, us, percent, count };
})();
