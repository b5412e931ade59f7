// Switchboard admin UI, the conversations inbox: refreshes the list and
// the open thread as soon as the hub tells of a change; keeps the open
// thread at its newest message as messages arrive, unless the user
// scrolled up to read; submits the filter when it changes; Ctrl+Enter
// sends a reply.
"use strict";

(function () {
  // pinned: the user is at the newest message (or has not scrolled);
  // top: where the user left the pane, kept across refreshes, which
  // replace the pane (app.js dispatches "refreshed" after each).
  let pinned = true;
  let top = 0;
  const near = 40;

  const pane = () => document.getElementById("messages");
  const atNewest = (el) => el.scrollHeight - el.scrollTop - el.clientHeight < near;
  const toNewest = (el) => { el.scrollTop = el.scrollHeight; };

  // Scroll events do not bubble: listen in the capture phase.
  document.addEventListener("scroll", (ev) => {
    if (ev.target.id !== "messages") return;
    pinned = atNewest(ev.target);
    top = ev.target.scrollTop;
  }, true);

  document.addEventListener("refreshed", (ev) => {
    if (ev.target.id !== "thread-live") return;
    const el = pane();
    if (!el) return;
    if (pinned) toNewest(el);
    else el.scrollTop = top;
  });

  document.addEventListener("change", (ev) => {
    if (ev.target.matches("[data-submit-on-change]") && ev.target.form) ev.target.form.requestSubmit();
  });

  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && ev.target.id === "reply-content") {
      ev.preventDefault();
      ev.target.form.requestSubmit();
    }
  });

  // Live updates: the hub tells the page when the workspace's
  // conversations change, and the list and the open thread refresh at once
  // (app.js); meanwhile they refresh less often, on their data-every-live
  // (for what the hub does not tell, such as a reply's delivery). Any
  // trouble with the stream and they refresh every two seconds again.
  function listen() {
    if (!window.EventSource) return;
    const body = document.body;
    const refreshAll = () => document.querySelectorAll("[data-refresh]").forEach((el) => {
      el.dispatchEvent(new CustomEvent("refresh-now"));
    });
    const stream = new EventSource("/conversations/live");
    let opened = false;
    stream.addEventListener("open", () => {
      body.dataset.live = "open";
      // Changes while the stream was down were not told.
      if (opened) refreshAll();
      opened = true;
    });
    stream.addEventListener("change", refreshAll);
    stream.addEventListener("error", () => {
      delete body.dataset.live;
      refreshAll(); // and every two seconds, until the stream is back
      if (stream.readyState === EventSource.CLOSED) {
        // Refused (logged out, too many open): try again later.
        setTimeout(listen, 60000);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (document.querySelector("[data-refresh]")) listen();
    const live = document.getElementById("thread-live");
    const el = pane();
    if (!el || !live) return;
    if (live.hasAttribute("data-earlier-page")) {
      pinned = false; // reading earlier messages: stay at their start
      return;
    }
    toNewest(el);
  });
})();
