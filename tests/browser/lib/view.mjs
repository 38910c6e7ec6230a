// view.mjs — starting `looptrace view FILE --port 0 --no-open`, as a user
// would, and learning the port it chose from the URL it prints. Shared by
// the tests of `view` and by bench-render.mjs (which measures the viewer
// served the way a user serves it).

import { spawn } from "node:child_process";

// Starts `looptrace view FILE --port 0 --no-open EXTRA...` through the
// command `launcher` (e.g. ["prlimit", "--nofile=1024:1024", "--"]; none by
// default). Resolves with {proc, port, origin, out} once the URL is
// printed; rejects if it exits first or prints none within 10 s. `out`
// holds what it printed on both streams so far. The caller stops it.
export function startView(looptrace, file, { extra = [], launcher = [] } = {}) {
  const argv = [...launcher, looptrace, "view", file, "--port", "0", "--no-open", ...extra];
  const proc = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 10_000);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        const port = Number(m[1]);
        resolve({ proc, port, origin: `http://127.0.0.1:${port}`, out });
      }
    });
    proc.stderr.on("data", (d) => { out += d; });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`looptrace view exited ${code}: ${out}`));
    });
  });
}
