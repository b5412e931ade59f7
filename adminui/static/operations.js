// Switchboard admin UI: the operations pages (deliveries, subscriptions,
// plugins). A filter form marked data-auto-submit applies a choice at once;
// without script its Filter button does the same.
"use strict";

(function () {
  document.addEventListener("change", (ev) => {
    const form = ev.target.closest("form[data-auto-submit]");
    if (form && ev.target.matches("select")) form.requestSubmit();
  });
})();
