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
// - Snapshots (Raft §7) across tabs and native peers: the referee and p1
//   compact their logs after every entry (p1 into its IndexedDB), so when
//   p2 comes back it is sent a snapshot, which it stores in IndexedDB. It
//   is then reloaded and restores the board from that snapshot.
// - The native referee's state equals the tabs'.
// Every wait has a deadline; the processes and the browser are stopped
// however the test ends.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { check, launchChromium, openPage, start, startHub } from "./support.mjs";

const [hubBinary, nodeBinary, browserDir, playwrightDir] = process.argv.slice(2);
const pageErrors = [];

/// A tab of player `id` in `context` (a fresh one if none: its own storage),
/// whose node takes a snapshot after `snapshotEvery` entries.
async function openPlayer(browser, address, id, snapshotEvery, context = undefined) {
  // A 404 of the hub's origin: nothing runs but what the test evaluates.
  const url = `http://${address}/blank`;
  const opened = context ? { context, page: await context.newPage() }
                         : await openPage(browser, url, `tab ${id}`, pageErrors);
  if (context) {
    opened.page.on("console", (m) => console.log(`[tab ${id}] ${m.text()}`));
    opened.page.on("pageerror", (e) => pageErrors.push(`${id}: ${e.message}`));
    await opened.page.goto(url);
  }
  await startPlayer(opened.page, id, snapshotEvery);
  return { id, ...opened };
}

function startPlayer(page, id, snapshotEvery) {
  return page.evaluate(async ([self, every]) => {
    const { conflux } = await import("./conflux.mjs");
    window.player = await conflux({ id: self, peers: ["p1", "p2", "ref"], app: "tictactoe",
      channel: { name: "websocket", url: `ws://${location.host}/game` },
      snapshot: { entries: every, trailing: 0 } });
  }, [id, snapshotEvery]);
}

/// The snapshot tab `id` holds in IndexedDB (its meta), or null.
function savedSnapshot(tab) {
  return tab.page.evaluate((id) => new Promise((resolve, reject) => {
    const request = indexedDB.open(`conflux/game/${id}`, 1);
    request.onsuccess = () => {
      const get = request.result.transaction("meta").objectStore("meta").get("snapshot");
      get.onsuccess = () => { request.result.close(); resolve(get.result ? get.result.meta : null); };
      get.onerror = () => reject(get.error);
    };
    request.onerror = () => reject(request.error);
  }), tab.id);
}

const stateOf = async (tab) => JSON.stringify(await tab.page.evaluate(() => window.player.getState()));

/// Polls `read` until it returns `want` or 10 s pass; the last value read.
async function until(read, want) {
  const deadline = Date.now() + 10000;
  let value = await read();
  while (value !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
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
    "--snapshot-entries", "1", "--snapshot-trailing", "0",
    "--http", "127.0.0.1:0", "--data-dir", join(scratch, "ref")], /HTTP API on http:\/\/(\S+?),/);
  const httpAddress = await referee.found;
  browser = await launchChromium(playwrightDir);
  const p1 = await openPlayer(browser, address, "p1", 1);
  let p2 = await openPlayer(browser, address, "p2", 1000);

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

  // p2 takes none of its own (it would after 1000 entries): whatever
  // snapshot its IndexedDB holds was sent by a leader.
  const before = (await savedSnapshot(p2))?.index ?? 0;
  await p2.page.close();  // its IndexedDB stays, in its context
  const tie = await perform(p1, "tie", ["X"]);
  check(tie.type === "tie", "with one tab closed, the other and the referee still commit");
  check((await perform(p1, "claim", ["X", 8])).cell === 8, "X claims another cell");
  const tabState = await stateOf(p1);
  const native = await until(() => refereeState(httpAddress), tabState);
  check(native === tabState, `the native referee's state is the tab's: ${native}`);
  const own = await savedSnapshot(p1);
  check(own && own.index > 0, `p1 stored its own snapshot in IndexedDB, at ${own && own.index}`);

  p2 = await openPlayer(browser, address, "p2", 1000, p2.context);
  check(await until(() => stateOf(p2), tabState) === tabState, "p2 came back and caught up");
  const installed = await savedSnapshot(p2);
  check(installed && installed.index > before, "p2 was sent a snapshot and stored it in IndexedDB, " +
        `at ${installed && installed.index} (before it left: ${before})`);
  await p2.page.reload();
  await startPlayer(p2.page, "p2", 1000);
  check(await stateOf(p2) === tabState, "p2, reloaded, restored the board from its snapshot at once");
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
