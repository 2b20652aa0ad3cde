// The Conflux dashboard. The server pushes a snapshot of every node over a
// WebSocket whenever something changes ({"type":"snapshot", nodes: [...]});
// the page sends commands ({id, op: "perform"|"kill"|"restart"|"isolate"|
// "heal", node, ...}) and gets {"type":"reply", id, ok, ...} back.

const $ = (selector) => document.querySelector(selector);
let socket = null;
let nextId = 1;
const pending = new Map();  // command id -> resolve

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
  socket = new WebSocket(`ws://${location.host}/ws`);
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
    const text = entry.action === null ? "no-op" : JSON.stringify(entry.action);
    log.append(element("span", {
      class: `entry ${entry.committed ? "committed" : "pending"}`,
      title: `index ${entry.index}, term ${entry.term}${entry.committed ? "" : " (uncommitted)"}\n${text}`,
    }, `${entry.index}·${entry.term} ${text}`));
  }
  return log;
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

connect();
