// Move the dry run's or the import's progress bar every two seconds; reload with the report when it ends.
(function () {
  "use strict";
  const box = document.querySelector("[data-import-progress]");
  if (!box) return;
  function tick() {
    fetch(box.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        box.querySelector("[data-import-percent]").value = data.percent;
        box.querySelector("[data-import-status]").textContent = data.status_label;
        if (["checking", "queued", "running"].indexOf(data.status) !== -1) setTimeout(tick, 2000);
        else window.location.reload();
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  setTimeout(tick, 2000);
})();
