// vocab.mjs — the viewer's vocabulary (build/viewer/js/vocab.js, generated
// from runtime/include/looprt_vocab.h) and theme.js, loaded as index.html
// loads them: classic scripts in one context. For tests that need no
// browser.

import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { BUILD, SRC } from "./harness.mjs";

// Returns { Vocab, Theme }; fails with a clear line when make has not run.
export function loadVocab() {
  const vocab = path.join(BUILD, "viewer/js/vocab.js");
  if (!fs.existsSync(vocab)) {
    console.error(`${vocab} is missing: run make first`);
    process.exit(1);
  }
  const ctx = vm.createContext({});
  vm.runInContext(fs.readFileSync(vocab, "utf8") + "\nthis.Vocab = Vocab;", ctx);
  vm.runInContext(fs.readFileSync(path.join(SRC, "viewer/static/js/theme.js"), "utf8") +
                  "\nthis.Theme = Theme;", ctx);
  return { Vocab: ctx.Vocab, Theme: ctx.Theme };
}
