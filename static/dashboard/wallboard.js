// The wallboard refreshes its live part every few seconds without reloading the page,
// and marks breaches it has not shown before (red, pulsing, for a minute).
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root) { return; }
  var url = root.getAttribute("data-url");
  var every = Math.min(5, Math.max(1, parseInt(root.getAttribute("data-refresh"), 10) || 5)) * 1000;
  var status = document.getElementById("live-status");
  var banner = document.getElementById("new-breach-banner");
  var okText = status ? status.textContent : "";
  var HIGHLIGHT_MS = 60000;
  var seen = {};
  var newSince = {};
  var failures = 0;

  function breachRows() { return root.querySelectorAll("[data-breach-id]"); }

  breachRows().forEach(function (row) { seen[row.getAttribute("data-breach-id")] = true; });

  function mark() {
    var now = Date.now();
    var fresh = 0;
    breachRows().forEach(function (row) {
      var id = row.getAttribute("data-breach-id");
      if (!seen[id]) { seen[id] = true; newSince[id] = now; }
      if (newSince[id] && now - newSince[id] < HIGHLIGHT_MS) {
        row.classList.add("breach-new");
        fresh += 1;
      }
    });
    if (banner) { banner.hidden = fresh === 0; }
    document.title = (fresh ? "(" + fresh + ") " : "") + document.title.replace(/^\(\d+\) /, "");
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (response.redirected || !response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        root.innerHTML = html;
        mark();
        failures = 0;
        if (status) { status.textContent = okText; status.classList.remove("stale"); }
      })
      .catch(function () {
        failures += 1;
        if (status && failures > 1) { status.textContent = status.getAttribute("data-stale") || "⚠"; status.classList.add("stale"); }
      })
      .then(function () { window.setTimeout(refresh, every); });
  }
  window.setTimeout(refresh, every);

  var toggle = document.getElementById("fullscreen-toggle");
  var wallByUrl = document.body.classList.contains("wall");
  if (toggle) {
    toggle.addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); return; }
      document.body.classList.add("wall");
      var request = document.documentElement.requestFullscreen;
      if (request) { request.call(document.documentElement).catch(function () { /* wall mode without the browser's full screen */ }); }
    });
    document.addEventListener("fullscreenchange", function () {
      if (!document.fullscreenElement && !wallByUrl) { document.body.classList.remove("wall"); }
    });
  }
})();
