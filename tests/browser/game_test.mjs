// The tic-tac-toe page (apps/tictactoe) in Debian's Chromium: two tabs, each
// a full Raft peer, served by and relayed through one conflux-hub.
//
//   node game_test.mjs <conflux-hub> <browser dir> <playwright-core dir> [screenshot prefix]
//
// - The first tab creates a room and shows the link; the second opens it;
//   they are X and O.
// - A taken cell and an out-of-turn move are refused with their messages.
// - The leading tab is reloaded mid-game (a crash-restart) and resumes with
//   the same board and seat; the other is elected. No tab ever grants its
//   vote to two candidates in one term: every vote a page sends is recorded,
//   across reloads. A page that sends the hub garbage is cut off with a
//   reason, and the game goes on.
// - X wins a row, and both tabs say so.
// - The winner's tab closes: the other says it is waiting for the other
//   player.
// Every wait has a deadline; the hub and the browser are stopped however
// the test ends.

import { check, launchChromium, openPage, startHub } from "./support.mjs";

const [hubBinary, browserDir, playwrightDir, screenshots] = process.argv.slice(2);
const pageErrors = [];
// Seating needs the two tabs to elect a leader and commit: slow on two
// loaded vCPUs (this test runs beside the process tests).
const wait = { timeout: 45000 };
const open = (browser, url, name) => openPage(browser, url, name, pageErrors, recordVotes);

// Every vote a page grants, whatever page of its context sends it: voter and
// term -> the candidates it granted its vote to (Raft §5.2: at most one).
const votes = new Map();
async function recordVotes(context) {
  await context.exposeBinding("confluxSent", (_source, text) => {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;  // the garbage this test sends on purpose
    }
    if (message.type !== "vote_response" || !message.granted) return;
    const key = `${message.from} in term ${message.term}`;
    votes.set(key, new Set([...(votes.get(key) ?? []), message.to]));
  });
  await context.addInitScript(() => {
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
      window.confluxSent(String(data));
      return send.call(this, data);
    };
  });
}
const highestVoteTerm = () => Math.max(0, ...[...votes.keys()].map((key) => Number(key.split(" ").pop())));

const seat = (page, player) => page.waitForFunction((p) => document.querySelector("#me").textContent === p,
                                                    player, wait);
const said = (page, text) => page.waitForFunction((t) => document.querySelector("#message").textContent === t,
                                                  text, wait);
const marked = (page, cell, mark) => page.waitForFunction(([c, m]) =>
  document.querySelector(`[data-cell="${c}"]`).textContent === m, [cell, mark], wait);

async function play(page, cell, mark, others) {
  await page.click(`[data-cell="${cell}"]`);
  for (const p of [page, ...others]) await marked(p, cell, mark);
}

// What each tab shows and what its node says: printed when the test fails.
const tabs = [];
const describe = async () => Promise.all(tabs.map(async (tab) => {
  try {
    return `${tab.name}: ` + await tab.page.evaluate(() => JSON.stringify({
      me: document.querySelector("#me")?.textContent, message: document.querySelector("#message")?.textContent,
      peer: document.querySelector("#peer")?.textContent, status: window.node?.status?.() }));
  } catch (error) {
    return `${tab.name}: ${error}`;
  }
}));

