/*
 * CX Console live updates.
 *
 * The server renders everything. A websocket brings hints ("ticket 12 changed"); a hint is never
 * trusted as state: the page re-reads its live fragment (server-rendered HTML) and swaps in every
 * [data-live-part] whose markup changed. It re-reads on connect, on every reconnect, on every
 * hint, and polls: every 30-60 s (spread per page) while the socket is open, as a safety net for
 * a hint lost in transit (skipping what a hint had re-read within 30 s, and the waiting line read
 * within 3 min), and every 5 s while it is closed or reconnecting. A lost hint or a
 * restarted Redis therefore never leaves the screen wrong for long, and a thousand open consoles
 * do not cost the server a re-read each every few seconds.
 *
 * Each hint names its scope: "own" (the user's own work) is re-read at once; "queue" and
 * "supervisors" (changes many pages hear about together) at most once per data-shared-hint-ms,
 * drawn x1-1.5 per page so the agents of a busy queue do not all re-read on the same beat. Any
 * re-read that starts after such a hint shows it, so the pending one is dropped then. A page with
 * data-shared-live-url (the inbox) re-reads that URL for those and data-live-url for its own.
 *
 * A page that hears about every ticket (the supervisors' dashboard) sets data-min-interval-ms: at
 * most one re-read per interval however many hints arrive. data-trailing-ms adds one more re-read
 * that long after the last hint (the dashboard's figures are cached on the server for a moment,
 * so the last change is always shown).
 */
