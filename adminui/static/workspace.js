// Switchboard admin UI: the workspace pages. Choosing another channel on
// the new-connection form reloads it with that channel's provider settings,
// keeping the code, sender and route typed so far (never a secret).
"use strict";

(function () {
  document.addEventListener("change", (ev) => {
    const select = ev.target.closest("select[data-channel-select]");
    if (!select) return;
    const form = select.form;
    const url = new URL(select.dataset.channelSelect, window.location.href);
    url.searchParams.set("channel", select.value);
    ["code", "sender", "route"].forEach((name) => {
      const input = form.elements.namedItem(name);
      if (input && input.value) url.searchParams.set(name, input.value);
    });
    window.location.assign(url.toString());
  });
})();
