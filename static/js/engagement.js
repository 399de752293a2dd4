// Likes update in place and in both bars at once; copy-link and the Web Share
// API are offered where the browser has them. Everything works without this.
(function () {
  "use strict";
  const forms = Array.from(document.querySelectorAll("[data-like-form]"));
  const csrf = document.querySelector("[data-like-form] input[name=csrfmiddlewaretoken]");

  function show(liked, count) {
    forms.forEach(function (form) {
      const button = form.querySelector("[data-like-button]");
      button.classList.toggle("is-liked", liked);
      button.setAttribute("aria-pressed", String(liked));
      button.setAttribute("aria-label", "Like, " + count + (count === 1 ? " like" : " likes"));
      form.querySelector("[data-like-count]").textContent = String(count);
      form.querySelector("[data-like-next]").value = liked ? "0" : "1";
    });
  }

  forms.forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.dataset.busy) return; // a double click sends one request
      forms.forEach(function (f) { f.dataset.busy = "1"; });
      fetch(form.action, { method: "POST", body: new FormData(form), headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          return response.json().then(function (data) { return { status: response.status, data: data }; });
        })
        .then(function (result) {
          if (result.status === 401 && result.data.login) { window.location.href = result.data.login; return; }
          if (result.status === 429) { window.alert(result.data.error); return; }
          if (result.status === 200) show(result.data.liked, result.data.count);
        })
        .catch(function () { form.submit(); })
        .finally(function () { forms.forEach(function (f) { delete f.dataset.busy; }); });
    });
  });

  function beacon(url) {
    const body = new FormData();
    if (csrf) body.append("csrfmiddlewaretoken", csrf.value);
    fetch(url, { method: "POST", body: body, credentials: "same-origin" });
  }

  document.querySelectorAll("[data-copy-link]").forEach(function (button) {
    if (!navigator.clipboard) return;
    const field = button.parentElement.querySelector("[data-share-url]");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        button.textContent = "Copied!";
        beacon(button.dataset.beacon);
        setTimeout(function () { button.textContent = "Copy link"; }, 2000);
      });
    });
  });

  document.querySelectorAll("[data-native-share]").forEach(function (button) {
    if (!navigator.share) return;
    const field = button.parentElement.querySelector("[data-share-url]");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.share({ title: button.dataset.title, url: field.value })
        .then(function () { beacon(button.dataset.beacon); })
        .catch(function () {});
    });
  });
})();
