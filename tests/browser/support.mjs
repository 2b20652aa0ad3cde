// What the browser tests share: Debian's Chromium through playwright-core,
// starting a Conflux process and reading an address from its log, and
// checks that print what they verified.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";

const chromiumFlags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/// Debian's Chromium, headless.
export function launchChromium(playwrightDir) {
  const { chromium } = createRequire(join(playwrightDir, "package.json"))(playwrightDir);
  return chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: chromiumFlags });
}

/// Starts `binary` with `args`; `found` resolves with the first capture of
/// `pattern` in its standard error, within 15 s.
export function start(binary, args, pattern) {
  const child = spawn(binary, args, { stdio: ["ignore", "inherit", "pipe"] });
  const found = new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`${binary} printed no ${pattern} in 15 s`)), 15000);
    child.stderr.on("data", (chunk) => {
      process.stderr.write(chunk);
      seen += chunk;
      const match = seen.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`${binary} exited early with ${code}`)));
  });
  return { child, found };
}

/// A conflux-hub on a free loopback port serving `dir`; `found` is its host:port.
export function startHub(hubBinary, dir) {
  return start(hubBinary, ["--listen", "127.0.0.1:0", "--static", dir],
               /listening on ws:\/\/(\S+?)\/<cluster>/);
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
  console.log(`ok: ${message}`);
}

/// A page in a fresh context (its own storage) whose console goes to ours
/// and whose uncaught errors are added to `errors`; `prepare(context)`, if
/// given, runs before the page opens.
export async function openPage(browser, url, name, errors, prepare = undefined) {
  const context = await browser.newContext();
  if (prepare) await prepare(context);
  const page = await context.newPage();
  page.on("console", (m) => console.log(`[${name}] ${m.text()}`));
  page.on("pageerror", (e) => {
    errors.push(`${name}: ${e.message}`);
    console.log(`[${name}] error: ${e.stack ?? e.message}`);
  });
  await page.goto(url);
  return { context, page };
}
