// Small progressive enhancements: add/remove rows of array fields, confirmations, error focus.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var add = event.target.closest(".add-row");
    if (add) {
      var fieldset = add.closest("fieldset.rows");
      var template = fieldset.querySelector("template");
      var index = Number(add.dataset.nextIndex || 0);
      add.dataset.nextIndex = String(index + 1);
      var html = template.innerHTML.replace(/__INDEX__/g, String(index));
      fieldset.querySelector(".row-list").insertAdjacentHTML("beforeend", html);
      var rows = fieldset.querySelectorAll("[data-row]");
      var first = rows[rows.length - 1].querySelector("input, select, textarea");
      if (first) { first.focus(); }
      return;
    }
    var remove = event.target.closest(".remove-row");
    if (remove) {
      var list = remove.closest("fieldset.rows");
      remove.closest("[data-row]").remove();
      list.querySelector(".add-row").focus();
    }
  });
  document.addEventListener("submit", function (event) {
    var message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
  var summary = document.getElementById("error-summary");
  if (summary) {
    var invalid = document.querySelector("[aria-invalid='true']");
    (invalid || summary).focus();
  }
})();

// Fields required only while others hold given values (the schema's if/then): marked as they change.
(function () {
  "use strict";
  function valueOf(form, name) {
    var inputs = form.querySelectorAll("[name='" + name + "']");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.type === "checkbox") { return input.checked; }
      if (input.type === "radio") { if (input.checked) { return input.value; } continue; }
      return input.value;
    }
    return null;
  }
  function update(form) {
    form.querySelectorAll("[data-required-when]").forEach(function (box) {
      var conditions = JSON.parse(box.dataset.requiredWhen);
      var needed = conditions.some(function (condition) {
        return Object.keys(condition).every(function (name) {
          var current = valueOf(form, name);
          return condition[name].some(function (accepted) {
            return typeof accepted === "boolean" ? current === accepted : String(accepted) === current;
          });
        });
      });
      var mark = box.querySelector(".required");
      if (mark) { mark.hidden = !needed; }
      box.querySelectorAll("input:not([type=hidden]):not([type=checkbox]), select, textarea").forEach(function (input) {
        input.required = needed;
        if (needed) { input.setAttribute("aria-required", "true"); } else { input.removeAttribute("aria-required"); }
      });
    });
  }
  document.querySelectorAll("form").forEach(function (form) {
    if (!form.querySelector("[data-required-when]")) { return; }
    form.addEventListener("change", function () { update(form); });
    update(form);
  });

  // Length limits: a live count beside the field, and a field error past the limit (never cutting).
  document.querySelectorAll("[data-maxlength]").forEach(function (input) {
    var limit = Number(input.dataset.maxlength);
    var counter = document.querySelector("[data-counter-for='" + input.name + "']");
    function refresh() {
      var length = input.value.length;
      if (counter) {
        counter.querySelector("[data-count]").textContent = String(length);
        counter.classList.toggle("over", length > limit);
      }
      input.setCustomValidity(length > limit && counter ? counter.dataset.message : "");
    }
    input.addEventListener("input", refresh);
    refresh();
  });
})();
