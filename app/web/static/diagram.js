// Draws the instance's BPMN diagram with bpmn-js (served from static/vendor, never a CDN), marks
// each element with its state (completed, active, waiting or error), and gives it zoom buttons.
// The mouse wheel scrolls the page; it zooms only with Ctrl held or once the diagram has focus.
(function () {
  "use strict";
  var container = document.getElementById("diagram");
  if (!container || !window.BpmnJS) { return; }
  var states = JSON.parse(container.dataset.states || "{}");
  var viewer = new window.BpmnJS({ container: container });
  var READABLE = 0.8; // labels of about 9 px: the smallest zoom the diagram opens at

  function canvas() { return viewer.get("canvas"); }
  function zoomBy(factor) { canvas().zoom(canvas().zoom() * factor); }
  function fit() { canvas().zoom("fit-viewport", "auto"); }

  var zoomScroll = null;
  container.addEventListener("wheel", function (event) {
    // Runs before bpmn-js's own listener on the same element (capture phase at the target).
    if (zoomScroll) { zoomScroll.toggle(event.ctrlKey || container.contains(document.activeElement)); }
  }, { capture: true, passive: true });

  var section = container.closest("section");
  section.addEventListener("click", function (event) {
    var button = event.target.closest("[data-zoom]");
    if (!button) { return; }
    var action = button.dataset.zoom;
    if (action === "in") { zoomBy(1.25); }
    if (action === "out") { zoomBy(0.8); }
    if (action === "fit") { fit(); }
    if (action === "full") {
      var full = section.classList.toggle("diagram-full");
      button.setAttribute("aria-pressed", full ? "true" : "false");
      canvas().resized();
      fit();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && section.classList.contains("diagram-full")) {
      section.classList.remove("diagram-full");
      canvas().resized();
    }
  });

  fetch(container.dataset.url, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var registry = viewer.get("elementRegistry");
      zoomScroll = viewer.get("zoomScroll");
      zoomScroll.toggle(false);
      fit();
      var active = null;
      Object.keys(states).forEach(function (id) {
        var element = registry.get(id);
        if (!element) { return; }
        canvas().addMarker(id, "state-" + states[id]);
        if (/SubProcess|Participant|Lane/.test(element.type)) { canvas().addMarker(id, "container"); }
        else if (states[id] === "active" && !active) { active = element; }
      });
      if (canvas().zoom() < READABLE) {
        // Too small to read when fitted: open readable, on the active step if there is one.
        canvas().zoom(READABLE, active ? { x: active.x + active.width / 2, y: active.y + active.height / 2 } : null);
        if (active) { canvas().scrollToElement(active); }
      }
      container.classList.add("ready");
    })
    .catch(function (error) {
      if (window.console) { window.console.error("diagram:", error); }
      container.textContent = container.dataset.error;
      container.classList.add("failed");
    });
})();
