/*
 * Supervisors' dashboard: the console's live mechanism (console.js), throttled.
 *
 * A websocket brings hints ("ticket 12 changed"); a hint is never state: the page re-reads its
 * server-rendered fragment and swaps every [data-live-part] whose markup changed. Supervisors hear
 * about every ticket, so hints are throttled: at most one re-read per second however many arrive,
 * plus one trailing re-read after the server's health cache has expired, so the last change is
 * always shown. Also re-read on (re)connect and every 5 s.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-dashboard-live-url]");
  if (!root) return;
  var liveUrl = root.getAttribute("data-dashboard-live-url");
  var wsPath = root.getAttribute("data-ws-path");
  var cacheMs = (parseFloat(root.getAttribute("data-cache-seconds")) || 2) * 1000;
  var POLL_MS = 5000;
  var MIN_INTERVAL_MS = 1000;
  var MAX_BACKOFF_MS = 15000;
  var indicator = document.getElementById("live-indicator");
  var stringsNode = document.getElementById("console-strings");
  var strings = stringsNode ? JSON.parse(stringsNode.textContent) : {};

  function setState(state) {
    if (!indicator) return;
    indicator.setAttribute("data-state", state);
    indicator.textContent = strings[state] || state;
  }

  function signature(node) {
    var copy = node.cloneNode(true);
    copy.querySelectorAll('input[name="csrfmiddlewaretoken"]').forEach(function (input) {
      input.removeAttribute("value");
    });
    return copy.outerHTML;
  }

  var lastMarkup = new Map();
  document.querySelectorAll("[data-live-part]").forEach(function (node) {
    lastMarkup.set(node.id, signature(node));
  });

  function swapParts(html) {
    var incoming = new DOMParser().parseFromString(html, "text/html");
    incoming.querySelectorAll("[data-live-part]").forEach(function (part) {
      var current = document.getElementById(part.id);
      if (!current) return;
      var markup = signature(part);
      if (lastMarkup.get(part.id) === markup) return;
      // A supervisor choosing a status in the agent board: keep their half-made choice.
      if (current.contains(document.activeElement) && document.activeElement.tagName === "SELECT") return;
      lastMarkup.set(part.id, markup);
      current.replaceWith(document.importNode(part, true));
    });
  }

  var inFlight = false;
  var again = false;
  var lastStarted = 0;

  function refresh() {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    lastStarted = Date.now();
    fetch(liveUrl, { credentials: "same-origin", cache: "no-store", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (response.redirected && response.url.indexOf("/accounts/login/") !== -1) {
          window.location.reload();
          return;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text().then(swapParts);
      })
      .catch(function () {
        setState(socketOpen ? "live" : "offline");
      })
      .finally(function () {
        inFlight = false;
        if (again) {
          again = false;
          scheduleRefresh();
        }
      });
  }

  var throttleTimer = null;
  var trailingTimer = null;

  function scheduleRefresh() {
    if (!throttleTimer) {
      var wait = Math.max(0, lastStarted + MIN_INTERVAL_MS - Date.now());
      throttleTimer = window.setTimeout(function () {
        throttleTimer = null;
        refresh();
      }, wait);
    }
    // The server caches the health figures for a moment: read once more after it expired.
    if (trailingTimer) window.clearTimeout(trailingTimer);
    trailingTimer = window.setTimeout(function () {
      trailingTimer = null;
      refresh();
    }, cacheMs + 300);
  }

  var socketOpen = false;
  var attempts = 0;
  var closedForGood = false;

  function connect() {
    if (!wsPath || !("WebSocket" in window)) {
      setState("offline");
      return;
    }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try {
      socket = new WebSocket(scheme + window.location.host + wsPath);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    socket.addEventListener("open", function () {
      socketOpen = true;
      attempts = 0;
      setState("live");
      scheduleRefresh();
    });
    socket.addEventListener("message", scheduleRefresh);
    socket.addEventListener("close", function (event) {
      socketOpen = false;
      if (event.code === 4401 || event.code === 4403) {
        closedForGood = true;
        setState("offline");
        refresh();
        return;
      }
      setState("reconnecting");
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    if (closedForGood) return;
    var delay = Math.min(MAX_BACKOFF_MS, 500 * Math.pow(2, attempts));
    attempts += 1;
    window.setTimeout(connect, delay * (0.75 + Math.random() * 0.5));
  }

  connect();
  window.setInterval(refresh, POLL_MS);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") refresh();
  });
})();
