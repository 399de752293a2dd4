// A signed-in reader's time zone, taken from this browser on the first visit:
// the server keeps it only while the account has none, never over a choice
// made in the settings. Sent once per browser.
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script || !window.fetch || !window.Intl || !window.localStorage) return;
  if (localStorage.getItem("dispatch-tz-sent")) return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const token = (document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/) || [])[1];
  if (!zone || !token) return;
  const data = new FormData();
  data.append("time_zone", zone);
  fetch(script.dataset.url, {
    method: "POST", body: data, credentials: "same-origin",
    headers: { "X-CSRFToken": decodeURIComponent(token), Accept: "application/json" },
  }).then(function (response) {
    if (response.ok || response.status === 400) localStorage.setItem("dispatch-tz-sent", zone);
  }).catch(function () {});
})();
