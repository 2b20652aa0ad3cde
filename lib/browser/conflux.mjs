// Conflux in a browser tab: the tab is a full Raft peer. The node's logic is
// the C++ engine compiled to WebAssembly (tab_node.cpp); this module is its
// driver: timers, the WebSocket hub (docs/protocol.md §7, so tabs and native
// conflux-node processes can share a cluster), and IndexedDB, where each
// Ready's term, vote and entries are made durable before the messages that
// depend on them leave. docs/browser.md describes the API.
import createConfluxEngine from './conflux_engine.mjs';

const defaults = {
  electionTimeout: { min: 300, max: 500 },
  heartbeatInterval: 50,
  performTimeout: 10000,
};

let engineModule;  // one WebAssembly instance per page, shared by its nodes

function refuse(message) {
  throw new TypeError(message);
}

/// The original's checks of what only JavaScript can see; the engine checks
/// the rest (configError) and names the option as well.
function checkOptions(o) {
  if (!o || typeof o !== 'object') refuse('the options must be an object');
  if (typeof o.id !== 'string' || o.id === '') refuse('"id" must be a non-empty string');
  if (!Array.isArray(o.peers) || o.peers.some((p) => typeof p !== 'string')) {
    refuse('"peers" must be an array of node ids');
  }
  const channel = o.channel;
  if (!channel || channel.name !== 'websocket' || typeof channel.url !== 'string') {
    refuse('"channel" must be {name: "websocket", url: "ws://host:port/<cluster>"}');
  }
  if (channel.token !== undefined && typeof channel.token !== 'string') {
    refuse('"channel.token" must be the cluster\'s token, a string');
  }
  if (o.snapshot !== undefined) {
    const fields = ['entries', 'bytes', 'trailing'];
    if (!o.snapshot || typeof o.snapshot !== 'object' ||
        Object.entries(o.snapshot).some(([k, v]) => !fields.includes(k) || !Number.isSafeInteger(v) || v < 0)) {
      refuse('"snapshot" must be {entries, bytes, trailing}, each optional and a non-negative integer');
    }
  }
  if (o.app !== undefined) {
    if (typeof o.app !== 'string') refuse('"app" must be the name of a C++ app, such as "tictactoe"');
    if (o.methods !== undefined || o.reduce !== undefined) {
      refuse('"app" replaces "methods" and "reduce": give one or the other');
    }
    return;
  }
  if (!o.methods || typeof o.methods !== 'object') refuse('"methods" must be an object');
  for (const [name, method] of Object.entries(o.methods)) {
    if (typeof method !== 'function') refuse(`"methods.${name}" must be a function`);
  }
  if (typeof o.reduce !== 'function') refuse('"reduce" must be a function');
}

function engineConfig(o) {
  const peers = o.peers.includes(o.id) ? o.peers : [...o.peers, o.id];
  return JSON.stringify({
    id: o.id,
    peers,
    hub: o.channel.url,
    electionTimeout: o.electionTimeout ?? defaults.electionTimeout,
    heartbeatInterval: o.heartbeatInterval ?? defaults.heartbeatInterval,
    performTimeout: o.performTimeout ?? defaults.performTimeout,
    ...(o.snapshot !== undefined ? { snapshot: o.snapshot } : {}),
    ...(o.app !== undefined ? { app: o.app } : { methods: Object.keys(o.methods) }),
  });
}

/// Runs a method ("method") or the reducer ("reduce") on JSON text, and
/// answers {"ok": value} or {"error": message}: a throw never crosses into
/// the engine. A method sees the provisional state as `this.state`.
function callbacks(o) {
  return (kind, name, stateText, argumentText) => {
    try {
      const state = stateText === 'null' ? undefined : JSON.parse(stateText);
      const argument = JSON.parse(argumentText);
      const value = kind === 'reduce'
        ? o.reduce(state, argument)
        : o.methods[name].apply({ state, getProvisionalState: () => state }, argument);
      return JSON.stringify({ ok: value === undefined ? null : value });
    } catch (error) {
      return JSON.stringify({ error: String(error && error.message ? error.message : error) });
    }
  };
}

