// stream.js — a trace's bytes as they stream in, through scan.js into a
// table: gzip is inflated on the way (DecompressionStream: a .json.gz is
// never whole in memory), and a gzip stream that ends early keeps what
// was read. The same code runs in the loading worker (load-worker.js)
// and, where a worker cannot start (a page opened from disk), in the page.
"use strict";

const Stream = (() => {
  // The stream of `first` (a chunk already read) then the rest of `reader`.
  function rejoin(first, reader) {
    return new ReadableStream({
      start(c) { c.enqueue(first); },
      async pull(c) {
        const { done, value } = await reader.read();
        if (done) c.close();
        else c.enqueue(value);
      },
      cancel(why) { return reader.cancel(why); },
    });
  }

  // reader.read(), except that a stream that fails (gzip cut short or
  // corrupt) ends instead: {done: true, cut: the reason}.
  async function readOrCut(reader) {
    try {
      return await reader.read();
    } catch (e) {
      return { done: true, cut: e.message || String(e) };
    }
  }

  // Reads byte stream `stream` (`size` its length if known, else 0) into
  // a table, with scan.js's `helper` if one is given. About every 250 ms, and as soon as the table would take
  // `budget` bytes, it calls progress(bytes, events, tableBytes): a string
  // returned stops the read (why). Returns
  // {parsed (scan.js's finish(), or null when stopped), stopped, bytes,
  // events, gzip, helped (batches the helper read), parseMs, read (how it
  // was read, in words)}.
  async function read(stream, size, budget, progress, helper = null) {
    let reader = stream.getReader();
    let gzip = false;
    let first = await reader.read();
    if (!first.done && first.value[0] === 0x1f && first.value[1] === 0x8b) {
      gzip = true;
      reader = rejoin(first.value, reader)
        .pipeThrough(new DecompressionStream("gzip")).getReader();
      first = await readOrCut(reader);
    }
    const parser = Scan.createStreamScanner(gzip ? 0 : size, budget, helper);
    let bytes = 0;
    let parseMs = 0;
    let shown = -Infinity; // the first piece is reported: a worker's clock starts at 0
    let cut = null; // why a gzip stream ended early
    const next = gzip ? () => readOrCut(reader) : () => reader.read();
    for (let got = first; ; got = await next()) {
      if (got.cut) cut = got.cut;
      if (got.done) break;
      const value = got.value;
      bytes += value.byteLength;
      const t = performance.now();
      parser.push(value);
      parseMs += performance.now() - t;
      const tableBytes = parser.bytes();
      if (t - shown > 250 || tableBytes >= budget) { // over it: at once
        shown = t;
        const stop = progress(bytes, parser.count(), tableBytes);
        if (stop) {
          reader.cancel().catch(() => {});
          return { parsed: null, stopped: stop, bytes, events: parser.count(), gzip, parseMs };
        }
      }
    }
    const t = performance.now();
    await parser.drain();
    const parsed = parser.finish();
    if (cut !== null) {
      if (bytes === 0) parsed.error = `not a readable gzip file: ${cut}`;
      else parsed.warnings.unshift(`the gzip data ends early (recording cut short?): ` +
                                   `read ${(bytes / 1e6).toFixed(1)} MB of JSON (${cut})`);
    }
    return {
      parsed, stopped: null, bytes, events: parsed.table ? parsed.table.n : 0, gzip,
      helped: parser.helpedBatches(),
      parseMs: parseMs + performance.now() - t,
      read: (gzip ? "gzip, " : "") +
        (parsed.lineByLine ? "stream, line by line" : "stream, whole text"),
    };
  }

  return { read };
})();
