// Refresh the send page's counts every two seconds while the send runs.
(function () {
  "use strict";
  const box = document.querySelector("[data-send-progress]");
  if (!box) return;
  function tick() {
    fetch(box.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        const counts = data.counts;
        box.querySelector("[data-send-percent]").value = counts.percent;
        box.querySelector("[data-send-status]").textContent = data.status;
        ["total", "sent", "failed", "bounced", "skipped"].forEach(function (key) {
          box.querySelector('[data-count="' + key + '"]').textContent = counts[key];
        });
        box.querySelector('[data-count="queued"]').textContent = counts.queued + counts.sending;
        if (data.status === "sending") setTimeout(tick, 2000);
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 2000);
})();
