// "Reply" opens a reply box under the comment instead of leaving the page.
(function () {
  "use strict";
  const main = document.querySelector("[data-comment-form]");
  if (!main) return;
  document.querySelectorAll("[data-reply]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      document.querySelectorAll(".reply-box").forEach(function (box) { box.remove(); });
      const form = main.cloneNode(true);
      form.classList.add("reply-box");
      form.removeAttribute("id");
      form.querySelector("[data-reply-to]").value = link.dataset.reply;
      const area = form.querySelector("textarea");
      area.id = "reply-body-" + link.dataset.reply;
      area.value = "";
      form.querySelector("label[for]").setAttribute("for", area.id);
      form.querySelector("label[for]").textContent = "Your reply";
      form.querySelector("button[type=submit]").textContent = "Post reply";
      const cancel = form.querySelector("[data-cancel-reply]");
      cancel.hidden = false;
      cancel.addEventListener("click", function () { form.remove(); link.focus(); });
      const help = form.querySelector(".help[id]");  // ids must stay unique in the page
      if (help) { help.id = area.id + "-help"; area.setAttribute("aria-describedby", help.id); }
      link.closest("li").appendChild(form);
      area.focus();
    });
  });
})();
