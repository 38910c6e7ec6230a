// parse.js — trace text to an array of events, tolerating what real files
// do: a recording cut short (no closing `]`, half a line at the end), a
// trailing comma, the object form {"traceEvents": [...]}. Anything else that
// is not JSON is an error with a message a person can act on. This is the
// definition of what is accepted; scan.js reads the tracer's layout faster,
// and falls back to it for anything else.
"use strict";

const Parse = (() => {
  const OPEN_BRACE = 123, CLOSE_BRACE = 125, OPEN_BRACKET = 91,
    CLOSE_BRACKET = 93, QUOTE = 34, BACKSLASH = 92;

  // Returns {events, otherData, warnings, error}. `error` is a string when
  // nothing could be shown; `warnings` lists what was tolerated.
  function parseTrace(text) {
    const warnings = [];
    const fail = (error) => ({ events: [], otherData: null, warnings, error });
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const first = firstNonSpace(text);
    if (first < 0) return fail("the file is empty");
    const c = text.charCodeAt(first);
    if (c !== OPEN_BRACKET && c !== OPEN_BRACE) {
      return fail("not a trace file: expected a JSON array or object, found " +
                  JSON.stringify(text.slice(first, first + 40)));
    }

    let root;
    try {
      root = JSON.parse(text);
    } catch (e) {
      // Most often the tracer was killed: keep every complete event.
      const fixed = repair(text, first);
      if (fixed === null) return fail(`not valid JSON: ${e.message}`);
      try {
        root = JSON.parse(fixed.text);
      } catch (e2) {
        return fail(`not valid JSON: ${e.message}`);
      }
      const n = eventsOf(root).length;
      // The words are those of `looptrace stat`, whose summary's warnings
      // the viewer's must equal.
      if (!fixed.closed) {
        warnings.push(fixed.closers === "]"
          ? `file ends without ']' (recording cut short?); read ${n} events`
          : `file ends inside the trace (recording cut short?); read ${n} events`);
      } else if (fixed.rootEnd > 0 && text.slice(fixed.rootEnd).trim() !== "") {
        let at = fixed.rootEnd;
        while (isSpace(text.charCodeAt(at))) at++;
        warnings.push("ignored data after the end of the trace (byte " +
                      `${new TextEncoder().encode(text.slice(0, at)).length})`);
      }
    }

    let events = eventsOf(root);
    if (events === null) {
      return fail("not a trace: this JSON object has no \"traceEvents\" array");
    }
    const otherData = Array.isArray(root) ? null : root.otherData || null;
    let skipped = 0;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      if (ev === null || typeof ev !== "object" || Array.isArray(ev)) skipped++;
    }
    if (skipped > 0) {
      events = events.filter((ev) => ev !== null && typeof ev === "object" &&
                                     !Array.isArray(ev));
      warnings.push(`skipped ${skipped} elements of the events array that are not objects`);
    }
    if (events.length === 0) return fail("the trace holds no events");
    return { events, otherData, warnings, error: null };
  }

  function eventsOf(root) {
    if (Array.isArray(root)) return root;
    if (root && typeof root === "object" && Array.isArray(root.traceEvents))
      return root.traceEvents;
    return null;
  }

  function firstNonSpace(text) {
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch !== 32 && ch !== 10 && ch !== 13 && ch !== 9) return i;
    }
    return -1;
  }

  // Cuts `text` after its last complete event and closes the containers
  // still open there. Returns {text, closers, closed} or null when the
  // brackets do not match (garbage, not truncation). `closed` says the
  // events array was closed in the file: the failure was elsewhere (a
  // trailing comma), not a missing end; `rootEnd` where the outermost
  // container closed (0 if it never did).
  function repair(text, start) {
    const stack = [];
    let rootEnd = 0;
    let eventsDepth = -1; // stack depth inside the events array
    let prefix = null; // the containers open around the events array
    let cut = -1;
    let closed = false;
    const n = text.length;
    let i = start;
    while (i < n) {
      const ch = text.charCodeAt(i);
      if (ch === QUOTE) {
        i = skipString(text, i + 1);
        continue;
      }
      if (ch === OPEN_BRACE || ch === OPEN_BRACKET) {
        if (ch === OPEN_BRACKET && eventsDepth < 0 && !closed &&
            isEventsArray(text, stack, i)) {
          eventsDepth = stack.length + 1;
          prefix = stack.concat([ch]);
        }
        stack.push(ch);
      } else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) {
        const open = stack.pop();
        if (open === undefined ||
            (open === OPEN_BRACE) !== (ch === CLOSE_BRACE))
          return null;
        if (ch === CLOSE_BRACE && stack.length === eventsDepth) cut = i + 1;
        if (stack.length === 0 && rootEnd === 0) rootEnd = i + 1;
        if (ch === CLOSE_BRACKET && stack.length === eventsDepth - 1) {
          closed = true;
          eventsDepth = -1;
        }
      }
      i++;
    }
    if (cut < 0 || prefix === null) return null;
    const closers = prefix.reverse()
      .map((ch) => (ch === OPEN_BRACE ? "}" : "]")).join("");
    return { text: text.slice(0, cut) + closers, closers, closed, rootEnd };
  }

  // The top-level array, or the array under a top-level "traceEvents" key.
  function isEventsArray(text, stack, i) {
    if (stack.length === 0) return true;
    if (stack.length !== 1 || stack[0] !== OPEN_BRACE) return false;
    return /"traceEvents"\s*:\s*$/.test(text.slice(Math.max(0, i - 64), i));
  }

  // Returns the index after the string starting at `i` (after its quote),
  // or the end of the text for a string cut short.
  function skipString(text, i) {
    for (;;) {
      const q = text.indexOf('"', i);
      if (q < 0) return text.length;
      let b = q - 1;
      let slashes = 0;
      while (b >= i && text.charCodeAt(b) === BACKSLASH) {
        slashes++;
        b--;
      }
      i = q + 1;
      if ((slashes & 1) === 0) return i;
    }
  }

  function isSpace(ch) {
    return ch === 32 || ch === 10 || ch === 13 || ch === 9;
  }

  return { parseTrace, repair };
})();
