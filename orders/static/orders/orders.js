/*
 * The ticket page's orders panel: its content is fetched after the page has loaded, so an order
 * system that is slow or down never holds the page. The server answers "orders unavailable"
 * itself when the order system fails; this script says the same when the fragment cannot be
 * fetched at all (network, a server error, or no answer in time).
 */
(function () {
  "use strict";

  var TIMEOUT_MS = 10000;
  var panel = document.getElementById("ticket-orders");
  if (!panel) return;
  var body = panel.querySelector(".orders-body");
  var url = panel.getAttribute("data-orders-url");

  function unavailable() {
    body.textContent = "";
    var box = document.createElement("div");
    box.className = "orders-unavailable";
    box.setAttribute("role", "status");
    var text = document.createElement("p");
    text.className = "flash flash-warning";
    text.textContent = panel.getAttribute("data-unavailable-text");
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "btn";
    retry.setAttribute("data-orders-retry", "");
    retry.textContent = panel.getAttribute("data-retry-text");
    box.appendChild(text);
    box.appendChild(retry);
    body.appendChild(box);
  }

  function load() {
    panel.setAttribute("aria-busy", "true");
    var controller = "AbortController" in window ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "X-Requested-With": "fetch" },
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        body.innerHTML = html; // server-rendered; the template escapes every value
      })
      .catch(unavailable)
      .finally(function () {
        if (timer) window.clearTimeout(timer);
        panel.setAttribute("aria-busy", "false");
      });
  }

  panel.addEventListener("click", function (event) {
    if (event.target.closest("[data-orders-retry]")) {
      body.innerHTML = "";
      var loading = document.createElement("p");
      loading.className = "orders-loading muted";
      loading.textContent = "…";
      body.appendChild(loading);
      load();
    }
  });

  load();
})();
