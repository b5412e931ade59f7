/* Switchboard website chat widget. Plain JavaScript, no dependencies, no
 * build step. A page embeds it with a script element whose src is
 * HUB/webchat/INTEGRATION_ID/widget.js (see the integration's demo page at
 * HUB/webchat/INTEGRATION_ID); optional data-name and data-email attributes
 * give the visitor's, when the page knows them. Everything shown is set
 * with textContent: a message is text, never markup. */
(function () {
  "use strict";
  var settings = {};

  var script = document.currentScript;
  if (!script) {
    var found = document.querySelectorAll("script[src*='/widget.js']");
    script = found[found.length - 1];
  }
  if (!script || !window.fetch || !window.EventSource || !window.crypto || !window.crypto.getRandomValues || !window.Symbol) {
    return;
  }
  var base = script.src.replace(/\/widget\.js(?:[?#].*)?$/, "");
  // A page that embeds the same chat twice (by a tag manager, say) shows it once.
  var loaded = window[Symbol.for("switchboard-webchat")] = window[Symbol.for("switchboard-webchat")] || {};
  if (loaded[base]) {
    return;
  }
  loaded[base] = true;
  var visitorName = (script.getAttribute("data-name") || "").slice(0, 100);
  var visitorEmail = (script.getAttribute("data-email") || "").slice(0, 254);
  var storeKey = "switchboard-webchat:" + base;
  var maxBytes = 4096;

  // randomId is n random bytes in base64url: a visitor id (32 bytes, 256
  // bits) cannot be guessed, and it is what reads this visitor's chat.
  function randomId(n) {
    var bytes = new Uint8Array(n);
    window.crypto.getRandomValues(bytes);
    var s = "";
    for (var i = 0; i < bytes.length; i++) {
      s += String.fromCharCode(bytes[i]);
    }
    return window.btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  var memory = {};
  function load(key) {
    try { return window.localStorage.getItem(storeKey + ":" + key); } catch (e) { return memory[key] || null; }
  }
  function save(key, value) {
    try { window.localStorage.setItem(storeKey + ":" + key, value); } catch (e) { memory[key] = value; }
  }

  var visitorId = load("visitor");
  if (!/^[A-Za-z0-9_-]{22,64}$/.test(visitorId || "")) {
    visitorId = randomId(32);
    save("visitor", visitorId);
  }

  // el makes an element; part names it (the part attribute), for the
  // page's tests and for ::part() rules of its styles.
  function el(tag, style, text, part) {
    var e = document.createElement(tag);
    if (part) { e.setAttribute("part", part); }
    for (var k in style) {
      if (Object.prototype.hasOwnProperty.call(style, k)) { e.style[k] = style[k]; }
    }
    if (text) { e.textContent = text; }
    return e;
  }

  var font = "14px/1.4 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  var host = el("div", { position: "fixed", right: "20px", bottom: "20px", zIndex: "2147483000" });
  host.setAttribute("data-switchboard-webchat", base);
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var launcher = el("button", { font: font, padding: "10px 16px", borderRadius: "20px", border: "0",
    background: "#1f6feb", color: "#fff", cursor: "pointer", boxShadow: "0 2px 8px rgba(0,0,0,.25)" },
    settings.title || "Chat with us", "launcher");
  launcher.type = "button";
  var panel = el("div", { display: "none", flexDirection: "column", width: "320px", maxWidth: "calc(100vw - 40px)",
    height: "440px", maxHeight: "calc(100vh - 40px)", background: "#fff", color: "#1f2328", font: font,
    borderRadius: "10px", boxShadow: "0 4px 20px rgba(0,0,0,.3)", overflow: "hidden" }, "", "panel");
  var header = el("div", { display: "flex", alignItems: "center", justifyContent: "space-between",
    padding: "10px 12px", background: "#1f6feb", color: "#fff", fontWeight: "600" }, settings.title || "Chat with us", "header");
  var close = el("button", { background: "transparent", border: "0", color: "#fff", font: font, fontSize: "18px",
    cursor: "pointer" }, "\u00d7", "close");
  close.type = "button";
  close.setAttribute("aria-label", "Close the chat");
  header.appendChild(close);
  var log = el("div", { flex: "1", overflowY: "auto", padding: "10px", background: "#f6f8fa" }, "", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  var notice = el("div", { padding: "4px 10px", fontSize: "12px", color: "#9a6700", minHeight: "0" }, "", "notice");
  var form = el("form", { display: "flex", gap: "6px", padding: "8px", borderTop: "1px solid #d0d7de" }, "", "form");
  var input = el("textarea", { flex: "1", resize: "none", height: "38px", font: font, padding: "6px",
    border: "1px solid #d0d7de", borderRadius: "6px" }, "", "input");
  input.setAttribute("aria-label", "Your message");
  input.placeholder = "Write a message\u2026";
  var send = el("button", { font: font, padding: "0 12px", border: "0", borderRadius: "6px", background: "#1f6feb",
    color: "#fff", cursor: "pointer" }, "Send", "send");
  send.type = "submit";
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(notice);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);

  if (settings.greeting) {
    log.appendChild(el("div", { color: "#57606a", margin: "4px 0 10px" }, settings.greeting, "greeting"));
  }

  // shown holds the rendered messages by the hub's id, in id order (ids
  // sort by time); pending holds the visitor's messages not confirmed yet.
  var shown = [];
  var shownIds = {};
  var pending = {};
  var unread = 0;
  // seen is the id of the newest message the visitor has seen, kept with
  // the visitor id: the history a reload shows again is not news.
  var seen = load("seen") || "";

  function markSeen() {
    var newest = shown.length ? shown[shown.length - 1].id : "";
    if (newest > seen) {
      seen = newest;
      save("seen", seen);
    }
  }

  function bubble(text, mine) {
    var row = el("div", { display: "flex", justifyContent: mine ? "flex-end" : "flex-start", margin: "4px 0" });
    var b = el("div", { maxWidth: "80%", padding: "6px 10px", borderRadius: "10px", whiteSpace: "pre-wrap",
      overflowWrap: "anywhere", background: mine ? "#1f6feb" : "#fff", color: mine ? "#fff" : "#1f2328",
      border: mine ? "0" : "1px solid #d0d7de" }, text, mine ? "message visitor" : "message agent");
    row.appendChild(b);
    return row;
  }

  function firstPending() {
    for (var k in pending) {
      if (Object.prototype.hasOwnProperty.call(pending, k)) { return pending[k].row; }
    }
    return null;
  }

  function place(id, row) {
    var i = shown.length;
    while (i > 0 && shown[i - 1].id > id) { i--; }
    var before = i < shown.length ? shown[i].row : firstPending();
    log.insertBefore(row, before);
    shown.splice(i, 0, { id: id, row: row });
    shownIds[id] = true;
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function showMessage(m) {
    if (!m || typeof m.id !== "string" || shownIds[m.id]) { return; }
    var mine = m.direction === "inbound";
    var prefix = visitorId + ":";
    var own = mine && typeof m.externalId === "string" && m.externalId.indexOf(prefix) === 0 ?
      pending[m.externalId.slice(prefix.length)] : null;
    if (own) {
      delete pending[m.externalId.slice(prefix.length)];
      log.removeChild(own.row);
    }
    place(m.id, bubble(String(m.content), mine));
    if (panel.style.display !== "none") {
      markSeen();
    } else if (!mine && m.id > seen) {
      unread++;
      launcher.textContent = (settings.title || "Chat with us") + " (" + unread + ")";
    }
    scrollDown();
  }

  var stream = null;
  var retryDelay = 2000;
  var retryTimer = null;

  function openStream() {
    if (stream || retryTimer) { return; }
    stream = new EventSource(base + "/events?visitor=" + encodeURIComponent(visitorId));
    stream.onmessage = function (e) {
      retryDelay = 2000;
      try { showMessage(JSON.parse(e.data)); } catch (err) { /* not a message */ }
    };
    stream.addEventListener("end", function () {
      stream.close();
      stream = null;
      save("started", "");
      notice.textContent = "This chat has ended. Write again to start a new one.";
    });
    stream.onerror = function () {
      // The browser reconnects by itself unless the hub refused the
      // stream (no chat yet, too many open): then try again later.
      if (stream && stream.readyState === 2) {
        stream = null;
        if (load("started")) {
          retryTimer = window.setTimeout(function () { retryTimer = null; openStream(); }, retryDelay);
          retryDelay = Math.min(retryDelay * 2, 60000);
        }
      }
    };
  }

  function utf8Length(s) {
    return window.TextEncoder ? new window.TextEncoder().encode(s).length : unescape(encodeURIComponent(s)).length;
  }

  function post(text) {
    var messageId = randomId(16);
    var row = bubble(text, true);
    row.style.opacity = "0.6";
    pending[messageId] = { row: row };
    log.appendChild(row);
    scrollDown();
    var body = { visitorId: visitorId, messageId: messageId, content: text };
    if (visitorName) { body.name = visitorName; }
    if (visitorEmail) { body.email = visitorEmail; }
    window.fetch(base + "/messages", {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (res) {
      if (res.status === 202) {
        row.style.opacity = "1";
        notice.textContent = "";
        save("started", "1");
        if (retryTimer) { window.clearTimeout(retryTimer); retryTimer = null; }
        openStream();
        return null;
      }
      return res.json().then(function (answer) {
        throw new Error(answer && answer.message ? String(answer.message) : "The message was not sent.");
      }, function () {
        throw new Error("The message was not sent (" + res.status + ").");
      });
    }).catch(function (err) {
      if (pending[messageId]) {
        delete pending[messageId];
        log.removeChild(row);
      }
      input.value = input.value || text;
      notice.textContent = err && err.message ? err.message : "The message was not sent.";
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.replace(/^\s+|\s+$/g, "");
    if (!text) { return; }
    if (utf8Length(text) > maxBytes) {
      notice.textContent = "The message is too long: at most 4 KiB.";
      return;
    }
    input.value = "";
    post(text);
  });
  input.addEventListener("keydown", function (e) {
    // Enter sends, unless it ends an input method's composition (a word
    // typed in Japanese, say), or comes with Shift: a new line.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      if (form.requestSubmit) { form.requestSubmit(); } else { send.click(); }
    }
  });
  launcher.addEventListener("click", function () {
    panel.style.display = "flex";
    launcher.style.display = "none";
    unread = 0;
    markSeen();
    launcher.textContent = settings.title || "Chat with us";
    scrollDown();
    input.focus();
  });
  close.addEventListener("click", function () {
    panel.style.display = "none";
    launcher.style.display = "";
  });

  function mount() {
    document.body.appendChild(host);
    if (load("started")) { openStream(); }
  }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
