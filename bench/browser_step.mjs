// The cost of the engine's steps inside a browser tab, against native: the
// same seeded schedules (tests/wasm/engine_digest.cpp: performs, reads, lost
// and reordered packets, snapshots, every packet as JSON text) run by the
// native build and by the WebAssembly build inside Debian's headless
// Chromium, alternately, in one run. Both must print the same digests.
//
//   node bench/browser_step.mjs <engine_replay_digest> <engine_digest.js> <playwright-core dir> [seeds] [rounds]
//
// Prints, per round, each side's time and the ratio; docs/performance.md
// records the figures.

import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";

const [native, wasmJs, playwrightDir, seedsArg = "60", roundsArg = "2"] = process.argv.slice(2);
const seeds = Number(seedsArg);
const steps = seeds * 1500;

function runNative() {
  const start = process.hrtime.bigint();
  const out = execFileSync(native, [String(seeds)], { encoding: "utf8" });
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, out };
}

/// The module's load and compilation are timed apart from the schedules.
async function runChromium(browser) {
  const page = await browser.newPage();
  await page.goto("about:blank");
  await page.evaluate((args) => {
    window.lines = [];
    window.done = new Promise((resolve) => {
      window.Module = { arguments: args, print: (line) => window.lines.push(line),
                        preRun: [() => { window.started = performance.now(); }],
                        postRun: [() => resolve(performance.now() - window.started)] };
    });
  }, [String(seeds)]);
  const loading = Date.now();
  await page.addScriptTag({ path: wasmJs });
  const ms = await page.evaluate(() => window.done);
  const loaded = (Date.now() - loading) / 1000;
  const out = (await page.evaluate(() => window.lines)).join("\n") + "\n";
  await page.close();
  return { seconds: ms / 1000, withLoad: loaded, out };
}

const { chromium } = createRequire(join(playwrightDir, "package.json"))(playwrightDir);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true,
                                        args: ["--headless", "--no-sandbox", "--disable-gpu"] });
try {
  console.log(`${seeds} schedules of 1,500 steps (${steps} steps) per run`);
  for (let round = 1; round <= Number(roundsArg); ++round) {
    const n = runNative();
    const w = await runChromium(browser);
    if (n.out !== w.out) throw new Error("the native and Chromium digests differ");
    console.log(`round ${round}: native ${n.seconds.toFixed(2)} s (${(n.seconds * 1e6 / steps).toFixed(1)} µs/step), ` +
                `Chromium ${w.seconds.toFixed(2)} s (${(w.seconds * 1e6 / steps).toFixed(1)} µs/step; ` +
                `${w.withLoad.toFixed(2)} s with loading), ratio ${(w.seconds / n.seconds).toFixed(2)}`);
  }
} finally {
  await browser.close();
}
