// The outage form shows the fields of the chosen kind only: the confirmation time for a
// fault outage, the announcement (and a supervisor's override) for a planned one. Without
// the script every field is shown and the server says which ones apply.
(function () {
  "use strict";
  var form = document.getElementById("outage-form");
  if (!form) { return; }
  var kind = form.elements.kind;
  function sync() {
    form.querySelectorAll("[data-only]").forEach(function (field) {
      // A field with an error stays visible whatever the kind.
      var keep = field.classList.contains("has-error");
      field.hidden = !keep && field.getAttribute("data-only") !== kind.value;
    });
  }
  kind.addEventListener("change", sync);
  sync();
}());