export async function conflux(options) {
  checkOptions(options);
  engineModule ??= createConfluxEngine();
  const engine = await engineModule;
  const config = engineConfig(options);
  const problem = engine.configError(config);
  if (problem) refuse(problem);
  const cluster = new URL(options.channel.url).pathname.slice(1);
  const name = `conflux/${cluster}/${options.id}`;
  // One engine per saved node: a second tab with the same id would restore
  // the same term, vote and log and could vote twice once the first left.
  const release = await hold(name);
  if (!release) refuse(`node "${options.id}" of cluster "${cluster}" already runs in another tab`);
  const store = await TabStore.open(name);
  const saved = JSON.stringify(await store.restore());
  const unusable = engine.restoreError(saved);
  if (unusable) {
    release();
    throw new Error(`conflux: IndexedDB "${name}" cannot be restored (${unusable}); ` +
                    'this node is lost: delete that database and join under a new id');
  }
  let node;
  try {
    node = new engine.TabNode(config, saved, callbacks(options), performance.now(), Date.now());
  } catch (error) {
    release();
    throw new Error(`conflux: IndexedDB "${name}" cannot be restored (${error.message}); ` +
                    'this node is lost: delete that database and join under a new id');
  }
  const peer = new TabPeer(node, store, options, cluster, release);
  await peer.round();  // the restored log's committed entries are applied
  return peer;
}

/// Holds the Web Lock `name` until the returned function is called; null
/// when another tab of this browser still holds it after 3 s (a reloaded
/// page may start before the page it replaces has let go).
function hold(name) {
  return new Promise((resolve) => {
    navigator.locks.request(name, { signal: AbortSignal.timeout(3000) },
                            () => new Promise((release) => resolve(release)))
      .catch(() => resolve(null));
  });
}

