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
