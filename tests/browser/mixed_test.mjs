// Tabs and a native peer in one cluster: two Chromium tabs run the C++
// tic-tac-toe app in WebAssembly (conflux({app: 'tictactoe'})) and a
// conflux-node --app tictactoe is the third voter, the referee, all through
// one conflux-hub.
//
//   node mixed_test.mjs <conflux-hub> <conflux-node> <browser dir> <playwright-core dir>
//
// - The two tabs join (X, then O) and play; an out-of-turn move and a taken
//   cell are refused with the game's messages.
// - One tab closes: the other and the referee are still a majority, and X's
//   offer of a tie commits.
// - The native referee's state equals the remaining tab's.
// Every wait has a deadline; the processes and the browser are stopped
// however the test ends.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { check, launchChromium, openPage, start, startHub } from "./support.mjs";

const [hubBinary, nodeBinary, browserDir, playwrightDir] = process.argv.slice(2);
const pageErrors = [];

async function openPlayer(browser, address, id) {
  // A 404 of the hub's origin: nothing runs but what the test evaluates.
  const { context, page } = await openPage(browser, `http://${address}/blank`, `tab ${id}`, pageErrors);
  await page.evaluate(async (self) => {
    const { conflux } = await import("./conflux.mjs");
    window.player = await conflux({ id: self, peers: ["p1", "p2", "ref"], app: "tictactoe",
      channel: { name: "websocket", url: `ws://${location.host}/game` } });
  }, id);
  return { id, context, page };
}

/// What `perform` settles to in `tab`: the action, or "error: <message>".
function perform(tab, method, args) {
  return tab.page.evaluate(([m, a]) => window.player.perform(m, a).then(
    (action) => action, (error) => `error: ${error.message}`), [method, args]);
}

async function refereeState(httpAddress) {
  const reply = await fetch(`http://${httpAddress}/state`);
  return JSON.stringify(await reply.json());
}

const scratch = mkdtempSync(join(tmpdir(), "conflux-mixed-"));
const hub = startHub(hubBinary, browserDir);
let referee;
let browser;
try {
  const address = await hub.found;
  referee = start(nodeBinary, ["--id", "ref", "--app", "tictactoe", "--channel", "ws",
    "--hub", `ws://${address}/game`, "--peer", "p1", "--peer", "p2", "--peer", "ref",
    "--http", "127.0.0.1:0", "--data-dir", join(scratch, "ref")], /HTTP API on http:\/\/(\S+?),/);
  const httpAddress = await referee.found;
  browser = await launchChromium(playwrightDir);
  const p1 = await openPlayer(browser, address, "p1");
  const p2 = await openPlayer(browser, address, "p2");

  const x = await perform(p1, "join", []);
  check(x.player === "X", `the first tab to join plays X: ${JSON.stringify(x)}`);
  const o = await perform(p2, "join", []);
  check(o.player === "O", `the second plays O: ${JSON.stringify(o)}`);
  check((await perform(p1, "claim", ["X", 4])).cell === 4, "X claims the centre");
  check(await perform(p1, "claim", ["X", 0]) === "error: It is not your turn!",
        "X again: It is not your turn!");
  check(await perform(p2, "claim", ["O", 4]) === "error: That cell is already marked!",
        "O on the centre: That cell is already marked!");
  check((await perform(p2, "claim", ["O", 0])).cell === 0, "O claims a corner");

  await p2.context.close();
  const tie = await perform(p1, "tie", ["X"]);
  check(tie.type === "tie", "with one tab closed, the other and the referee still commit");
  const tabState = JSON.stringify(await p1.page.evaluate(() => window.player.getState()));
  const deadline = Date.now() + 10000;
  let native = await refereeState(httpAddress);
  while (native !== tabState && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    native = await refereeState(httpAddress);
  }
  check(native === tabState, `the native referee's state is the tab's: ${native}`);
  check(pageErrors.length === 0, `no uncaught error in any tab (${pageErrors.join("; ")})`);
  console.log("mixed cluster test passed");
} catch (error) {
  console.error(`mixed cluster test FAILED: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  if (referee) referee.child.kill("SIGKILL");
  hub.child.kill("SIGKILL");
  rmSync(scratch, { recursive: true, force: true });
}
