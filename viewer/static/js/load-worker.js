// load-worker.js — reads a big trace off the page's thread: fetches it (or
// reads the opened file), inflates gzip, scans it into a table
// (stream.js, scan.js) and hands the table's columns to the page without
// copying them (transferred buffers). The page stays responsive while a
// trace of millions of events streams in. Messages, one per load:
//
//   in:  {url, wholeTextLimit, budget, helperFrom}   a trace to fetch
//        {file, budget, helperFrom}                  a File to read
//   out: {type: "progress", bytes, events, tableBytes}   about every 250 ms
//        {type: "missing", status, statusText}   the fetch was refused
//        {type: "text", text}   a small response: the page parses it whole
//        {type: "stopped", bytes, events, tableBytes}   over the budget
//        {type: "done", result}   stream.js's result, its table as a message
//        {type: "error", message}
//
// With two cores or more, a second worker (this script again, as a helper:
// first message {helper: true}) scans every other batch of lines once
// `helperFrom` bytes have come (scan.js puts them back in order).
"use strict";

importScripts("vocab.js", "parse.js", "table.js", "scan.js", "stream.js");

self.onmessage = async (e) => {
  const job = e.data;
  if (job.helper) {
    self.onmessage = helping();
    return;
  }
  try {
    let stream, size;
    if (job.url !== undefined) {
      const res = await fetch(job.url, { cache: "no-store" });
      if (!res.ok) {
        self.postMessage({ type: "missing", status: res.status, statusText: res.statusText });
        return;
      }
      // A .json.gz trace comes with Content-Encoding: gzip (`looptrace
      // view`): fetch inflates it, and the length is the compressed one,
      // so it always streams. A raw .gz body is found by its magic.
      const encoded = res.headers.get("content-encoding");
      size = Number(res.headers.get("content-length")) || 0;
      if (!(size === 0 || size > job.wholeTextLimit || encoded ||
            /\.gz$/i.test(new URL(job.url).pathname))) {
        self.postMessage({ type: "text", text: await res.text() });
        return;
      }
      if (encoded) size = 0;
      stream = res.body;
    } else {
      stream = job.file.stream();
      size = job.file.size;
    }
    let tableBytes = 0;
    const r = await Stream.read(stream, size, job.budget, (bytes, events, tb) => {
      tableBytes = tb;
      self.postMessage({ type: "progress", bytes, events, tableBytes: tb });
      return tb >= job.budget ? "table" : null;
    }, helper(job.helperFrom));
    if (r.stopped) {
      self.postMessage({ type: "stopped", bytes: r.bytes, events: r.events, tableBytes });
      return;
    }
    const transfer = [];
    if (r.parsed.table) {
      const m = Table.toMessage(r.parsed.table);
      r.parsed.table = m.message;
      transfer.push(...m.transfer);
    }
    self.postMessage({ type: "done", result: r }, transfer);
  } catch (err) {
    self.postMessage({ type: "error", message: err.message || String(err) });
  }
};

// The helper of a reading (scan.js): started at its first batch, or null
// with one core.
function helper(from) {
  if (!(from >= 0) || !(navigator.hardwareConcurrency > 1)) return null;
  let w = null;
  return {
    from,
    post(bytes) {
      if (w === null) {
        w = new Worker("load-worker.js");
        w.postMessage({ helper: true });
      }
      w.postMessage({ batch: bytes }, [bytes.buffer]);
    },
    collect() {
      return new Promise((resolve) => {
        w.onmessage = (m) => {
          w.terminate();
          resolve(m.data);
        };
        // Its batches are lost: the reading cannot go on.
        w.onerror = () => resolve({ fallback: true });
        w.postMessage({ collect: true });
      });
    },
  };
}

// A helper's messages: batches of whole lines, then collect (the table
// and each batch's count).
function helping() {
  const scanner = Scan.createStreamScanner(0, Infinity);
  const counts = [];
  let failed = false;
  return (e) => {
    const m = e.data;
    if (m.batch !== undefined) {
      if (failed) return;
      const n = scanner.readLines(m.batch);
      if (n < 0) failed = true;
      else counts.push(n);
      return;
    }
    const t = Table.toMessage(scanner.table());
    self.postMessage({ table: t.message, counts, fallback: failed }, t.transfer);
  };
}
