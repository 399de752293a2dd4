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

  // A refusal (a ban, a rate limit, an out-of-date page, a server error) is
  // said beside the button that was pressed, never swallowed.
  const NOT_SAVED = {
    403: "Your like was not saved: this page is out of date. Reload it and try again.",
    other: "Your like was not saved: the site could not answer just now. Please try again in a moment.",
    offline: "Your like was not saved: the connection failed. Check it and try again.",
  };

  function say(form, text) {
    let note = form.parentElement.querySelector("[data-like-error]");
    if (!note) {
      note = document.createElement("p");
      note.className = "notice like-error";
      note.setAttribute("role", "alert");
      note.dataset.likeError = "";
      form.insertAdjacentElement("afterend", note);
    }
    note.textContent = text;
  }

  function unsay() {
    document.querySelectorAll("[data-like-error]").forEach(function (note) { note.remove(); });
  }

  function answer(response) {
    const json = (response.headers.get("Content-Type") || "").indexOf("application/json") !== -1;
    if (!json) return { status: response.status, data: {} };
    return response.json().then(function (data) { return { status: response.status, data: data }; });
  }

  forms.forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.dataset.busy) return; // a double click sends one request
      forms.forEach(function (f) { f.dataset.busy = "1"; });
      fetch(form.action, { method: "POST", body: new FormData(form), headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(answer)
        .then(function (result) {
          if (result.status === 401 && result.data.login) { window.location.href = result.data.login; return; }
          if (result.status === 200) { unsay(); show(result.data.liked, result.data.count); return; }
          say(form, result.data.error || NOT_SAVED[result.status] || NOT_SAVED.other);
        })
        .catch(function () { say(form, NOT_SAVED.offline); })
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
