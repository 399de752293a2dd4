// Remember the reader's Mastodon server in this browser, so they type it once.
(function () {
  "use strict";
  const form = document.querySelector("[data-mastodon-form]");
  if (!form) return;
  const field = form.querySelector("input[name=instance]");
  const KEY = "dispatch.mastodon-instance";
  try {
    if (!field.value && localStorage.getItem(KEY)) field.value = localStorage.getItem(KEY);
  } catch (e) { return; }
  form.addEventListener("submit", function () {
    try { localStorage.setItem(KEY, field.value.trim()); } catch (e) { /* private mode: nothing kept */ }
  });
})();
