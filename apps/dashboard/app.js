// The Conflux dashboard. The server pushes a snapshot of every node over a
// WebSocket whenever something changes ({"type":"snapshot", nodes: [...]});
// the page sends commands ({id, op: "perform"|"kill"|"restart"|"isolate"|
// "heal", node, ...}) and gets {"type":"reply", id, ok, ...} back.
// Membership changes are performs of the reserved methods (api.md), sent to
// the leader.

const $ = (selector) => document.querySelector(selector);
let socket = null;
let nextId = 1;
const pending = new Map();  // command id -> resolve
const addresses = new Map();  // member id -> the last address seen for it
let latest = { nodes: [] };   // the last snapshot

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("data-")) node.setAttribute(name, value);
    else node[name] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

function send(command) {
  const id = nextId++;
  return new Promise((resolve) => {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      resolve({ ok: false, error: "not connected to the server", code: "offline" });
      return;
    }
    pending.set(id, resolve);
    socket.send(JSON.stringify({ id, ...command }));
  });
}

function connect(delay = 250) {
  // The page's own query (?token=...) goes on: a dashboard started with a
  // token admits only a socket that carries it.
  socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws${location.search}`);
  socket.onopen = () => {
    delay = 250;
    $("#link").textContent = "live";
    $("#link").className = "link up";
  };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "snapshot") render(message);
    if (message.type === "reply" && pending.has(message.id)) {
      pending.get(message.id)(message);
      pending.delete(message.id);
    }
  };
  socket.onclose = () => {
    $("#link").textContent = "offline";
    $("#link").className = "link down";
    for (const resolve of pending.values()) resolve({ ok: false, error: "connection lost" });
    pending.clear();
    setTimeout(() => connect(Math.min(delay * 2, 4000)), delay);
  };
}

function summary(nodes) {
  const leaders = nodes.filter((n) => n.status && n.status.role === "leader");
  const running = nodes.filter((n) => n.running).length;
  const leader = leaders.length === 1
    ? `leader ${leaders[0].id} in term ${leaders[0].status.term}` : "no leader";
  return `${nodes.length} nodes, ${running} running · ${leader}`;
}

// The log tail, after a mark for the compaction point when the tail
// reaches it: the entries before are in the node's snapshot.
function logView(entries, status) {
  const log = element("div", { class: "log" });
  const snapshot = status ? status.snapshot : null;
  if (snapshot && snapshot.index > 0 && (entries.length === 0 || entries[0].index === status.first_index)) {
    log.append(element("span", {
      class: "entry compacted", "data-compacted": String(status.first_index - 1),
      title: `entries up to ${status.first_index - 1} are compacted; the snapshot holds the state after ${snapshot.index} (${snapshot.bytes} bytes)`,
    }, `≤${status.first_index - 1} snapshot`));
  }
  if (entries.length === 0) log.append(element("span", { class: "muted" }, "empty log"));
  for (const entry of entries) {
    const text = entry.configuration ? `configuration ${configurationText(entry.configuration)}`
      : entry.action === null ? "no-op" : JSON.stringify(entry.action);
    log.append(element("span", {
      class: `entry ${entry.committed ? "committed" : "pending"}`,
      title: `index ${entry.index}, term ${entry.term}${entry.committed ? "" : " (uncommitted)"}\n${text}`,
    }, `${entry.index}·${entry.term} ${text}`));
  }
  return log;
}

function configurationText(config) {
  const voters = `{${config.voters.join(", ")}}`;
  const learners = config.learners.length ? ` + learners {${config.learners.join(", ")}}` : "";
  return config.outgoing.length ? `joint {${config.outgoing.join(", ")}} → ${voters}${learners}`
    : `${voters}${learners}`;
}

// Where membership calls go: the leader if one is running, else any node
// that runs (it forwards to the leader once it knows one).
function coordinator() {
  const running = latest.nodes.filter((n) => n.running);
  return (running.find((n) => n.status.role === "leader") ?? running[0])?.id;
}

async function changeMembers(method, args) {
  const node = coordinator();
  if (!node) return showResult({ ok: false, code: "not_running", error: "no node is running" });
  $("#perform-result").className = "";
  $("#perform-result").textContent = `${method} ${JSON.stringify(args)}…`;
  const reply = await send({ op: "perform", node, method, args });
  if (!reply.ok) return showResult(reply);
  $("#perform-result").className = "ok";
  $("#perform-result").textContent = `committed: ${method} ${JSON.stringify(args)}`;
}

function memberButton(label, action, member, method, args) {
  const b = element("button", { type: "button", "data-member-action": action, "data-member": member },
    label);
  b.onclick = () => changeMembers(method, args);
  return b;
}

// The configuration as the coordinator sees it: voters, learners, and the
// old voters while a joint configuration lasts (thesis §4.3).
function membersView() {
  const box = $("#members-list");
  const shown = latest.nodes.find((n) => n.id === coordinator());
  if (!shown || !shown.members) {
    box.replaceChildren(element("p", { class: "muted" }, "no running node"));
    return;
  }
  const m = shown.members;
  const leader = shown.status.role === "leader" ? shown.id : shown.status.leader;
  for (const peer of [...m.voters, ...m.learners]) addresses.set(peer.id, peer.address);
  const row = (peer, kind) => element("li", { "data-member-row": peer.id, "data-kind": kind },
    element("strong", {}, peer.id), ` ${kind} `, element("span", { class: "muted" }, peer.address),
    memberButton("remove", "remove", peer.id, "conflux.remove_member", [peer.id]),
    kind === "learner"
      ? memberButton("promote", "promote", peer.id, "conflux.promote", [peer.id])
      : peer.id !== leader
        ? memberButton("make leader", "transfer", peer.id, "conflux.transfer_leadership", [peer.id])
        : "");
  const rows = [...m.voters.map((p) => row(p, "voter")), ...m.learners.map((p) => row(p, "learner"))];
  const notes = [];
  if (m.joint) notes.push(element("p", { class: "tag", "data-joint": "true" },
    `joint configuration: leaving {${m.outgoing.join(", ")}}`));
  if (!m.committed) notes.push(element("p", { class: "muted" }, "latest configuration not yet committed"));
  box.replaceChildren(element("ul", {}, ...rows), ...notes);
}

// A node shown here that its own configuration does not hold: removed, or
// waiting to be added. It can be added back at the address last seen.
function membership(node) {
  const m = node.members;
  if (!m) return "";
  if (m.learners.some((p) => p.id === node.id)) return element("span", { class: "tag" }, "learner");
  if (m.voters.some((p) => p.id === node.id)) return "";
  const address = addresses.get(node.id);
  const tag = element("span", { class: "tag", "data-member": "none" }, "not a member");
  if (!address) return tag;
  return element("span", {}, tag,
    memberButton("add as learner", "add-learner", node.id, "conflux.add_member", [node.id, address, true]),
    memberButton("add as voter", "add-voter", node.id, "conflux.add_member", [node.id, address, false]));
}

function controls(node, withControls) {
  const box = element("div", { class: "controls" });
  if (!withControls) return box;
  const button = (label, op) => {
    const b = element("button", { type: "button", "data-action": op }, label);
    b.onclick = async () => {
      const reply = await send({ op, node: node.id });
      if (!reply.ok) showResult(reply);
    };
    box.append(b);
  };
  if (node.running) {
    button("kill", "kill");
    button(node.status.isolated ? "heal" : "isolate", node.status.isolated ? "heal" : "isolate");
  } else {
    button("restart", "restart");
  }
  return box;
}

function card(node, withControls) {
  const role = node.running ? node.status.role : "killed";
  const head = element("header", {},
    element("h3", {}, node.id),
    element("span", { class: `role ${role}` }, role.replace("_", "-")),
    node.running && node.status.isolated ? element("span", { class: "tag" }, "isolated") : "",
    node.running ? membership(node) : "",
    controls(node, withControls));
  const box = element("article", {
    class: `node ${role}`, "data-node": node.id, "data-role": role,
  }, head);
  if (!node.running) {
    box.append(element("p", { class: "muted" }, "stopped; restart it to see it catch up"));
    return box;
  }
  const s = node.status;
  const facts = element("dl");
  for (const [name, value] of [["term", s.term], ["leader", s.leader ?? "–"],
    ["commit", s.commit], ["applied", s.applied]]) {
    facts.append(element("dt", {}, name), element("dd", {}, String(value)));
  }
  box.append(facts);
  if (s.error) box.append(element("p", { class: "tag" }, `storage failed: ${s.error}`));
  box.append(element("h2", {}, "log tail"), logView(node.log, node.status));
  box.append(element("h2", {}, "committed state"),
    element("pre", { "data-state": "committed" }, JSON.stringify(node.state, null, 1)));
  if (JSON.stringify(node.provisional) !== JSON.stringify(node.state)) {
    box.append(element("h2", {}, "provisional state"),
      element("pre", { "data-state": "provisional" }, JSON.stringify(node.provisional, null, 1)));
  }
  if (node.http) box.append(element("a", { class: "muted", href: `${node.http}/status` }, node.http));
  return box;
}

function render(snapshot) {
  latest = snapshot;
  membersView();
  document.title = `Conflux · ${summary(snapshot.nodes)}`;
  $("#summary").textContent = summary(snapshot.nodes);
  $("#nodes").replaceChildren(...snapshot.nodes.map((n) => card(n, snapshot.controls)));
  const select = $("#perform-node");
  const chosen = select.value;
  const ids = snapshot.nodes.map((n) => n.id);
  if (select.options.length !== ids.length) {
    select.replaceChildren(...ids.map((id) => element("option", { value: id }, id)));
    if (ids.includes(chosen)) select.value = chosen;
  }
}

function showResult(reply) {
  const out = $("#perform-result");
  out.className = reply.ok ? "ok" : "error";
  out.textContent = reply.ok
    ? `committed: ${JSON.stringify(reply.result)}`
    : `${reply.code ?? "error"}: ${reply.error}`;
}

$("#perform-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  let args;
  try {
    args = JSON.parse($("#perform-args").value || "[]");
    if (!Array.isArray(args)) throw new Error("the arguments must be a JSON array");
  } catch (error) {
    showResult({ ok: false, code: "bad_arguments", error: error.message });
    return;
  }
  $("#perform-result").className = "";
  $("#perform-result").textContent = "performing…";
  showResult(await send({
    op: "perform", node: $("#perform-node").value, method: $("#perform-method").value, args,
  }));
});

$("#member-form").addEventListener("submit", (event) => {
  event.preventDefault();
  changeMembers("conflux.add_member",
    [$("#member-id").value, $("#member-address").value, $("#member-learner").checked]);
});

connect();
