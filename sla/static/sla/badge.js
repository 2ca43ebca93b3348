// The notification badge in the top bar: polls the unread count so that no page render pays
// for it, and shows it when there is something to read.
(function () {
  var badge = document.getElementById("sla-badge");
  if (!badge) return;
  var count = badge.querySelector(".sla-badge-count");
  function refresh() {
    fetch(badge.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        count.textContent = data.unread > 99 ? "99+" : String(data.unread);
        badge.classList.toggle("has-unread", data.unread > 0);
      })
      .catch(function () {});
  }
  refresh();
  setInterval(refresh, 15000);
})();