/// The hard state, the newest snapshot and the log after it, in IndexedDB:
/// a page reload is a crash-restart, and comes back with the same term and
/// vote, snapshot and log. What each write holds is decided by the engine
/// (lib/browser/tab_storage.hpp); this carries it out.
class TabStore {
  static open(name) {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(name, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore('meta');
        request.result.createObjectStore('log', { keyPath: 'index' });
      };
      request.onsuccess = () => resolve(new TabStore(request.result));
      request.onerror = () => reject(request.error);
    });
  }

  constructor(db) {
    this.db = db;
  }

  restore() {
    return new Promise((resolve, reject) => {
      const transaction = this.db.transaction(['meta', 'log'], 'readonly');
      const meta = transaction.objectStore('meta');
      const hard = meta.get('hard');
      const snapshot = meta.get('snapshot');
      const entries = transaction.objectStore('log').getAll();
      transaction.oncomplete = () => resolve({ hardState: hard.result ?? null,
                                               snapshot: snapshot.result ?? null,
                                               entries: entries.result });
      transaction.onerror = () => reject(transaction.error);
    });
  }

  /// One write, atomically and in this order (tab_storage.hpp): the newest
  /// snapshot; the entries it covers and, when it did not match the log, those
  /// after it dropped; the hard state; entries that replace the log from the
  /// first one's index on (a follower's conflicting tail, Raft §5.3).
  write({ snapshot, dropThrough, dropAfter, hardState, entries }) {
    return new Promise((resolve, reject) => {
      const transaction = this.db.transaction(['meta', 'log'], 'readwrite',
                                              { durability: 'strict' });
      const meta = transaction.objectStore('meta');
      const log = transaction.objectStore('log');
      if (snapshot) meta.put(snapshot, 'snapshot');
      if (dropThrough !== undefined) log.delete(IDBKeyRange.upperBound(dropThrough));
      if (dropAfter !== undefined) log.delete(IDBKeyRange.lowerBound(dropAfter, true));
      if (hardState) meta.put(hardState, 'hard');
      if (entries.length) log.delete(IDBKeyRange.lowerBound(entries[0].index));
      for (const entry of entries) log.put(entry);
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }
}

class TabPeer {
  constructor(node, store, options, cluster, release) {
    this.node = node;
    this.store = store;
    this.release = release;  // the Web Lock on this node's database
    this.id = options.id;
    this.cluster = cluster;
    this.url = options.channel.url;
    this.token = options.channel.token;  // for a hub that requires one (protocol.md §7.1)
    this.performTimeout = options.performTimeout ?? defaults.performTimeout;
    this.waiting = new Map();        // perform id -> {resolve, reject}
    this.subscribers = new Set();
    this.outbox = [];                // texts waiting for the hub link
    this.running = false;
    this.again = false;
    this.closed = false;
    this.backoff = 10;
    this.present = [];               // ids connected to the hub, as it last said
    this.clock();
    this.timer = setInterval(() => this.tick(), node.tickMs());
    this.connect();
  }

  clock() {
    this.node.clock(performance.now(), Date.now());
  }

  tick() {
    this.clock();
    this.node.tick();
    this.round();
  }

  // ----- the hub (docs/protocol.md §7)
  connect() {
    if (this.closed) return;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', version: 1, cluster: this.cluster,
                                               from: this.id, to: 'hub',
                                               ...(this.token ? { token: this.token } : {}) }));
    ws.onmessage = (event) => this.onHubMessage(ws, event.data);
    ws.onclose = () => {
      if (this.ws === ws) this.ws = null;
      this.welcomed = false;
      this.present = [];
      if (this.closed) return;
      this.node.setPresent('[]');
      setTimeout(() => this.connect(), this.backoff * (0.5 + Math.random() / 2));
      this.backoff = Math.min(this.backoff * 2, 1000);
    };
  }

  onHubMessage(ws, text) {
    if (this.closed) return;
    if (!this.welcomed) {
      const reply = JSON.parse(text);
      if (reply.type !== 'welcome') {
        console.warn(`conflux ${this.id}: the hub refused this tab: ${reply.reason}`);
        ws.close();
        return;
      }
      this.welcomed = true;
      this.backoff = 10;
      for (const queued of this.outbox.splice(0)) ws.send(queued);
      return;
    }
    // The hub's member list names no sender; a peer's message always has
    // one, so a peer cannot pass one off (docs/protocol.md §7.2).
    if (text.startsWith('{"type":"members"') && JSON.parse(text).from === undefined) {
      this.present = JSON.parse(text).ids;
      this.node.setPresent(JSON.stringify(this.present));
      return;
    }
    this.clock();
    const problem = this.node.receive(text);
    if (problem) console.warn(`conflux ${this.id}: dropped a message: ${problem}`);
    this.round();
  }

  send(texts) {
    for (const text of texts) {
      if (this.ws && this.welcomed) {
        this.ws.send(text);
      } else if (this.outbox.length < 4096) {
        this.outbox.push(text);  // Raft retransmits whatever overflows
      }
    }
  }

  // ----- one driver round at a time (tab_node.cpp says what a round is)
  async round() {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        for (;;) {
          const out = JSON.parse(this.node.step());
          if (!out.pending) {
            this.finish(out);
            break;
          }
          this.send(out.early);
          await this.store.write(out.write);
          if (this.closed) return;  // close() already failed what was pending
          this.send(JSON.parse(this.node.persisted()).messages);
        }
      } while (this.again && !this.closed);
    } catch (error) {
      console.error(`conflux ${this.id}: storage failed, this tab stops: ${error}`);
      this.close();
    } finally {
      this.running = false;
    }
  }

  finish({ sends, completions, commits }) {
    this.send(sends);
    for (const done of completions) {
      const waiter = this.waiting.get(done.id);
      if (!waiter) continue;
      this.waiting.delete(done.id);
      if (done.error) {
        const error = new Error(done.error.message);
        error.code = done.error.code;
        waiter.reject(error);
      } else {
        waiter.resolve(done.result);
      }
    }
    for (let i = 0; i < commits.length; ++i) {
      for (const subscriber of [...this.subscribers]) {
        try {
          subscriber();
        } catch (error) {
          console.error(`conflux ${this.id}: a subscriber threw: ${error}`);  // the node goes on
        }
      }
    }
  }

  // ----- the original's API
  perform(method, args = [], timeout = undefined) {
    if (this.closed) return Promise.reject(new Error('the node was closed'));
    if (!Array.isArray(args)) return Promise.reject(new TypeError('"args" must be an array'));
    this.clock();
    const id = this.node.perform(String(method), JSON.stringify(args),
                                 timeout ?? this.performTimeout);
    const promise = new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.round();
    return promise;
  }

  getState() {
    return this.view('state');
  }

  getProvisionalState() {
    return this.view('provisionalState');
  }

  /// role, term, leader, commit and applied, as the engine sees them.
  status() {
    return this.view('status');
  }

  /// What the engine's `method` shows; once closed, what it showed last.
  view(method) {
    return JSON.parse(this.closed ? this.last[method] : this.node[method]());
  }

  /// Whether peer `id` is connected to the hub now (this tab included).
  connected(id) {
    return this.present.includes(id);
  }

  subscribe(callback) {
    this.subscribers.add(callback);
    return () => this.subscribers.delete(callback);
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.subscribers.clear();
    this.finish({ ...JSON.parse(this.node.close()), sends: [] });  // fails what is pending
    this.last = { state: this.node.state(), provisionalState: this.node.provisionalState(),
                  status: this.node.status() };
    // A round waiting on IndexedDB returns without touching the node again.
    this.node.delete();
    if (this.ws) this.ws.close();
    this.store.db.close();
    this.release();
  }
}
