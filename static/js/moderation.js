// Keyboard shortcuts for the moderation queue: j/k move, x selects, 1-5 act.
(function () {
  "use strict";
  const form = document.querySelector("[data-moderation-form]");
  if (!form) return;
  const items = Array.from(form.querySelectorAll("[data-queue-item]"));
  let current = 0;
  function focus(i) {
    items.forEach(function (item) { item.classList.remove("is-current"); });
    current = Math.max(0, Math.min(items.length - 1, i));
    items[current].classList.add("is-current");
    items[current].scrollIntoView({ block: "nearest" });
  }
  if (items.length) focus(0);
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.matches("input:not([type=checkbox]), textarea, select")) return;
    if (event.key === "j") focus(current + 1);
    else if (event.key === "k") focus(current - 1);
    else if (event.key === "x") { const box = items[current].querySelector("input[type=checkbox]"); box.checked = !box.checked; }
    else {
      const button = form.querySelector('[data-shortcut="' + event.key + '"]');
      if (!button) return;
      // A stray key must not delete or ban: those ask first.
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
      if (!form.querySelector("input[name=ids]:checked")) items[current].querySelector("input[type=checkbox]").checked = true;
      button.click();
    }
  });
})();
