/*
 * The agent console and the order lists: live countdowns, the ringing call, the caller's
 * card, the knowledge base and the keyboard shortcuts. Plain script, no libraries.
 *
 * Everything here is an enhancement of server-rendered pages: without it the forms still
 * post and the lookups still work through ordinary links. Translated words come from data-
 * attributes the templates fill, so the script holds no user-facing text.
 */
(function () {
  "use strict";

  // --- Countdowns (console, My orders, unit orders, order page) ---------------------------
  // The server's clock is the reference: the page says what time it was rendered, and the
  // browser's offset from it is applied, so a wrong PC clock does not move a deadline.
  var serverNowMeta = document.querySelector('meta[name="server-now"]');
  var skew = 0;
  if (serverNowMeta) {
    var serverNow = Date.parse(serverNowMeta.content);
    if (!isNaN(serverNow)) skew = serverNow - Date.now();
  }
  function now() { return Date.now() + skew; }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function span(ms, dayUnit) {
    var s = Math.floor(Math.abs(ms) / 1000);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d > 0) return d + (dayUnit || "d") + " " + pad(h) + ":" + pad(m);
    if (h > 0) return h + ":" + pad(m) + ":" + pad(s % 60);
    return pad(m) + ":" + pad(s % 60);
  }
  var labels = document.querySelector("[data-countdown-left]") || document.documentElement;
  function tick() {
    var t = now();
    var nodes = document.querySelectorAll(".countdown[data-due]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      var due = Date.parse(el.getAttribute("data-due"));
      var risk = Date.parse(el.getAttribute("data-risk"));
      if (isNaN(due)) continue;
      var left = due - t;
      var over = left <= 0;
      el.classList.toggle("breached", over);
      el.classList.toggle("at-risk", !over && !isNaN(risk) && t >= risk);
      var item = el.closest(".timer");
      if (item) {
        item.classList.toggle("timer-breached", over);
        item.classList.toggle("timer-at_risk", !over && !isNaN(risk) && t >= risk);
      }
      var word = over ? labels.getAttribute("data-countdown-over") : labels.getAttribute("data-countdown-left");
      el.textContent = (word ? word + " " : "") + span(left, labels.getAttribute("data-countdown-day"));
    }
  }
  tick();
  window.setInterval(tick, 1000);

  // --- The console ----------------------------------------------------------------------------
  var root = document.getElementById("console");
  if (!root) return;
  document.documentElement.classList.add("js");

  var form = document.getElementById("intake-form");
  var phone = document.getElementById("id_caller_phone");
  var customerInput = document.getElementById("id_customer");
  var callInput = document.getElementById("id_call_id");
  var articleInput = document.getElementById("id_knowledge_article");
  var slot = document.getElementById("caller-panel-slot");
  var searchForm = document.getElementById("customer-search");
  var searchInput = document.getElementById("customer-q");
  var submitButton = document.getElementById("submit-order");
  var subtype = document.getElementById("id_subtype");
  var detail = document.getElementById("id_detail");
  var address = document.getElementById("id_address");
  var areaType = document.getElementById("id_area_type");
  var reply = document.getElementById("id_reply");
  var kbInput = document.getElementById("kb-q");
  var kbResults = document.getElementById("kb-results");
  var liveBox = document.getElementById("live-call");
  var dispositionForm = document.getElementById("disposition-form");
  var dirty = false;
  var pendingCall = null;
  var lastPanelKey = null;

  function checked(name) {
    var el = form.querySelector('input[name="' + name + '"]:checked');
    return el ? el.value : "";
  }

  // Category: only the chosen category's fields are shown, enabled and in the tab order.
  function applyCategory() {
    var category = checked("category");
    var sets = form.querySelectorAll(".cat-fields");
    for (var i = 0; i < sets.length; i++) {
      var on = category && sets[i].getAttribute("data-category").split(" ").indexOf(category) >= 0;
      sets[i].classList.toggle("active", !!on);
      sets[i].disabled = !on;
    }
    var groups = subtype.querySelectorAll("optgroup");
    for (var j = 0; j < groups.length; j++) {
      var mine = !category || groups[j].getAttribute("data-category") === category;
      groups[j].hidden = !mine;
      groups[j].disabled = !mine;
    }
    var selected = subtype.selectedOptions[0];
    if (selected && selected.parentNode.disabled) subtype.value = "";
    applySubtype();
    applyOutcome();
  }

  function applySubtype() {
    var parent = subtype.value;
    var options = detail.querySelectorAll("option[data-parent]");
    var any = false;
    for (var i = 0; i < options.length; i++) {
      var mine = parent && options[i].getAttribute("data-parent") === parent;
      options[i].hidden = !mine;
      options[i].disabled = !mine;
      any = any || mine;
    }
    if (detail.selectedOptions[0] && detail.selectedOptions[0].disabled) detail.value = "";
    detail.disabled = !any;
  }

  // What submitting will do, said on the button: dispatch, or close on the call.
  function applyOutcome() {
    var category = checked("category");
    var inside = checked("inside_installation");
    var replyForm = checked("reply_form") || "on_call";
    var closes = (category === "repair" && inside === "yes") || (category === "inquiry" && replyForm === "on_call");
    submitButton.textContent = submitButton.getAttribute(closes ? "data-label-close" : "data-label-dispatch");
    var notes = form.querySelectorAll("[data-when-inside]");
    for (var i = 0; i < notes.length; i++) notes[i].hidden = notes[i].getAttribute("data-when-inside") !== inside;
    var hints = form.querySelectorAll("[data-when-reply]");
    for (var j = 0; j < hints.length; j++) hints[j].hidden = hints[j].getAttribute("data-when-reply") !== replyForm;
  }

  function firstFieldOf(category) {
    if (category === "repair") {
      return form.querySelector('input[name="inside_installation"]:checked') ||
        form.querySelector('input[name="inside_installation"]');
    }
    return subtype;
  }

  function chooseCategory(index) {
    var radios = form.querySelectorAll('input[name="category"]');
    var radio = radios[index];
    if (!radio) return;
    radio.checked = true;
    applyCategory();
    dirty = true;
    var next = firstFieldOf(radio.value);
    if (next) next.focus();
  }

  form.addEventListener("change", function (event) {
    var name = event.target.name;
    if (name === "category") applyCategory();
    else if (name === "subtype") applySubtype();
    else if (name === "inside_installation" || name === "reply_form") applyOutcome();
  });
  form.addEventListener("input", function (event) {
    if (event.target !== phone) dirty = true;
  });
  applyCategory();

  // --- Caller panel ---------------------------------------------------------------------------
  function syncFromPanel() {
    var panel = slot.querySelector(".caller-panel");
    if (!panel) return;
    customerInput.value = panel.getAttribute("data-customer-id") || "";
    address.placeholder = panel.getAttribute("data-address") || "";
    var areaDefault = areaType.querySelector('option[value=""]');
    areaDefault.textContent = areaDefault.getAttribute(customerInput.value ? "data-with-customer" : "data-without-customer");
    tick();
    var hastenForms = slot.querySelectorAll(".hasten-form");
    for (var i = 0; i < hastenForms.length; i++) {
      hastenForms[i].elements.caller_phone.value = phone.value;
      hastenForms[i].elements.call_id.value = callInput.value;
    }
  }

  function loadPanel(params, after) {
    var query = new URLSearchParams(params).toString();
    lastPanelKey = query;
    return fetch(root.getAttribute("data-panel-url") + "?" + query, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || lastPanelKey !== query) return;
        slot.innerHTML = html;
        syncFromPanel();
        if (after) after();
      })
      .catch(function () { /* the agent can still search again */ });
  }

  // After a lookup the agent did not ask for by a key (the call rang, the number field was
  // left), focus moves only to offer a choice among several customers, never away from typing.
  function focusAfterLookup() {
    var active = document.activeElement;
    if (active && active !== document.body && active !== phone) return;
    var first = slot.querySelector(".result");
    if (first) first.focus();
  }

  // After Enter: the next step in order — a customer to choose, else the link to an active
  // outage covering the customer (storm mode: offered first), else the category.
  function focusNextStep() {
    var first = slot.querySelector(".result");
    if (first) first.focus();
    else if (slot.querySelector("#customer-card")) chooseFocusCategory();
    else searchInput.focus();
  }

  function lookupPhone() {
    var value = phone.value.trim();
    if (!value) return;
    var params = { phone: value };
    if (new URLSearchParams(params).toString() === lastPanelKey) return;
    loadPanel(params, focusAfterLookup);
  }

  phone.addEventListener("keydown", function (event) {
    // Enter looks the caller up; it must not submit the half-filled order.
    if (event.key === "Enter" && !event.ctrlKey) {
      event.preventDefault();
      lastPanelKey = null;
      loadPanel({ phone: phone.value.trim() }, focusNextStep);
    }
  });
  phone.addEventListener("change", lookupPhone);

  searchForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var q = searchInput.value.trim();
    if (!q) return;
    loadPanel({ q: q, phone: phone.value.trim() }, focusNextStep);
  });

  function chooseFocusCategory() {
    var outageLink = slot.querySelector(".outage-active .link-outage");
    if (outageLink) { outageLink.focus(); return; }
    var radio = form.querySelector('input[name="category"]:checked') || form.querySelector('input[name="category"]');
    if (radio) radio.focus();
  }

  slot.addEventListener("click", function (event) {
    var link = event.target.closest("a.result");
    if (!link) return;
    event.preventDefault();
    loadPanel({ customer: link.getAttribute("data-customer"), phone: phone.value.trim() }, chooseFocusCategory);
  });

  // Hastening and disposition forms carry the live call and the number typed.
  document.addEventListener("submit", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("hasten-form")) {
      target.elements.caller_phone.value = phone.value;
      target.elements.call_id.value = callInput.value;
    } else if (target === dispositionForm) {
      dispositionForm.elements.caller_phone.value = phone.value;
      dispositionForm.elements.call_id.value = callInput.value;
    }
  }, true);

  // --- The ringing call -----------------------------------------------------------------------
  function showCall(call) {
    if (!call) { liveBox.hidden = true; return; }
    liveBox.hidden = false;
    var state = liveBox.querySelector(".live-state");
    state.textContent = state.getAttribute(call.state === "talking" ? "data-talking" : "data-ringing");
    liveBox.classList.toggle("ringing", call.state !== "talking");
    liveBox.querySelector(".live-number").textContent = call.caller_phone || "—";
    liveBox.querySelector(".take-call").hidden = !pendingCall;
  }

  function takeCall(call) {
    pendingCall = null;
    callInput.value = call.call_id;
    phone.value = call.caller_phone || "";
    dirty = false;
    showCall(call);
    if (phone.value) loadPanel({ phone: phone.value }, focusAfterLookup);
  }

  function onCall(call) {
    if (call && call.call_id !== callInput.value) {
      // A new call while the agent is still writing the last order: ask before replacing it.
      if (dirty) pendingCall = call;
      else takeCall(call);
    } else if (!call) {
      pendingCall = null;
    }
    showCall(call);
  }

  liveBox.querySelector(".take-call").addEventListener("click", function () {
    if (pendingCall) takeCall(pendingCall);
  });

  function poll() {
    fetch(root.getAttribute("data-live-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) onCall(data.call); })
      .catch(function () { /* the switch link or the network blinked: try again */ })
      .then(function () { window.setTimeout(poll, 1000); });
  }
  poll();

  // --- Knowledge base --------------------------------------------------------------------------
  var kbTimer = null;
  function searchKnowledge(focusFirst) {
    var q = kbInput.value.trim();
    if (!q) { kbResults.innerHTML = ""; return; }
    fetch(root.getAttribute("data-knowledge-url") + "?" + new URLSearchParams({ q: q }).toString(),
          { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) {
        kbResults.innerHTML = "";
        if (!data.results.length) {
          var none = document.createElement("li");
          none.className = "muted";
          none.textContent = kbInput.getAttribute("data-none-label");
          kbResults.appendChild(none);
          return;
        }
        data.results.forEach(function (article) {
          var li = document.createElement("li");
          var title = document.createElement("strong");
          title.textContent = article.title;
          var category = document.createElement("span");
          category.className = "kb-category";
          category.textContent = article.category;
          var body = document.createElement("p");
          body.className = "kb-body";
          body.textContent = article.body;
          var use = document.createElement("button");
          use.type = "button";
          use.className = "kb-use";
          use.textContent = kbInput.getAttribute("data-use-label");
          use.addEventListener("click", function () {
            reply.value = article.body;
            articleInput.value = article.id;
            var onCall = form.querySelector('input[name="reply_form"][value="on_call"]');
            if (onCall) onCall.checked = true;
            applyOutcome();
            dirty = true;
            reply.focus();
          });
          li.appendChild(title);
          li.appendChild(document.createTextNode(" "));
          li.appendChild(category);
          li.appendChild(body);
          li.appendChild(use);
          kbResults.appendChild(li);
        });
        if (focusFirst) {
          var first = kbResults.querySelector(".kb-use");
          if (first) first.focus();
        }
      })
      .catch(function () {});
  }
  kbInput.addEventListener("input", function () {
    window.clearTimeout(kbTimer);
    kbTimer = window.setTimeout(function () { searchKnowledge(false); }, 250);
  });
  kbInput.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      window.clearTimeout(kbTimer);
      searchKnowledge(true);
    }
  });

  // --- Keyboard shortcuts ----------------------------------------------------------------------
  function submitOrder() {
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey && !event.altKey && event.key === "Enter") {
      event.preventDefault();
      submitOrder();
      return;
    }
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    var code = event.code || "";
    var digit = /^(Digit|Numpad)([1-5])$/.exec(code);
    var handled = true;
    if (digit) {
      chooseCategory(parseInt(digit[2], 10) - 1);
    } else if (code === "KeyP") {
      phone.focus();
      phone.select();
    } else if (code === "KeyC") {
      searchInput.focus();
      searchInput.select();
    } else if (code === "KeyK") {
      if (checked("category") !== "inquiry") chooseCategory(1);
      kbInput.focus();
    } else if (code === "KeyH") {
      var hasten = slot.querySelector(".hasten-form input[name=text]");
      if (hasten) hasten.focus();
    } else if (code === "KeyL") {
      var link = slot.querySelector(".link-outage");
      if (link) link.focus();
    } else if (code === "KeyS") {
      submitOrder();
    } else if (code === "KeyW") {
      var wrong = dispositionForm.querySelector('[value="wrong_number"]');
      if (wrong) wrong.focus();
    } else if (code === "KeyN") {
      if (pendingCall) takeCall(pendingCall);
    } else {
      handled = false;
    }
    if (handled) event.preventDefault();
  });

  // After a refused submit, the keyboard starts at the first field to correct.
  var firstError = document.querySelector(".field-error[role=alert]");
  if (firstError) {
    var owner = document.querySelector('[aria-describedby="' + firstError.id + '"]');
    if (owner && owner.matches("fieldset, [role=radiogroup]")) owner = owner.querySelector("input:not([type=hidden])");
    if (owner) owner.focus();
  }

  syncFromPanel();
})();