(function () {
  "use strict";

  // Polls while the socket is closed or reconnecting; while it is open, a safety poll at a time
  // drawn between the two bounds below, anew each time, so pages opened together drift apart.
  var POLL_MS = 5000;
  var SAFETY_POLL_MIN_MS = 30000;
  var SAFETY_POLL_MAX_MS = 60000;
  // A page's shared URL (the inbox's waiting line) changes with every ticket of its queues, so a
  // safety poll of it is nearly always a full read, on every agent's page: the poll reads it only
  // when nothing re-read it for this long (its hints say which tickets came and went meanwhile).
  var SHARED_SAFETY_POLL_MS = 180000;
  // Presence heartbeat; the server's PRESENCE_AWAY_SECONDS (at least 30) must exceed it.
  var HEARTBEAT_MS = 20000;
  var HINT_DEBOUNCE_MS = 80;
  var MAX_BACKOFF_MS = 15000;
  var SOUND_KEY = "cx-console-sound";

  var root = document.querySelector("[data-live-url]");
  var stringsNode = document.getElementById("console-strings");
  var strings = stringsNode ? JSON.parse(stringsNode.textContent) : {};

  function t(key, values) {
    var text = strings[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.replace("%(" + name + ")s", values[name]);
    });
    return text;
  }

  /* --- Sound: off by default, remembered per browser ------------------------------------------ */

  var soundButton = document.getElementById("sound-toggle");
  var audio = null;
  var soundOn = false;
  try {
    soundOn = window.localStorage.getItem(SOUND_KEY) === "on";
  } catch (e) {
    soundOn = false;
  }

  function renderSoundButton() {
    if (!soundButton) return;
    soundButton.hidden = false;
    soundButton.setAttribute("aria-pressed", soundOn ? "true" : "false");
    soundButton.textContent = soundOn ? t("soundOn") : t("soundOff");
  }

  function beep() {
    if (!soundOn) return;
    try {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      audio = audio || new Context();
      if (audio.state === "suspended") audio.resume();
      var now = audio.currentTime;
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.type = "sine";
      oscillator.frequency.setValueAtTime(880, now);
      oscillator.frequency.setValueAtTime(1175, now + 0.12);
      gain.gain.setValueAtTime(0.0001, now);
      gain.gain.exponentialRampToValueAtTime(0.25, now + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.3);
      oscillator.connect(gain);
      gain.connect(audio.destination);
      oscillator.start(now);
      oscillator.stop(now + 0.32);
    } catch (e) {
      /* No audio device: the visible cue is enough. */
    }
  }

  if (soundButton) {
    renderSoundButton();
    soundButton.addEventListener("click", function () {
      soundOn = !soundOn;
      try {
        window.localStorage.setItem(SOUND_KEY, soundOn ? "on" : "off");
      } catch (e) {
        /* Private mode: the choice lasts for this page only. */
      }
      renderSoundButton();
      beep(); // the click unlocks audio and lets the agent hear what the cue sounds like
    });
  }

  /* --- Offers: a countdown per offer, and the tab's title says one is waiting ------------------- */

  var baseTitle = document.title;
  // Deadlines are the server's; the agent's clock may be off, so measure by how far it is off.
  var serverNow = parseInt(document.body.getAttribute("data-server-now"), 10);
  var clockOffsetMs = serverNow ? serverNow * 1000 - Date.now() : 0;

  function tickOffers() {
    var offers = document.querySelectorAll("time[data-offer-expires]");
    offers.forEach(function (node) {
      var deadline = parseInt(node.getAttribute("data-offer-expires"), 10) * 1000;
      var seconds = Math.max(0, Math.ceil((deadline - (Date.now() + clockOffsetMs)) / 1000));
      node.textContent = t("seconds", { seconds: seconds });
      var card = node.closest(".offer");
      if (card) card.classList.toggle("offer-urgent", seconds <= 5);
      var until = card && card.querySelector(".offer-until");
      if (until) until.hidden = true; // the countdown says it; "accept by" is for pages without JS
    });
    offersWaiting = offers.length;
    showTitle();
  }

  // The tab's title: the offers waiting for an answer first, else the inbox's waiting line (a
  // cue in another tab). One writer, or the offers' 1 s tick would wipe the line's count.
  var offersWaiting = 0;
  function showTitle() {
    var section = document.getElementById("waiting-tickets");
    var waiting = section ? parseInt(section.getAttribute("data-waiting-count"), 10) || 0 : 0;
    if (offersWaiting) document.title = "(" + offersWaiting + ") " + t("offerTitle") + " · " + baseTitle;
    else document.title = waiting ? "(" + waiting + ") " + baseTitle : baseTitle;
  }
  tickOffers();
  window.setInterval(tickOffers, 1000);

  // How long each ticket has waited, in the server's words (console_strings): the clocks move
  // without a re-read, so a fragment is re-rendered only when what it shows changed.
  function tickWaited() {
    var now = Date.now() + clockOffsetMs;
    document.querySelectorAll("time[data-waited-since]").forEach(function (node) {
      var minutes = Math.floor((now / 1000 - parseInt(node.getAttribute("data-waited-since"), 10)) / 60);
      if (isNaN(minutes)) return;
      var hours = Math.floor(minutes / 60);
      var days = Math.floor(minutes / 1440);
      var text;
      if (minutes < 1) text = t("waitedUnderMinute");
      else if (days) text = t("waitedDays", { days: days, hours: hours % 24 });
      else if (hours) text = t("waitedHours", { hours: hours, minutes: minutes % 60 });
      else text = t("waitedMinutes", { minutes: minutes });
      node.textContent = node.hasAttribute("data-waited-ago") ? t("waitedAgo", { ago: text }) : text;
    });
  }
  window.setInterval(tickWaited, 15000);

  var indicator = document.getElementById("live-indicator");
  if (!root) {
    // Forms and the login page have no live content: no "connecting..." that never ends.
    if (indicator) indicator.hidden = true;
    return;
  }

  var liveUrl = root.getAttribute("data-live-url");
  var wsPath = root.getAttribute("data-ws-path");
  var minIntervalMs = parseInt(root.getAttribute("data-min-interval-ms"), 10) || 0;
  var trailingMs = parseInt(root.getAttribute("data-trailing-ms"), 10) || 0;
  var sharedHintMs = (parseInt(root.getAttribute("data-shared-hint-ms"), 10) || 0) * (1 + Math.random() * 0.5);
  var announcer = document.getElementById("live-announcer");

  /* --- Cues: what is new since the last look ---------------------------------------------------- */

  var seen = new Set();
  document.querySelectorAll("[data-cue]").forEach(function (node) {
    seen.add(node.getAttribute("data-cue"));
  });

  function announce(text) {
    if (!announcer) return;
    var toast = document.createElement("p");
    toast.className = "toast";
    toast.textContent = text;
    announcer.appendChild(toast);
    window.setTimeout(function () {
      toast.remove();
    }, 6000);
  }

  var CUE_MS = 4000;
  var cuedAt = new Map(); // key -> when it arrived, so a re-rendered row keeps its cue

  function cueNewItems() {
    var fresh = [];
    var now = Date.now();
    document.querySelectorAll("[data-cue]").forEach(function (node) {
      var key = node.getAttribute("data-cue");
      if (seen.has(key)) {
        if (now - (cuedAt.get(key) || 0) < CUE_MS) node.classList.add("is-new");
        return;
      }
      seen.add(key);
      cuedAt.set(key, now);
      node.classList.add("is-new");
      fresh.push(key);
    });
    fresh.forEach(function (key) {
      var parts = key.split("-");
      if (parts[0] === "ticket") announce(t("newTicket", { id: parts[1] }));
      if (parts[0] === "message") announce(t("newMessage"));
      if (parts[0] === "waiting") announce(t("newWaiting", { id: parts[1] }));
      if (parts[0] === "offer") announce(t("newOffer"));
    });
    tickOffers(); // and the title
    if (fresh.length) beep();
  }


  /* --- Re-reading the server's HTML --------------------------------------------------------------- */

  // A part's markup without its CSRF tokens (masked afresh on every render, so never "a change")
  // and without what this script writes into it.
  function signature(node) {
    var copy = node.cloneNode(true);
    copy.querySelectorAll('input[name="csrfmiddlewaretoken"]').forEach(function (input) {
      input.removeAttribute("value");
    });
    // SLA clocks tick in the page (workspace.js): a later second is not a change either.
    copy.querySelectorAll("[data-sla-due]").forEach(function (clock) {
      clock.textContent = "";
      clock.classList.remove("is-overdue");
    });
    // Nor the offer countdown this script keeps ticking (the deadline attribute is what counts).
    copy.querySelectorAll("time[data-offer-expires]").forEach(function (node) {
      node.textContent = "";
    });
    copy.querySelectorAll(".offer-until").forEach(function (node) {
      node.removeAttribute("hidden");
    });
    return copy.outerHTML;
  }

  var lastMarkup = new Map();
  document.querySelectorAll("[data-live-part]").forEach(function (node) {
    lastMarkup.set(node.id, signature(node));
  });

  function focusKey(element) {
    if (!element || element === document.body) return null;
    if (element.id) return "#" + CSS.escape(element.id);
    if (element.name) {
      return element.tagName.toLowerCase() + '[name="' + CSS.escape(element.name) + '"][value="' + CSS.escape(element.value || "") + '"]';
    }
    if (element.getAttribute("href")) return 'a[href="' + CSS.escape(element.getAttribute("href")) + '"]';
    return null;
  }

  function swapParts(html) {
    var incoming = new DOMParser().parseFromString(html, "text/html");
    var complete = true;
    incoming.querySelectorAll("[data-live-part]").forEach(function (part) {
      var current = document.getElementById(part.id);
      if (!current) return;
      var markup = signature(part);
      if (lastMarkup.get(part.id) === markup) return; // unchanged: keep focus, selection, cues
      var active = document.activeElement;
      // Someone choosing in a drop-down here: keep their half-made choice (the next read swaps it).
      if (current.contains(active) && active.tagName === "SELECT") {
        complete = false;
        return;
      }
      lastMarkup.set(part.id, markup);
      var key = current.contains(active) ? focusKey(active) : null;
      var replacement = document.importNode(part, true);
      current.replaceWith(replacement);
      if (key) {
        var again = replacement.querySelector(key);
        if (again) again.focus({ preventScroll: true });
      }
    });
    cueNewItems();
    document.dispatchEvent(new CustomEvent("cx:swapped"));
    return complete;
  }

  /* --- A ticket that left this agent: the page turns read-only, the draft stays to copy -------- */

  function lockStaleTicket() {
    var layout = document.querySelector(".ticket-layout");
    if (!layout) return;
    layout.classList.add("is-stale");
    Array.prototype.forEach.call(layout.querySelectorAll("form"), function (form) {
      Array.prototype.forEach.call(form.elements, function (field) {
        if (field.tagName === "TEXTAREA") field.readOnly = true; // kept: selectable and copyable
        else if (field.type !== "hidden") field.disabled = true;
      });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
      });
    });
    var kept = document.getElementById("ticket-gone-draft");
    if (kept) kept.hidden = false;
  }

  var gone = false;
  var lastStarted = 0;

  /* A reader re-reads one live URL: its own ETag (sent back as If-None-Match, the server answers
   * 304 and the DOM is kept while nothing it shows has changed), one request in flight at a time,
   * and one more queued behind it. The inbox has two: its own parts (data-live-url) and the parts
   * a queue's changes touch (data-shared-live-url), so a busy queue never re-reads an agent's own
   * tickets and an own change never re-reads the waiting line. */
  function reader(url, isMain) {
    var etag = null;
    var inFlight = false;
    var queued = false;
    function read() {
      if (gone) return;
      if (inFlight) {
        queued = true;
        return;
      }
      inFlight = true;
      read.startedAt = Date.now();
      if (isMain) lastStarted = read.startedAt;
      // The shared read leaves the panels out when only tickets joined and left the line since the
      // last one (lineOnly, set by sharedDue); any other read takes everything.
      var target = url;
      if (!isMain && sharedUrl && lineOnly && !lineReread) {
        target = url + (url.indexOf("?") < 0 ? "?" : "&") + "panels=0";
      }
      if (!isMain) lineOnly = false;
      if (!isMain || !sharedUrl) {
        // Versions are bumped before hints are sent: this read shows every shared change hinted so far.
        sharedStarted = Date.now();
        forgetLine();
        if (sharedTimer) {
          window.clearTimeout(sharedTimer);
          sharedTimer = null;
        }
      }
      var headers = { "X-Requested-With": "fetch" };
      if (etag) headers["If-None-Match"] = etag;
      fetch(target, { credentials: "same-origin", cache: "no-store", headers: headers })
        .then(function (response) {
          if (response.status === 304) return; // unchanged: the screen already shows it
          if (response.redirected && response.url.indexOf("/accounts/login/") !== -1) {
            window.location.reload(); // signed out: the page itself goes to the login form
            return;
          }
          if (response.status === 404 && isMain) {
            gone = true;
            var notice = document.getElementById("ticket-gone");
            if (notice) notice.hidden = false;
            lockStaleTicket();
            return;
          }
          if (!response.ok) throw new Error("HTTP " + response.status);
          var next = response.headers.get("ETag");
          return response.text().then(function (html) {
            // A part left alone (a half-made choice) must be read in full again next time.
            etag = swapParts(html) ? next : null;
          });
        })
        .catch(function () {
          setState(socketOpen ? "live" : "offline");
        })
        .finally(function () {
          inFlight = false;
          if (queued) {
            queued = false;
            if (isMain && minIntervalMs) refreshSoon();
            else read();
          }
        });
    }
    read.startedAt = 0;
    return read;
  }

  var sharedUrl = root.getAttribute("data-shared-live-url");
  var sharedStarted = 0;
  var lineOnly = false;
  var refreshOwn = reader(liveUrl, true);
  var refreshShared = sharedUrl ? reader(sharedUrl, false) : refreshOwn;

  // Everything the page shows: on (re)connect, when the tab comes back; on the safety poll only
  // what no hint had it re-read within the poll's shortest interval (olderThanMs).
  function refresh(olderThanMs) {
    var now = Date.now();
    lineOnly = false;
    [refreshOwn, refreshShared].forEach(function (read, index) {
      if (index && read === refreshOwn) return;
      var older = olderThanMs && index ? Math.max(olderThanMs, SHARED_SAFETY_POLL_MS) : olderThanMs;
      if (older && now - read.startedAt < older) return;
      read();
    });
  }

  var hintTimer = null;
  var trailingTimer = null;
  var sharedTimer = null;

  function onHint(hint) {
    var scope = hint ? hint.scope : null;
    if (sharedHintMs && (scope === "queue" || scope === "supervisors")) {
      armTrailing();
      noteLine(hint);
      if (sharedTimer) return;
      sharedTimer = window.setTimeout(sharedDue, Math.max(HINT_DEBOUNCE_MS, sharedStarted + sharedHintMs - Date.now()));
      return;
    }
    refreshSoon();
  }

  function sharedDue() {
    sharedTimer = null;
    var wait = sharedUrl ? lineWait() : 0;
    if (wait === 0) {
      lineOnly = !lineReread;
      refreshShared();
    }
    else if (wait > 0) sharedTimer = window.setTimeout(sharedDue, wait); // a ticket may be assigned meanwhile
    else forgetLine(); // every ticket hinted about came and went unseen: nothing to show
  }

  /* What the queue hints since the last shared read said about the waiting line (console.push's
   * line_state): each ticket still waiting or gone, as of its latest change (hints from several
   * server processes may arrive out of order). A ticket that left and is not on screen needs no
   * read; one that waits is shown once it has waited data-line-grace-ms since we heard of it
   * (routing usually assigns it before, and its "left" then cancels the read). */
  var lineGraceMs = parseInt(root.getAttribute("data-line-grace-ms"), 10) || 0;
  var lineTickets = new Map(); // ticket id -> {waiting, at: when it changed (server ms), heard: local ms}
  var lineReread = false;
  // Tickets heard leaving the line, kept past forgetLine for LEFT_KEPT_MS: a "waiting" hint about
  // one of them from before it left (another server process's, heard late) is old news, not a
  // ticket to wait for and read.
  var LEFT_KEPT_MS = 60000;
  var lineLeft = new Map(); // ticket id -> {at, heard}

  function noteLine(hint) {
    if (hint.scope !== "queue" || hint.reread || !Array.isArray(hint.queued) || !Array.isArray(hint.left)) {
      lineReread = true; // the supervisors' changes, another kind of change: always read
      return;
    }
    hint.queued.forEach(function (pair) {
      noteTicket(pair[0], true, pair[1]);
    });
    hint.left.forEach(function (pair) {
      noteTicket(pair[0], false, pair[1]);
    });
  }

  function noteTicket(id, waiting, at) {
    var known = lineTickets.get(id);
    if (known && known.at > at) return; // an earlier change, heard late
    var gone = lineLeft.get(id);
    if (waiting && gone && gone.at > at) return; // the same, after the line was forgotten
    var heard = known && known.waiting && waiting ? known.heard : Date.now();
    lineTickets.set(id, { waiting: waiting, at: at, heard: heard });
    if (!waiting) lineLeft.set(id, { at: at, heard: heard });
  }

  // 0: read now; more: look again in that many ms; -1: nothing to read.
  function lineWait() {
    if (lineReread) return 0;
    var shown = new Set();
    document.querySelectorAll("#waiting-tickets tr[data-ticket-id]").forEach(function (row) {
      shown.add(parseInt(row.getAttribute("data-ticket-id"), 10));
    });
    var now = Date.now();
    var wait = -1;
    lineTickets.forEach(function (entry, id) {
      if (wait === 0) return;
      if (shown.has(id)) {
        wait = 0;
      } else if (entry.waiting) {
        var left = entry.heard + lineGraceMs - now;
        wait = left <= 0 ? 0 : wait < 0 ? left : Math.min(wait, left);
      }
    });
    return wait;
  }

  function forgetLine() {
    lineTickets.clear();
    lineReread = false;
    var now = Date.now();
    lineLeft.forEach(function (entry, id) {
      if (now - entry.heard > LEFT_KEPT_MS) lineLeft.delete(id);
    });
  }

  function armTrailing() {
    if (!trailingMs) return;
    if (trailingTimer) window.clearTimeout(trailingTimer);
    trailingTimer = window.setTimeout(function () {
      trailingTimer = null;
      refresh();
    }, trailingMs);
  }

  function refreshSoon() {
    armTrailing();
    if (hintTimer) return;
    var wait = Math.max(HINT_DEBOUNCE_MS, lastStarted + minIntervalMs - Date.now());
    hintTimer = window.setTimeout(function () {
      hintTimer = null;
      refreshOwn();
    }, wait);
  }

  /* --- The websocket: hints, reconnect with backoff ----------------------------------------------- */

  var socketOpen = false;
  var attempts = 0;
  var closedForGood = false;

  function setState(state) {
    if (!indicator) return;
    indicator.setAttribute("data-state", state);
    indicator.textContent = t(state);
  }

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
      refresh(); // anything that changed while we were away
      schedulePoll();
    });
    // Presence: the server sets an agent Away when no console of theirs has spoken for a while.
    var heartbeat = window.setInterval(function () {
      if (socket.readyState === 1) socket.send(JSON.stringify({ type: "heartbeat" }));
    }, HEARTBEAT_MS);
    socket.addEventListener("message", function (event) {
      var hint = null;
      try {
        hint = JSON.parse(event.data);
      } catch (e) {
        hint = null; // not ours to judge: re-read at once
      }
      onHint(hint);
    });
    socket.addEventListener("close", function (event) {
      window.clearInterval(heartbeat);
      socketOpen = false;
      schedulePoll(); // hints no longer arrive: poll every few seconds until it reconnects
      if (event.code === 4401 || event.code === 4403) {
        closedForGood = true; // signed out or not an agent: the next fetch says where to go
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
    delay = delay * (0.75 + Math.random() * 0.5); // spread reconnects after a server restart
    window.setTimeout(connect, delay);
  }

  var pollTimer = null;
  function schedulePoll() {
    if (pollTimer) window.clearTimeout(pollTimer);
    var wait = socketOpen ? SAFETY_POLL_MIN_MS + Math.random() * (SAFETY_POLL_MAX_MS - SAFETY_POLL_MIN_MS) : POLL_MS;
    pollTimer = window.setTimeout(function () {
      pollTimer = null;
      refresh(socketOpen ? SAFETY_POLL_MIN_MS : 0);
      schedulePoll();
    }, wait);
  }

  schedulePoll();
  connect();
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") refresh();
  });
  window.addEventListener("online", function () {
    refresh();
  });
  // Back or forward onto a page kept in the browser's memory: what it shows may be old.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) refresh();
  });
})();
