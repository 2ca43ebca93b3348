// Behaviour every page shares, kept out of the HTML: the content security policy runs no
// inline script or event handler.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // The language menu switches as soon as a language is picked.
  for (const select of document.querySelectorAll("select[data-submit-on-change]")) {
    select.addEventListener("change", () => select.form.submit());
  }
});
