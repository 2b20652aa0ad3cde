// A real-browser test of the dashboard: Debian's Chromium, driven by
// playwright-core, against a running conflux-demo.
//
//   node dashboard_test.mjs <conflux-demo> <playwright-core dir> <screenshot.png>
//
// It sees five nodes and exactly one leader, performs an action through the
// form and sees it reach every node, kills the leader with its button and
// sees another node take over, then saves a screenshot. Every wait has a
// deadline; the demo and the browser are stopped however the test ends.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [demoBinary, playwrightDir, screenshot] = process.argv.slice(2);
const { chromium } = createRequire(join(playwrightDir, "package.json"))(playwrightDir);
const chromiumFlags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

function startDemo() {
  const demo = spawn(demoBinary, ["--dashboard", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "inherit"] });
  const url = new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error("the demo printed no dashboard URL in 20 s")), 20000);
    demo.stdout.on("data", (chunk) => {
      seen += chunk;
      const match = seen.match(/dashboard: (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    demo.on("exit", (code) => reject(new Error(`the demo exited early with ${code}`)));
  });
  return { demo, url };
}

async function leaderOf(page) {
  return page.$eval("[data-role=leader]", (card) => card.dataset.node);
}

async function run(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => document.querySelectorAll("[data-node]").length === 5 &&
    document.querySelectorAll("[data-role=leader]").length === 1, null, { timeout: 20000 });
  const leader = await leaderOf(page);
  console.log(`5 nodes, one leader: ${leader}`);

  const follower = await page.$eval(`[data-node]:not([data-node="${leader}"])`, (c) => c.dataset.node);
  await page.selectOption("#perform-node", follower);
  await page.fill("#perform-method", "put");
  await page.fill("#perform-args", '["browser", "hello from chromium"]');
  await page.click("#perform-button");
  await page.waitForFunction(() => document.querySelector("#perform-result").textContent.startsWith("committed"),
    null, { timeout: 10000 });
  await page.waitForFunction(() => [...document.querySelectorAll("pre[data-state=committed]")]
    .filter((pre) => pre.textContent.includes("hello from chromium")).length === 5, null, { timeout: 10000 });
  console.log(`put through ${follower}: committed, and every node shows it`);

  await page.click(`[data-node="${leader}"] button[data-action=kill]`);
  await page.waitForFunction((old) => {
    const leaders = document.querySelectorAll("[data-role=leader]");
    const killed = document.querySelector(`[data-node="${old}"]`).dataset.role === "killed";
    return killed && leaders.length === 1 && leaders[0].dataset.node !== old;
  }, leader, { timeout: 20000 });
  console.log(`killed ${leader}; ${await leaderOf(page)} leads now`);
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
}

const { demo, url } = startDemo();
const profile = mkdtempSync(join(tmpdir(), "conflux-chromium-"));
let context;
let status = 0;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium", headless: true, args: chromiumFlags,
    viewport: { width: 1400, height: 1000 },
  });
  await run(context.pages()[0] ?? await context.newPage(), await url);
  console.log("dashboard test passed");
} catch (error) {
  console.error(`dashboard test FAILED: ${error.message}`);
  status = 1;
} finally {
  if (context) await context.close().catch(() => {});
  demo.kill("SIGINT");
  await new Promise((resolve) => {
    const force = setTimeout(() => demo.kill("SIGKILL"), 5000);
    demo.on("exit", () => { clearTimeout(force); resolve(); });
    if (demo.exitCode !== null) resolve();
  });
  rmSync(profile, { recursive: true, force: true });
}
process.exit(status);
