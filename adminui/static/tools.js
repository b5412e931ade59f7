// Switchboard admin UI: an integration's tools. Try Out builds its curl
// command on the server and sends from this page, to this hub's own inbound
// endpoints only; the transform editor tests without a reload. Without
// JavaScript the forms post and the server renders the same results.
"use strict";

(function () {
  // The endpoints Send may reach: an inbound webhook, a website chat's
  // visitor messages, or a chat's events in the response API. Paths come
  // from the page, never from what is typed.
  const inboundPath = /^\/api\/webhooks\/[A-Za-z0-9._~%-]+\/[A-Za-z0-9._~%-]+$/;
  const visitorPath = /^\/webchat\/[A-Za-z0-9._~%-]+\/messages$/;
  const responsePath = /^\/integrations\/live-chat\/[A-Za-z0-9._~%-]+\/chats\/$/;

  // sendURL is the URL Send posts to: path on this page's origin, with the
  // chat identifier as one path segment for the response API. It throws for
  // anything else.
  function sendURL(path, chat, origin) {
    let full;
    if (inboundPath.test(path) || visitorPath.test(path)) {
      full = path;
    } else if (responsePath.test(path)) {
      const id = String(chat || "").trim();
      if (id === "") throw new Error("Give the chat identifier: the chat's chatId as delivered, e.g. the contact's number.");
      if (id === "." || id === "..") throw new Error("A chat identifier cannot be \".\" or \"..\".");
      if (id.length > 255) throw new Error("A chat identifier is at most 255 bytes.");
      full = path + encodeURIComponent(id) + "/events";
    } else {
      throw new Error("Send reaches this hub's inbound endpoints only.");
    }
    const u = new URL(full, origin);
    if (u.origin !== origin || u.pathname !== full || u.search !== "" || u.hash !== "") {
      throw new Error("Send reaches this hub's inbound endpoints only.");
    }
    return u.href;
  }

  // lineRange is where line n (from 1) of text starts and ends, or null.
  function lineRange(text, n) {
    let start = 0;
    for (let i = 1; i < n; i++) {
      const j = text.indexOf("\n", start);
      if (j < 0) return null;
      start = j + 1;
    }
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    return [start, end];
  }

  if (typeof module === "object" && module.exports) {
    module.exports = { sendURL, lineRange };
  }
  if (typeof document === "undefined") return;

  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const maxShown = 64 * 1024;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function showError(out, msg) {
    out.replaceChildren(el("p", "field-error", msg));
    out.querySelector("p").setAttribute("role", "alert");
  }

  // postFragment posts a form's fields to its action and returns the named
  // fragment of the page the server renders.
  function postFragment(form, action, fragment) {
    const u = new URL(action, window.location.href);
    u.hash = "";
    u.searchParams.set("fragment", fragment);
    const body = new URLSearchParams(new FormData(form));
    return fetch(u.pathname + u.search, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf() },
    }).then((r) => r.text().then((html) => ({ ok: r.ok || r.status === 422, status: r.status, html })));
  }

  // Try Out: Build curl.
  function buildCurl(form) {
    const out = form.querySelector("[data-output]");
    out.replaceChildren(el("p", "hint", "Building…"));
    postFragment(form, form.getAttribute("action"), "curl")
      .then((r) => {
        if (!r.ok) return showError(out, "The command could not be built (" + r.status + "). Reload the page and try again.");
        out.innerHTML = r.html; // rendered and escaped by the server
      })
      .catch(() => showError(out, "The command could not be built: the hub did not answer."));
  }

  // Try Out: Send, from this page to this hub's own endpoint.
  function send(form) {
    const out = form.querySelector("[data-output]");
    const chat = form.querySelector("[data-chat]");
    let target;
    try {
      target = sendURL(form.dataset.path || "", chat ? chat.value : "", window.location.origin);
    } catch (e) {
      return showError(out, e.message);
    }
    const body = form.querySelector('textarea[name="body"]').value;
    if (form.dataset.confirmSend) {
      let msg = null;
      try { msg = JSON.parse(body); } catch (e) { /* sent as typed */ }
      if (!(msg && msg.type === "END") && !window.confirm(form.dataset.confirmSend)) return;
    }
    const headers = { "Content-Type": "application/json" };
    const keyInput = form.querySelector("[data-key]");
    const key = keyInput ? keyInput.value.trim() : "";
    if (key !== "") {
      const as = form.querySelector("[data-key-as]");
      if (as && as.value === "X-Api-Key") headers["X-Api-Key"] = key;
      else headers["Authorization"] = "Bearer " + key;
    }
    out.replaceChildren(el("p", "hint", "Sending…"));
    fetch(target, {
      method: "POST",
      headers,
      body,
      credentials: "omit", // the session cookie stays out of it
      redirect: "error",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    })
      .then((r) => r.text().then((text) => {
        const shown = text.length > maxShown ? text.slice(0, maxShown) + "\n… (cut)" : text;
        const status = el("p", "answer-status " + (r.ok ? "ok" : "bad"), "HTTP " + r.status + (r.statusText ? " " + r.statusText : ""));
        const parts = [status];
        if (key === "" && keyInput) parts.push(el("p", "hint", "Sent without a key."));
        try {
          parts.push(el("pre", "answer", JSON.stringify(JSON.parse(text), null, 2)));
        } catch (e) {
          parts.push(el("pre", "answer", shown === "" ? "(no body)" : shown));
        }
        out.replaceChildren(...parts);
        if (form.dataset.events) showEvents(form.dataset.events, out);
      }))
      .catch((e) => showError(out, "Not sent: " + (e && e.message ? e.message : "the hub did not answer") + "."));
  }

  // After an inbound Send the answer is always "ok": show what happened.
  function showEvents(path, out) {
    fetch(path, { credentials: "same-origin", cache: "no-store" })
      .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
      .then((html) => {
        const box = el("div", "latest-events");
        box.appendChild(el("h4", "", "Latest events"));
        const table = el("div");
        table.innerHTML = html; // rendered and escaped by the server
        box.appendChild(table);
        out.appendChild(box);
      })
      .catch(() => {});
  }

  // Transform: Test without a reload; the line an error names is selected.
  function markLine(textarea, root) {
    const mark = root.querySelector("[data-error-line]");
    if (!mark || !textarea) return;
    const range = lineRange(textarea.value, Number(mark.dataset.errorLine));
    if (!range) return;
    textarea.focus({ preventScroll: true });
    textarea.setSelectionRange(range[0], range[1]);
    const lines = textarea.value.slice(0, range[0]).split("\n").length - 1;
    const height = parseFloat(getComputedStyle(textarea).lineHeight) || 18;
    textarea.scrollTop = Math.max(0, (lines - 3) * height);
  }

  function test(form) {
    const result = document.getElementById("transform-result");
    result.replaceChildren(el("p", "hint", "Testing…"));
    postFragment(form, form.getAttribute("action"), "result")
      .then((r) => {
        if (!r.ok) return showError(result, "The test could not run (" + r.status + "). Reload the page and try again.");
        result.innerHTML = r.html; // rendered and escaped by the server
        markLine(form.querySelector("[data-script]"), result);
      })
      .catch(() => showError(result, "The test could not run: the hub did not answer."));
  }

  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    const by = ev.submitter;
    if (form.matches("form[data-try]") && (!by || by.matches("[data-curl]"))) {
      ev.preventDefault();
      buildCurl(form);
    } else if (form.matches("form[data-transform]") && (!by || by.matches("[data-test]"))) {
      ev.preventDefault();
      test(form);
    }
  });

  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-send]");
    if (b) send(b.closest("form"));
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-try] [data-send]").forEach((b) => { b.hidden = false; });
    const form = document.querySelector("form[data-transform]");
    if (form) markLine(form.querySelector("[data-script]"), form);
  });
})();
