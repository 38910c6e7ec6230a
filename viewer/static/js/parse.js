// parse.js — trace text to an array of events, tolerating what real files
// do: a recording cut short (no closing `]`, half a line at the end), a
// trailing comma, the object form {"traceEvents": [...]}. Anything else that
// is not JSON is an error with a message a person can act on.
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

  // A parser fed text as it arrives (fetch or file stream), for the
  // tracer's layout: `[`, then one event per line ending in `,`, then `]`.
  // Whole lines are parsed in batches while the rest downloads; anything
  // else (object form, pretty-printed JSON, an odd line) makes it fall back
  // to parseTrace() on the whole text at the end, which stays the one
  // definition of what is accepted. Returns {push(text), finish()}, finish
  // giving what parseTrace gives.
  const KEEP_LIMIT = 400e6; // chars kept for the fallback; beyond, no fallback
  const BATCH = 4e6;

  function createStreamParser() {
    const chunks = [];
    let kept = 0;
    let fast = true;
    let carry = "";
    let opened = false;
    let closed = false;
    let trailingComma = false; // the last parsed line ended with ','
    const events = [];

    function fallback() {
      fast = false;
      carry = "";
      events.length = 0;
    }

    // Text is gathered into batches of about BATCH chars: fetch hands over
    // 64 KB pieces, and one JSON.parse per piece costs more than the text.
    let pending = [];
    let pendingLen = 0;
    function push(text, last) {
      if (kept <= KEEP_LIMIT) chunks.push(text);
      kept += text.length;
      if (!fast) return;
      pending.push(text);
      pendingLen += text.length;
      if (pendingLen < BATCH && !last) return;
      const s = carry + pending.join("");
      pending = [];
      pendingLen = 0;
      const nl = s.lastIndexOf("\n");
      if (nl < 0) {
        carry = s;
        return;
      }
      // A last line without its ',' is the last event: wait for the ']'.
      let end = nl + 1;
      let j = nl;
      while (j > 0 && isSpace(s.charCodeAt(j - 1))) j--;
      const ch = j > 0 ? s.charCodeAt(j - 1) : 44;
      if (ch !== 44 && ch !== CLOSE_BRACKET && ch !== OPEN_BRACKET)
        end = s.lastIndexOf("\n", j - 1) + 1;
      carry = s.slice(end);
      lines(s.slice(0, end));
    }

    // Parses a run of whole lines.
    function lines(body) {
      let a = 0, b = body.length;
      while (a < b && isSpace(body.charCodeAt(a))) a++;
      while (b > a && isSpace(body.charCodeAt(b - 1))) b--;
      if (a === b) return;
      if (closed) return fallback(); // something after the closing ']'
      if (!opened) {
        if (body.charCodeAt(a) !== OPEN_BRACKET) return fallback();
        opened = true;
        a++;
        while (a < b && isSpace(body.charCodeAt(a))) a++;
        if (a === b) return;
      }
      if (body.charCodeAt(b - 1) === CLOSE_BRACKET) {
        closed = true;
        b--;
        while (b > a && isSpace(body.charCodeAt(b - 1))) b--;
        if (a === b) {
          if (trailingComma) fallback(); // "[...,\n]": let parseTrace judge
          return;
        }
      }
      trailingComma = body.charCodeAt(b - 1) === 44;
      if (trailingComma) b--;
      else if (!closed) return fallback(); // a line without its ','
      let batch;
      try {
        batch = JSON.parse("[" + body.slice(a, b) + "]");
      } catch (e) {
        return fallback();
      }
      for (let i = 0; i < batch.length; i++) {
        const ev = batch[i];
        if (ev === null || typeof ev !== "object" || Array.isArray(ev)) return fallback();
        events.push(ev);
      }
    }

    function finish() {
      push("", true);
      if (fast && carry.trim() !== "") {
        // The last line had no newline: whole (`]`, or an event and `]`) or
        // cut short (then parseTrace's repair is the rule).
        const tail = carry;
        carry = "";
        if (/\]\s*$/.test(tail)) {
          lines(tail + "\n");
        } else {
          // Cut inside the last line: keep its complete events, as repair()
          // would on the whole text (everything before it is whole).
          const fixed = repair("[" + tail, 0);
          let rest = null;
          try {
            rest = fixed === null ? null : JSON.parse(fixed.text);
          } catch (e) {
            rest = null;
          }
          if (fixed === null && opened && /^\s*\{/.test(tail)) rest = []; // half an event
          if (rest === null || !opened) {
            fallback();
          } else {
            for (const ev of rest) {
              if (ev === null || typeof ev !== "object" || Array.isArray(ev)) fallback();
              else events.push(ev);
            }
            trailingComma = true; // whatever the tail was, the file was cut
          }
        }
      }
      // `lineByLine` tells tests the fast path did the work.
      if (fast && opened && closed && events.length > 0) {
        return { events, otherData: null, warnings: [], error: null, lineByLine: true };
      }
      if (fast && opened && !closed && trailingComma && events.length > 0) {
        // Cut right after a line: every event read is whole.
        return { events, otherData: null, error: null, lineByLine: true, warnings: [
          `file ends without ']' (recording cut short?); read ${events.length} events`] };
      }
      if (kept > KEEP_LIMIT) {
        return { events: [], otherData: null, warnings: [], error:
          `this ${(kept / 1e6).toFixed(0)} MB file is not in the one-event-per-line ` +
          "layout, and is too large to read as one string" };
      }
      return parseTrace(chunks.join(""));
    }

    // How many events the line-by-line path has parsed so far.
    const count = () => events.length;

    return { push, finish, count };
  }

  function isSpace(ch) {
    return ch === 32 || ch === 10 || ch === 13 || ch === 9;
  }

  return { parseTrace, createStreamParser };
})();
