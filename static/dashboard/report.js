// Changing a filter shows the new figures at once (the form is plain GET and works without this).
(function () {
  "use strict";
  var form = document.getElementById("report-filters");
  if (!form) { return; }
  form.querySelectorAll("select, input[type=date]").forEach(function (field) {
    field.addEventListener("change", function () { form.requestSubmit ? form.requestSubmit() : form.submit(); });
  });
})();
