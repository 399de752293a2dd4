// A subscriber who never chose a time zone gets this browser's, ready to save.
(function () {
  "use strict";
  const form = document.querySelector("[data-browser-timezone]");
  if (!form || !window.Intl) return;
  const select = form.querySelector("select[name=timezone]");
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!select || !zone || select.value !== "UTC" || zone === "UTC") return;
  if (!Array.from(select.options).some(function (option) { return option.value === zone; })) return;
  select.value = zone;
  form.querySelector("[data-timezone-note]").textContent = "Time zone set from this browser (" + zone + "). Save to keep it.";
})();
