// Switchboard admin UI: the little behaviour its pages need, without
// inline script (the pages' Content-Security-Policy forbids it).
"use strict";

(function () {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // Copy buttons: data-copy names the element whose text is copied.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
    return Promise.resolve();
  }

  document.addEventListener("click", (ev) => {
    const copy = ev.target.closest("[data-copy]");
    if (copy) {
      const source = document.getElementById(copy.dataset.copy);
      if (source) {
        copyText(source.textContent.trim()).then(() => {
          copy.dataset.copied = "true";
          copy.textContent = "Copied";
        });
      }
      return;
    }
    const open = ev.target.closest("[data-open-dialog]");
    if (open) {
      const dialog = document.getElementById(open.dataset.openDialog);
      if (dialog && !dialog.open) dialog.showModal();
      return;
    }
    const add = ev.target.closest("[data-add-row]");
    if (add) {
      const name = add.dataset.addRow;
      const tmpl = document.querySelector('template[data-row-template="' + name + '"]');
      const body = document.querySelector('table[data-rows="' + name + '"] tbody');
      if (tmpl && body) {
        body.appendChild(tmpl.content.cloneNode(true));
        const inputs = body.querySelectorAll("tr:last-child input");
        if (inputs.length) inputs[0].focus();
      }
      return;
    }
    const del = ev.target.closest("[data-delete-row]");
    if (del) {
      del.closest("tr").remove();
      return;
    }
    const tab = ev.target.closest("[data-tab]");
    if (tab) {
      const tabs = tab.closest("[data-tabs]");
      tabs.querySelectorAll("[data-tab]").forEach((t) => t.setAttribute("aria-selected", String(t === tab)));
      tabs.querySelectorAll("[data-panel]").forEach((p) => { p.hidden = p.dataset.panel !== tab.dataset.tab; });
    }
  });

  // Forms that ask first: data-confirm holds the question.
  document.addEventListener("submit", (ev) => {
    const q = ev.target.dataset && ev.target.dataset.confirm;
    if (q && !window.confirm(q)) ev.preventDefault();
  });

  // Auth type: show the inputs of the chosen type only.
  function showAuth(select) {
    const form = select.closest("form");
    form.querySelectorAll("[data-auth]").forEach((d) => { d.hidden = d.dataset.auth !== select.value; });
  }

  document.addEventListener("change", (ev) => {
    if (ev.target.matches("[data-auth-type]")) showAuth(ev.target);
    if (ev.target.matches("[data-reload-on-change]")) {
      const url = new URL(window.location.href);
      url.searchParams.set(ev.target.name, ev.target.value);
      window.location.assign(url.toString());
    }
  });

  // Parts that refresh themselves: data-refresh is the URL of a fragment,
  // data-every its period in milliseconds. While the page is told of
  // changes live (data-live="open" on the body, see inbox.js), the period
  // is data-every-live instead, when given, and a "refresh-now" event on
  // the part refreshes it at once.
  function refresh(el) {
    const every = () => Number((document.body.dataset.live === "open" && el.dataset.everyLive) || el.dataset.every || 3000);
    let timer = null;
    let busy = false;
    let again = false;
    const schedule = (ms) => {
      clearTimeout(timer);
      timer = setTimeout(tick, ms);
    };
    const tick = () => {
      timer = null;
      if (document.hidden) return schedule(every());
      busy = true;
      fetch(el.dataset.refresh, { headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" })
        // A redirect means the session ended: keep the part as it is.
        .then((r) => (r.ok && !r.redirected ? r.text() : Promise.reject(r.status)))
        .then((html) => {
          if (el.lastHTML !== html) {
            el.lastHTML = html;
            el.innerHTML = html; // server-rendered, escaped by html/template
            el.dispatchEvent(new CustomEvent("refreshed", { bubbles: true }));
          }
        })
        .catch(() => {})
        .finally(() => {
          busy = false;
          // A change told while this refresh was on its way may be newer.
          schedule(again ? 0 : every());
          again = false;
        });
    };
    el.addEventListener("refresh-now", () => {
      if (busy) again = true;
      else schedule(0);
    });
    schedule(every());
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-auth-type]").forEach(showAuth);
    document.querySelectorAll("[data-refresh]").forEach(refresh);
  });

  window.switchboard = { csrf, copyText };
})();
