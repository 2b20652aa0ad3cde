// A real-browser test of the dashboard: Debian's Chromium, driven by
// playwright-core, against a running conflux-demo.
//
//   node dashboard_test.mjs <conflux-demo> <playwright-core dir> <screenshot.png>
//
// It sees five nodes and exactly one leader, performs an action through the
// form and sees it reach every node, removes a follower, adds it back as a
// learner, promotes it and transfers leadership to it with the Members
// buttons, kills the leader with its button and
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

// Thesis ch. 4 from the Members section: remove a follower, add it back as a
// learner from its card, promote it, then hand leadership to it (§3.10).
async function membership(page, leader, follower) {
  await page.click(`[data-member-row="${follower}"] button[data-member-action=remove]`);
  await page.waitForFunction((id) => document.querySelectorAll("[data-member-row][data-kind=voter]").length === 4 &&
    document.querySelector(`[data-node="${id}"] [data-member=none]`) !== null, follower, { timeout: 10000 });
  console.log(`removed ${follower}: 4 voters, and its card says it is not a member`);

  await page.click(`[data-node="${follower}"] button[data-member-action=add-learner]`);
  await page.waitForFunction((id) =>
    document.querySelector(`[data-member-row="${id}"]`)?.dataset.kind === "learner", follower, { timeout: 10000 });
  await page.click(`[data-member-row="${follower}"] button[data-member-action=promote]`);
  await page.waitForFunction((id) =>
    document.querySelector(`[data-member-row="${id}"]`)?.dataset.kind === "voter" &&
    document.querySelectorAll("[data-member-row][data-kind=voter]").length === 5, follower, { timeout: 10000 });
  console.log(`added ${follower} back as a learner, then promoted it: 5 voters`);

  await page.click(`[data-member-row="${follower}"] button[data-member-action=transfer]`);
  await page.waitForFunction((id) => {
    const leaders = document.querySelectorAll("[data-role=leader]");
    return leaders.length === 1 && leaders[0].dataset.node === id;
  }, follower, { timeout: 10000 });
  console.log(`leadership moved from ${leader} to ${follower}`);
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

  await membership(page, leader, follower);

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
