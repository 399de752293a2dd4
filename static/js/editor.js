// The writing desk's editor, with JavaScript on: a live preview beside the
// body, drafts saved while typing (a conflict is reported, never overwritten;
// a live post's edits are kept aside until Update), a warning before leaving
// with changes saved nowhere, and images dropped on the body uploaded and
// inserted as Markdown.
// Without JavaScript the form's Preview button, file field and Save still work.
(function () {
  "use strict";
  const form = document.querySelector("[data-editor-form]");
  if (!form || !window.fetch) return;
  const body = form.querySelector("textarea[name=body]");
  const version = form.querySelector("input[name=version]");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const status = form.querySelector("[data-autosave-status]");
  const fields = ["title", "subtitle", "body", "excerpt"];

  function say(text, isConflict) {
    status.textContent = text;
    status.classList.toggle("is-conflict", Boolean(isConflict));
  }

  function post(url, data) {
    data.append("csrfmiddlewaretoken", csrf);
    return fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (json) { return { status: response.status, data: json }; });
      });
  }

  function debounce(fn, ms) {
    let timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  // --- Live preview -----------------------------------------------------------
  const preview = document.querySelector("[data-live-preview]");
  const previewBody = document.querySelector("[data-live-preview-body]");
  function refreshPreview() {
    const data = new FormData();
    data.append("body", body.value);
    post(form.dataset.previewUrl, data).then(function (result) {
      if (result.status === 200) previewBody.innerHTML = result.data.html; // rendered and sanitised by the server
    }).catch(function () {});
  }
  if (preview && body) {
    preview.hidden = false;
    document.querySelector("[data-editor]").classList.add("has-live-preview");
    body.addEventListener("input", debounce(refreshPreview, 400));
    refreshPreview();
  }

  // --- Unsaved changes ---------------------------------------------------------
  // Typing makes the form "dirty" until an autosave keeps it or the form is sent;
  // fields autosave leaves out (slug, tags, cover, ...) stay dirty until it is sent.
  let dirty = false;
  let otherChanged = false;
  let typedSince = 0;
  function noteChange(event) {
    if (fields.indexOf(event.target.name) === -1) otherChanged = true;
    else { dirty = true; typedSince += 1; }
  }
  form.addEventListener("input", noteChange);
  form.addEventListener("change", function (event) {
    if (fields.indexOf(event.target.name) === -1) otherChanged = true;
  });
  form.addEventListener("submit", function () { dirty = false; otherChanged = false; });
  window.addEventListener("beforeunload", function (event) {
    if (!dirty && !otherChanged) return;
    event.preventDefault();
    event.returnValue = "";  // browsers show their own wording
  });

  // --- Autosave ----------------------------------------------------------------
  const slugField = form.querySelector("input[name=slug]");
  let knownSlug = slugField ? slugField.value : "";
  let conflicted = false;
  let saving = false;
  let again = false;
  function autosave() {
    if (!form.dataset.autosaveUrl || conflicted) return;
    if (saving) { again = true; return; }
    if (!form.querySelector("[name=title]").value.trim()) {
      say("Give the post a title; then it saves by itself.");
      return;
    }
    const data = new FormData();
    fields.forEach(function (name) {
      const field = form.querySelector("[name=" + name + "]");
      if (field) data.append(name, field.value);
    });
    data.append("version", version.value);
    const typedAtStart = typedSince;
    saving = true;
    say("Saving…");
    post(form.dataset.autosaveUrl, data).then(function (result) {
      if (result.status === 200) {
        version.value = result.data.version;
        // A draft's slug follows its title: keep the field in step unless the author typed one.
        if (slugField && slugField.value === knownSlug) slugField.value = result.data.slug;
        knownSlug = result.data.slug;
        if (form.dataset.autosaveUrl !== result.data.autosave_url) {
          // A new post now exists: later saves and the Save button go to it.
          form.dataset.autosaveUrl = result.data.autosave_url;
          form.action = result.data.edit_url;
          history.replaceState(null, "", result.data.edit_url);
        }
        if (typedSince === typedAtStart) dirty = false;  // nothing typed while it was on its way
        say(result.data.message || "Draft saved at " + result.data.saved_at + ".");
      } else if (result.status === 409) {
        conflicted = true;
        say(result.data.error, true);
      } else {
        say("Not saved: " + (result.data.error || "the server refused it") + ".");
      }
    }).catch(function () {
      say("Not saved: no connection. It tries again when you type.");
    }).finally(function () {
      saving = false;
      if (again) { again = false; autosave(); }
    });
  }
  if (form.dataset.autosaveUrl) {
    const later = debounce(autosave, 1500);
    fields.forEach(function (name) {
      const field = form.querySelector("[name=" + name + "]");
      if (field) field.addEventListener("input", later);
    });
  }

  // --- Images dropped on the body -------------------------------------------
  function insertAtCursor(text) {
    const start = body.selectionStart, end = body.selectionEnd;
    const before = body.value.slice(0, start), after = body.value.slice(end);
    const pad = before && !before.endsWith("\n\n") ? (before.endsWith("\n") ? "\n" : "\n\n") : "";
    body.value = before + pad + text + "\n\n" + after;
    body.selectionStart = body.selectionEnd = (before + pad + text + "\n\n").length;
    body.dispatchEvent(new Event("input"));
  }
  function upload(file) {
    const alt = window.prompt("Describe “" + file.name + "” for readers who cannot see it:", "");
    if (alt === null) return;
    if (!alt.trim()) { say("Not added: an image needs a description."); return; }
    const data = new FormData();
    data.append("image", file);
    data.append("alt", alt);
    say("Uploading " + file.name + "…");
    post(form.dataset.uploadUrl, data).then(function (result) {
      if (result.status === 200) { insertAtCursor(result.data.markdown); say("Image added."); }
      else say("Not added: " + result.data.error);
    }).catch(function () { say("Not added: no connection."); });
  }
  body.addEventListener("dragover", function (event) {
    if (event.dataTransfer && Array.from(event.dataTransfer.types).indexOf("Files") !== -1) {
      event.preventDefault();
      body.classList.add("is-dragging");
    }
  });
  body.addEventListener("dragleave", function () { body.classList.remove("is-dragging"); });
  body.addEventListener("drop", function (event) {
    body.classList.remove("is-dragging");
    const files = Array.from((event.dataTransfer && event.dataTransfer.files) || []);
    if (!files.length) return;
    event.preventDefault();
    files.forEach(upload);
  });
  const help = document.getElementById("id_body_image_helptext");
  if (help) help.textContent += " Or drop images on the body.";
})();