const hub = startHub(hubBinary, browserDir);
let browser;
try {
  browser = await launchChromium(playwrightDir);
  const where = await hub.found;
  const first = await open(browser, `http://${where}/tictactoe.html`, "first tab");
  tabs.push({ name: "first tab", page: first.page });
  const link = await first.page.waitForSelector("#link", wait).then((a) => a.getAttribute("href"));
  check(/room=\w+&id=p2$/.test(link), `the first tab shows the room's link: ${link}`);
  const second = await open(browser, link, "second tab");
  tabs.push({ name: "second tab", page: second.page });
  // Seats go in the order the joins commit: both tabs' joins may be in
  // flight at once, so either may be X.
  const seated = (tab) => tab.page.waitForFunction(() => ["X", "O"].includes(document.querySelector("#me").textContent),
                                                   null, wait).then((mark) => mark.jsonValue());
  await Promise.all([seated(first), seated(second)]);
  const firstIsX = (await first.page.evaluate(() => document.querySelector("#me").textContent)) === "X";
  const [x, o] = firstIsX ? [first, second] : [second, first];
  await seat(x.page, "X");
  await seat(o.page, "O");
  check(true, `the two tabs hold seats X and O (the ${firstIsX ? "first" : "second"} tab is X)`);
  await o.page.waitForFunction(() => document.querySelector("#peer").dataset.connected === "true", null, wait);

  await play(x.page, 4, "X", [o.page]);
  await o.page.click('[data-cell="4"]');
  await said(o.page, "That cell is already marked!");
  check(true, "a taken cell: That cell is already marked!");
  await x.page.click('[data-cell="0"]');
  await said(x.page, "It is not your turn!");
  check(true, "out of turn: It is not your turn!");
  await play(o.page, 0, "O", [x.page]);
  await play(x.page, 1, "X", [o.page]);
  await play(o.page, 2, "O", [x.page]);

  if (screenshots) {  // the middle of a game, for the README
    await x.page.screenshot({ path: `${screenshots}-x.png` });
    await o.page.screenshot({ path: `${screenshots}-o.png` });
  }
  const role = (tab) => tab.page.evaluate(() => window.node.status().role);
  const leading = (await role(x)) === "leader" ? x : o;
  const votedBefore = highestVoteTerm();
  check(votedBefore > 0, `the tabs elected a leader: votes were granted (${[...votes.keys()]})`);
  await leading.page.reload();
  await seat(leading.page, leading === x ? "X" : "O");
  for (const [cell, mark] of [[0, "O"], [1, "X"], [2, "O"], [4, "X"]]) await marked(leading.page, cell, mark);
  check(true, "the leading tab, reloaded, resumes with its seat and the board");
  await x.page.waitForFunction(() => window.node.status().leader !== "", null, wait);
  const deadline = Date.now() + 15000;
  while (highestVoteTerm() <= votedBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  check(highestVoteTerm() > votedBefore, `a leader was elected after the reload, in term ${highestVoteTerm()}`);

  // A page that sends the hub garbage is cut off with a reason; the game goes on.
  const cutOff = await o.page.evaluate((room) => new Promise((resolve) => {
    const ws = new WebSocket(`ws://${location.host}/ttt-${room}`);
    ws.onopen = () => ws.send(JSON.stringify({ type: "hello", version: 1, cluster: `ttt-${room}`,
                                               from: "mallory", to: "hub" }));
    ws.onmessage = () => ws.send("this is not JSON");
    ws.onclose = (event) => resolve(`${event.code} ${event.reason}`);
  }), new URL(link).searchParams.get("room"));
  check(cutOff.startsWith("1008 "), `a page sending garbage is cut off: ${cutOff}`);

  await play(x.page, 7, "X", [o.page]);  // 1, 4, 7: a column
  await x.page.waitForFunction(() => document.querySelector("#turn").textContent === "You win!", null, wait);
  await o.page.waitForFunction(() => document.querySelector("#turn").textContent === "X wins.", null, wait);
  check(true, "X wins, and both tabs say so");

  await x.context.close();
  await o.page.waitForFunction(() => document.querySelector("#peer").textContent === "Waiting for the other player…",
                               null, wait);
  check(true, "the winner's tab closed: the other says it is waiting for the other player");
  const twice = [...votes].filter(([, candidates]) => candidates.size > 1);
  check(twice.length === 0 && votes.size > 0, `no tab voted twice in a term (${votes.size} votes granted` +
        `${twice.map(([key, c]) => `; ${key}: ${[...c]}`).join("")})`);
  check(pageErrors.length === 0, `no uncaught error in any tab (${pageErrors.join("; ")})`);
  console.log("game test passed");
} catch (error) {
  console.error(`game test FAILED: ${error.stack ?? error}`);
  for (const line of await describe()) console.error(line);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  hub.child.kill("SIGKILL");
}
