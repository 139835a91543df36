// Draws the instance's BPMN diagram with bpmn-js (served from static/vendor, never a CDN) and
// marks each element with its state: completed, active, waiting or error.
(function () {
  "use strict";
  var container = document.getElementById("diagram");
  if (!container || !window.BpmnJS) { return; }
  var states = JSON.parse(container.dataset.states || "{}");
  var viewer = new window.BpmnJS({ container: container });
  fetch(container.dataset.url, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      canvas.zoom("fit-viewport", "auto");
      Object.keys(states).forEach(function (id) {
        var element = registry.get(id);
        if (!element) { return; }
        canvas.addMarker(id, "state-" + states[id]);
        if (/SubProcess|Participant|Lane/.test(element.type)) { canvas.addMarker(id, "container"); }
      });
      container.classList.add("ready");
    })
    .catch(function (error) {
      if (window.console) { window.console.error("diagram:", error); }
      container.textContent = container.dataset.error;
      container.classList.add("failed");
    });
})();
