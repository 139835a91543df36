// Drafts: what is typed into a task's form is kept in this browser (localStorage) until the task
// is done, so that a sign-out in another tab, an expired page or a lost connection loses nothing.
(function () {
  "use strict";
  var PREFIX = "draft:";
  function clear(key) { try { window.localStorage.removeItem(PREFIX + key); } catch (e) { /* storage off */ } }
  document.querySelectorAll("[data-clear-draft]").forEach(function (element) { clear(element.dataset.clearDraft); });

  var form = document.querySelector("form[data-draft]");
  if (!form) { return; }
  var key = PREFIX + form.dataset.draft;
  function fields() {
    return Array.prototype.filter.call(form.elements, function (element) {
      return element.name && element.name !== "csrf_token" && element.type !== "file" &&
        element.type !== "submit" && element.type !== "button" && !element.closest("template");
    });
  }
  function snapshot() {
    return fields().map(function (element) {
      var checkable = element.type === "checkbox" || element.type === "radio";
      return [element.name, checkable ? (element.checked ? element.value : null) : element.value, element.type];
    });
  }
  function save() {
    try { window.localStorage.setItem(key, JSON.stringify({at: Date.now(), fields: snapshot()})); } catch (e) { /* full */ }
  }
  var stored = null;
  try { stored = JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { stored = null; }
  if (stored && JSON.stringify(stored.fields) !== JSON.stringify(snapshot())) {
    var byName = {};
    stored.fields.forEach(function (entry) { (byName[entry[0]] = byName[entry[0]] || []).push(entry); });
    fields().forEach(function (element) {
      var entries = byName[element.name];
      if (!entries) { return; }
      if (element.type === "checkbox" || element.type === "radio") {
        element.checked = entries.some(function (entry) { return entry[1] !== null && entry[1] === element.value; });
      } else {
        element.value = entries.shift()[1];
      }
      element.dispatchEvent(new Event("input", {bubbles: true}));
    });
    form.dispatchEvent(new Event("change", {bubbles: true}));
    var notice = document.getElementById("draft-restored");
    if (notice) { notice.hidden = false; }
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-discard-draft]")) { clear(form.dataset.draft); window.location.reload(); }
  });
})();
