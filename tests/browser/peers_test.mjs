// Browser tabs as full Raft peers: Debian's Chromium, driven by
// playwright-core, opens the Quick Example page (lib/browser) three times,
// each in a fresh profile, from a conflux-hub that serves the page and
// relays the peers' messages.
//
//   node peers_test.mjs <conflux-hub> <browser dir> <playwright-core dir>
//
// - Bad options are refused with a message naming the option, and a saved
//   log that cannot be restored with a message naming the database.
// - The three tabs elect a leader; each appends; every tab holds the same
//   three items, in the same order. An unknown method is refused by name.
// - With the two others closed, the last tab is reloaded: its term and its
//   committed list come back from IndexedDB (a reload is a crash-restart).
// Every wait has a deadline; the hub and the browser are stopped however
// the test ends.

import { check, launchChromium, openPage, startHub } from "./support.mjs";

const [hubBinary, browserDir, playwrightDir] = process.argv.slice(2);
const pageErrors = [];  // uncaught in any tab: each fails the test

async function openTab(browser, address, id) {
  const { context, page } = await openPage(browser, `http://${address}/quick_example.html?id=${id}`,
                                           `tab ${id}`, pageErrors);
  await page.waitForFunction(() => window.node !== undefined, null, { timeout: 15000 });
  return { id, context, page };
}

async function badOptions(page) {
  const refusals = await page.evaluate(async () => {
    const { conflux } = await import("./conflux.mjs");
    const base = { id: "x", peers: ["x"], channel: { name: "websocket", url: `ws://${location.host}/bad` },
                   methods: {}, reduce: (s) => s };
    const tries = [{ ...base, id: "" }, { ...base, reduce: 3 }, { ...base, methods: { m: 1 } },
                   { ...base, electionTimeout: { min: 500, max: 100 } },
                   { ...base, snapshot: { entries: -1 } },
                   { ...base, id: "a", peers: ["a", "b", "c"],  // this tab's own node, again
                     channel: { name: "websocket", url: `ws://${location.host}/quick` } }];
    const said = [];
    for (const options of tries) {
      try {
        await conflux(options);
        said.push("accepted");
      } catch (error) {
        said.push(error.message);
      }
    }
    return said;
  });
  check(refusals[0] === '"id" must be a non-empty string', `empty id refused: ${refusals[0]}`);
  check(refusals[1] === '"reduce" must be a function', `bad reducer refused: ${refusals[1]}`);
  check(refusals[2] === '"methods.m" must be a function', `bad method refused: ${refusals[2]}`);
  check(/election/.test(refusals[3]), `bad election timeout refused: ${refusals[3]}`);
  check(refusals[4].startsWith('"snapshot" must be {entries, bytes, trailing}'),
        `a bad snapshot policy refused: ${refusals[4]}`);
  check(refusals[5] === 'node "a" of cluster "quick" already runs in another tab',
        `a second engine on one saved node refused: ${refusals[5]}`);

  // A saved log that cannot be restored (it starts at 5, with no snapshot
  // before it) is refused by name, not half-loaded.
  const broken = await page.evaluate(async () => {
    const { conflux } = await import("./conflux.mjs");
    await new Promise((resolve, reject) => {
      const request = indexedDB.open("conflux/broken/z", 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore("meta");
        request.result.createObjectStore("log", { keyPath: "index" }).put(
          { index: 5, term: 1, type: 0, payload: "{}" });
      };
      request.onsuccess = () => { request.result.close(); resolve(); };
      request.onerror = () => reject(request.error);
    });
    try {
      await conflux({ id: "z", peers: ["z"], channel: { name: "websocket", url: `ws://${location.host}/broken` },
                      methods: {}, reduce: (s) => s });
      return "accepted";
    } catch (error) {
      return error.message;
    }
  });
  check(broken.includes('IndexedDB "conflux/broken/z" cannot be restored'), `a broken saved log: ${broken}`);
}

const hub = startHub(hubBinary, browserDir);
let browser;
try {
  browser = await launchChromium(playwrightDir);
  const where = await hub.found;
  const tabs = [];
  for (const id of ["a", "b", "c"]) tabs.push(await openTab(browser, where, id));
  await badOptions(tabs[0].page);

  const leaders = async () => (await Promise.all(tabs.map((t) =>
    t.page.evaluate(() => window.node.status().role)))).filter((role) => role === "leader");
  const deadline = Date.now() + 15000;
  while ((await leaders()).length !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  check((await leaders()).length === 1, "the three tabs elected one leader");

  await Promise.all(tabs.map((t) => t.page.evaluate((id) => window.node.perform("append", [`from ${id}`]), t.id)));
  for (const t of tabs) {
    await t.page.waitForFunction(() => window.node.getState().length === 3, null, { timeout: 10000 });
  }
  const states = await Promise.all(tabs.map((t) => t.page.evaluate(() => JSON.stringify(window.node.getState()))));
  check(states.every((s) => s === states[0]) && ["a", "b", "c"].every((id) => states[0].includes(`from ${id}`)),
        `every tab holds the same list: ${states[0]}`);

  const unknown = await tabs[1].page.evaluate(() => window.node.perform("nope", []).then(
    () => "resolved", (error) => `${error.code}: ${error.message}`));
  check(unknown === "unknown_method: nope is not a registered method", `an unknown method: ${unknown}`);

  const last = tabs[2];
  const term = await last.page.evaluate(() => window.node.status().term);
  // A closed node frees its engine, still shows what it held, and refuses work.
  const closed = await tabs[0].page.evaluate(async () => {
    window.node.close();
    const perform = await window.node.perform("append", ["late"]).then(() => "resolved", (e) => e.message);
    return { items: window.node.getState().length, role: window.node.status().role, perform };
  });
  check(closed.items === 3 && closed.role !== undefined && closed.perform === "the node was closed",
        `a closed tab: ${JSON.stringify(closed)}`);
  await tabs[0].context.close();
  await tabs[1].context.close();
  await last.page.reload();
  await last.page.waitForFunction(() => window.node !== undefined, null, { timeout: 15000 });
  const after = await last.page.evaluate(() => ({ state: JSON.stringify(window.node.getState()),
                                                  term: window.node.status().term }));
  check(after.term >= term, `the reloaded tab is in term ${after.term}, not before ${term}`);
  check(after.state === states[0], `alone, the reloaded tab restored its list: ${after.state}`);
  check(pageErrors.length === 0, `no uncaught error in any tab (${pageErrors.join("; ")})`);
  console.log("browser peers test passed");
} catch (error) {
  console.error(`browser peers test FAILED: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  hub.child.kill("SIGKILL");
}
