// A browser stand-in for the website chat's widget, for the hub's tests:
// a minimal DOM, localStorage, and Node's own fetch, crypto and
// EventSource (node --experimental-eventsource). It loads widget.js from
// the hub as a page would, writes as a visitor, prints the visitor id, and
// waits until the agent's reply (given in REPLY) shows in the panel.
"use strict";
const vm = require("vm");

const hub = process.env.HUB, integration = process.env.INTEGRATION, reply = process.env.REPLY;

class El {
  constructor(tag) {
    this.tagName = tag.toUpperCase();
    this.children = [];
    this.style = {};
    this.attrs = {};
    this.listeners = {};
    this.text = "";
    this.parent = null;
    this.value = "";
  }
  set textContent(v) { this.text = String(v); this.children = []; }
  get textContent() { return this.text + this.children.map((c) => c.textContent).join(""); }
  set innerHTML(v) { throw new Error("the widget set innerHTML"); }
  set outerHTML(v) { throw new Error("the widget set outerHTML"); }
  insertAdjacentHTML() { throw new Error("the widget called insertAdjacentHTML"); }
  appendChild(c) { return this.insertBefore(c, null); }
  insertBefore(c, ref) {
    if (c.parent) { c.parent.removeChild(c); }
    const i = ref ? this.children.indexOf(ref) : -1;
    if (ref && i < 0) { throw new Error("insertBefore: not a child"); }
    c.parent = this;
    if (i < 0) { this.children.push(c); } else { this.children.splice(i, 0, c); }
    return c;
  }
  removeChild(c) {
    const i = this.children.indexOf(c);
    if (i < 0) { throw new Error("removeChild: not a child"); }
    this.children.splice(i, 1);
    c.parent = null;
    return c;
  }
  setAttribute(k, v) { this.attrs[k] = String(v); }
  getAttribute(k) { return k in this.attrs ? this.attrs[k] : null; }
  addEventListener(t, f) { (this.listeners[t] = this.listeners[t] || []).push(f); }
  dispatch(t, ev) { (this.listeners[t] || []).forEach((f) => f(ev)); }
  attachShadow() { this.shadow = new El("#shadow-root"); return this.shadow; }
  focus() {}
  requestSubmit() { this.dispatch("submit", { preventDefault() {} }); }
  get scrollHeight() { return 0; }
}

const store = new Map();
const script = new El("script");
script.src = hub + "/webchat/" + integration + "/widget.js";
script.setAttribute("data-name", "Node Visitor");
globalThis.window = globalThis;
globalThis.document = {
  currentScript: script,
  body: new El("body"),
  createElement: (t) => new El(t),
  querySelectorAll: () => [script],
  addEventListener() {},
};
globalThis.localStorage = {
  getItem: (k) => (store.has(k) ? store.get(k) : null),
  setItem: (k, v) => store.set(k, String(v)),
};

function find(root, pred) {
  if (pred(root)) { return root; }
  for (const c of root.children.concat(root.shadow ? [root.shadow] : [])) {
    const f = find(c, pred);
    if (f) { return f; }
  }
  return null;
}

function all(root) {
  return [root].concat(...root.children.concat(root.shadow ? [root.shadow] : []).map(all));
}

async function until(what, fn) {
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    const v = fn();
    if (v) { return v; }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("timed out waiting for " + what);
}

(async () => {
  const res = await fetch(script.src);
  if (res.status !== 200) { throw new Error("widget.js: " + res.status); }
  vm.runInThisContext(await res.text(), { filename: "widget.js" });

  const body = document.body;
  const launcher = find(body, (e) => e.tagName === "BUTTON" && e.listeners.click && e.textContent.indexOf("Chat") === 0);
  const form = find(body, (e) => e.tagName === "FORM");
  const input = find(body, (e) => e.tagName === "TEXTAREA");
  if (!launcher || !form || !input) { throw new Error("the widget did not render its button and form"); }
  launcher.dispatch("click", {});

  const said = "Hello <b>from</b> node";
  input.value = said;
  form.requestSubmit();
  // Stored, and streamed back: the bubble with the hub's id replaces the pending one.
  await until("the visitor's message to be confirmed", () => find(body, (e) => e.text === said && e.parent && e.parent.style.opacity !== "0.6"));
  const visitor = [...store.entries()].find(([k]) => k.endsWith(":visitor"))[1];
  console.log("VISITOR " + visitor);

  await until("the agent's reply in the panel", () => find(body, (e) => e.text === reply));
  if (find(body, (e) => e.tagName === "B" || e.tagName === "I")) { throw new Error("markup from a message became an element"); }
  const count = all(body).filter((e) => e.text === said).length;
  if (count !== 1) { throw new Error("the visitor's message shows " + count + " times"); }
  console.log("REPLY SHOWN");
  process.exit(0);
})().catch((err) => {
  console.log("FAIL " + (err && err.stack ? err.stack : err));
  process.exit(1);
});
