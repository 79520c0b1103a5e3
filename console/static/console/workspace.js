/*
 * The agent's workspace on top of the server-rendered pages: the composer (reply or internal
 * note, a draft per ticket kept in this browser, a character count near the limit, canned replies
 * inserted with "/"), keyboard shortcuts, long messages collapsed, and SLA clocks that tick.
 *
 * Everything here is an aid: with JavaScript off the forms post as they are, and the server
 * checks the limit, the macro and the ticket's state again.
 */
(function () {
  "use strict";

  var stringsNode = document.getElementById("console-strings");
  var strings = stringsNode ? JSON.parse(stringsNode.textContent) : {};
  function t(key, values) {
    var text = strings[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.replace("%(" + name + ")s", values[name]);
    });
    return text;
  }

  function isTyping(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "TEXTAREA" || tag === "INPUT" || tag === "SELECT" || target.isContentEditable;
  }

  /* --- SLA clocks ------------------------------------------------------------------------------ */

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }
  function clock(seconds) {
    seconds = Math.floor(Math.abs(seconds));
    var hours = Math.floor(seconds / 3600);
    var rest = seconds % 3600;
    var text = Math.floor(rest / 60) + ":" + pad(rest % 60);
    return hours ? hours + ":" + pad(Math.floor(rest / 60)) + ":" + pad(rest % 60) : text;
  }
  function tickClocks() {
    var now = Date.now();
    document.querySelectorAll("[data-sla-due]").forEach(function (node) {
      var due = Date.parse(node.getAttribute("data-sla-due"));
      if (isNaN(due)) return;
      var left = (due - now) / 1000;
      node.classList.toggle("is-overdue", left < 0);
      node.textContent = left < 0 ? t("slaOver", { time: clock(left) }) : t("slaLeft", { time: clock(left) });
    });
  }
  tickClocks();
  window.setInterval(tickClocks, 1000);

  /* --- Long messages collapse (re-applied after every live re-read) -------------------------- */

  var expanded = new Set();
  function collapseLong() {
    document.querySelectorAll(".msg-body[data-long]").forEach(function (body) {
      var item = body.closest("[data-message-id]");
      var id = item ? item.getAttribute("data-message-id") : "";
      if (body.nextElementSibling && body.nextElementSibling.classList.contains("msg-toggle")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-quiet btn-small msg-toggle";
      function render() {
        var open = expanded.has(id);
        body.classList.toggle("is-collapsed", !open);
        button.textContent = open ? t("showLess") : t("showAll");
        button.setAttribute("aria-expanded", open ? "true" : "false");
      }
      button.addEventListener("click", function () {
        if (expanded.has(id)) expanded.delete(id);
        else expanded.add(id);
        render();
      });
      body.after(button);
      render();
    });
  }
  collapseLong();
  document.addEventListener("cx:swapped", function () {
    collapseLong();
    tickClocks();
  });

  /* --- Shortcuts dialog ------------------------------------------------------------------------ */

  var dialog = document.getElementById("shortcuts-dialog");
  function openShortcuts() {
    if (dialog && !dialog.open && dialog.showModal) dialog.showModal();
  }
  document.querySelectorAll("[data-open-shortcuts]").forEach(function (button) {
    button.addEventListener("click", openShortcuts);
  });

  var composer = document.getElementById("composer");
  var nextUrl = composer ? composer.getAttribute("data-next-url") : "/console/next/";

  function resolveTicket() {
    var form = document.getElementById("resolve-form");
    if (!form) return;
    var draft = activeField();
    if (draft && draft.value.trim() && !window.confirm(t("unsentDraft"))) return;
    form.requestSubmit();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented) return;
    var code = event.code;
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      if (code === "KeyJ") {
        event.preventDefault();
        window.location.assign(nextUrl);
      } else if (code === "KeyI" && composer) {
        event.preventDefault();
        toggleMode();
      } else if (code === "KeyR" && document.getElementById("resolve-form")) {
        event.preventDefault();
        resolveTicket();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || isTyping(event.target)) return;
    if (event.key === "?") {
      event.preventDefault();
      openShortcuts();
    }
  });

  if (!composer) return;

  /* --- The composer -------------------------------------------------------------------------- */

  var ticketId = composer.getAttribute("data-ticket-id");
  var userId = composer.getAttribute("data-user-id");
  var forms = {};
  composer.querySelectorAll("form[data-mode]").forEach(function (form) {
    forms[form.getAttribute("data-mode")] = form;
  });
  var modeButtons = composer.querySelectorAll(".composer-mode");
  var macrosNode = document.getElementById("composer-macros");
  var macros = macrosNode ? JSON.parse(macrosNode.textContent) : [];
  var menu = document.getElementById("macro-menu");
  var menuState = { form: null, start: 0, items: [], index: 0 };
  var mode = composer.getAttribute("data-mode") || (forms.reply ? "reply" : "note");

  function field(form) {
    return form ? form.querySelector("textarea[name=body]") : null;
  }
  function activeForm() {
    return forms[mode];
  }
  function activeField() {
    return field(activeForm());
  }

  // Drafts: one per user, ticket and mode, in this browser only.
  function draftKey(name) {
    return "cx-draft:" + userId + ":" + ticketId + ":" + name;
  }
  function readDraft(name) {
    try {
      return JSON.parse(window.localStorage.getItem(draftKey(name)) || "null");
    } catch (e) {
      return null;
    }
  }
  function writeDraft(name, form) {
    var text = field(form).value;
    var macroInput = form.querySelector("input[name=macro]");
    try {
      if (text) {
        window.localStorage.setItem(
          draftKey(name),
          JSON.stringify({ text: text, macro: macroInput ? macroInput.value : "", at: Date.now() })
        );
      } else {
        window.localStorage.removeItem(draftKey(name));
      }
    } catch (e) {
      /* Storage full or private mode: the draft lives as long as the page. */
    }
  }

  function setMode(next) {
    if (!forms[next]) return;
    mode = next;
    Object.keys(forms).forEach(function (name) {
      forms[name].hidden = name !== mode;
    });
    modeButtons.forEach(function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-mode") === mode ? "true" : "false");
    });
    composer.classList.toggle("is-note", mode === "note");
    closeMenu();
  }
  function toggleMode() {
    setMode(mode === "reply" ? "note" : "reply");
    var input = activeField();
    if (input) input.focus();
  }
  if (modeButtons.length) {
    composer.querySelector(".composer-modes").hidden = false;
    modeButtons.forEach(function (button) {
      button.addEventListener("click", function () {
        setMode(button.getAttribute("data-mode"));
        activeField().focus();
      });
    });
    setMode(mode);
  }

  function macroById(id) {
    for (var i = 0; i < macros.length; i++) if (String(macros[i].id) === String(id)) return macros[i];
    return null;
  }

  function showMacro(form) {
    var input = form.querySelector("input[name=macro]");
    var chip = form.querySelector(".composer-macro");
    if (!input || !chip) return;
    var macro = input.value ? macroById(input.value) : null;
    chip.hidden = !macro;
    if (!macro) return;
    var then = macro.then === "resolved" ? t("thenResolve") : macro.then === "waiting_on_shopper" ? t("thenWaiting") : "";
    chip.querySelector(".composer-macro-name").textContent =
      t("cannedReply") + ": /" + macro.shortcut + " · " + macro.name + (then ? " — " + then : "");
  }

  function updateCount(form) {
    var input = field(form);
    var counter = form.querySelector(".char-count");
    var limit = parseInt(input.getAttribute("data-max-length"), 10) || 0;
    if (!counter || !limit) return;
    var length = input.value.length;
    var over = length - limit;
    counter.hidden = length < limit * 0.8;
    counter.classList.toggle("is-over", over > 0);
    counter.textContent = length.toLocaleString() + " / " + limit.toLocaleString() + (over > 0 ? " — " + t("overLimit", { count: over.toLocaleString() }) : "");
    input.setAttribute("aria-invalid", over > 0 ? "true" : "false");
  }

  Object.keys(forms).forEach(function (name) {
    var form = forms[name];
    var input = field(form);
    if (!input) return;
    // The server's re-rendered text (a refused send) wins over an older saved draft.
    var saved = readDraft(name);
    if (saved && !input.value) {
      input.value = saved.text;
      var macroInput = form.querySelector("input[name=macro]");
      if (macroInput && saved.macro && macroById(saved.macro)) macroInput.value = saved.macro;
    }
    showMacro(form);
    updateCount(form);
    var timer = null;
    input.addEventListener("input", function () {
      updateCount(form);
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        writeDraft(name, form);
      }, 250);
      openMenuFromText(form);
    });
    var clear = form.querySelector(".composer-macro-clear");
    if (clear) {
      clear.addEventListener("click", function () {
        form.querySelector("input[name=macro]").value = "";
        showMacro(form);
        writeDraft(name, form);
      });
    }
    form.addEventListener("submit", function (event) {
      if (composer.closest(".is-stale")) return; // nothing is sent from a stale tab: keep the draft
      var limit = parseInt(input.getAttribute("data-max-length"), 10) || 0;
      if (limit && input.value.length > limit) {
        // The server would refuse it too; saying so here keeps the text where it is.
        event.preventDefault();
        updateCount(form);
        input.focus();
        return;
      }
      window.clearTimeout(timer);
      form.dataset.sent = "1";
      try {
        window.localStorage.removeItem(draftKey(name));
      } catch (e) {
        /* nothing kept */
      }
    });
    input.addEventListener("keydown", function (event) {
      if (menuOpen() && handleMenuKey(event, form)) event.stopPropagation();
    });
    // Ctrl/Cmd+Enter sends from anywhere in the form (the text, the photo picker, the checkbox).
    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    var picker = form.querySelector(".composer-picker");
    if (picker) {
      picker.addEventListener("click", function () {
        insertAtCaret(input, (input.value && !/\s$/.test(input.value.slice(0, input.selectionStart)) ? " " : "") + "/");
        input.focus();
        openMenuFromText(form);
      });
    }
  });

  // Leaving or reloading the page: keep what was typed in the last moment too.
  window.addEventListener("pagehide", function () {
    if (composer.closest(".is-stale")) return;
    Object.keys(forms).forEach(function (name) {
      if (field(forms[name]) && !forms[name].dataset.sent) writeDraft(name, forms[name]);
    });
  });

  // The "then the next ticket" choice is remembered per browser.
  var nextBox = composer.querySelector("input[name=open_next]");
  if (nextBox) {
    try {
      var remembered = window.localStorage.getItem("cx-open-next");
      if (remembered !== null) nextBox.checked = remembered === "on";
    } catch (e) {
      /* default as rendered */
    }
    nextBox.addEventListener("change", function () {
      try {
        window.localStorage.setItem("cx-open-next", nextBox.checked ? "on" : "off");
      } catch (e) {
        /* this page only */
      }
    });
  }

  /* --- Canned replies: "/" and a filter, Chatwoot style ----------------------------------------- */

  function insertAtCaret(input, text) {
    var start = input.selectionStart;
    var end = input.selectionEnd;
    input.setRangeText(text, start, end, "end");
  }

  // "/" at the start or after a space, then the filter typed so far, right before the caret.
  function slashToken(input) {
    var before = input.value.slice(0, input.selectionStart);
    var match = /(^|\s)\/([^\s\/]*)$/.exec(before);
    if (!match) return null;
    return { start: before.length - match[2].length - 1, filter: match[2].toLowerCase() };
  }

  function menuOpen() {
    return menu && !menu.hidden;
  }
  function closeMenu() {
    if (menu) menu.hidden = true;
    if (menuState.form) field(menuState.form).removeAttribute("aria-activedescendant");
    menuState.form = null;
  }

  function openMenuFromText(form) {
    if (!menu || !macros.length) return;
    var input = field(form);
    var token = slashToken(input);
    if (!token) {
      closeMenu();
      return;
    }
    var items = macros.filter(function (macro) {
      return (
        !token.filter ||
        macro.shortcut.toLowerCase().indexOf(token.filter) !== -1 ||
        macro.name.toLowerCase().indexOf(token.filter) !== -1
      );
    });
    menuState = { form: form, start: token.start, items: items, index: 0 };
    renderMenu();
  }

  function renderMenu() {
    menu.textContent = "";
    if (!menuState.items.length) {
      var none = document.createElement("li");
      none.className = "macro-none";
      none.textContent = t("noMacro");
      menu.appendChild(none);
    }
    menuState.items.forEach(function (macro, index) {
      var item = document.createElement("li");
      item.setAttribute("role", "option");
      item.id = "macro-option-" + macro.id;
      item.className = "macro-option";
      item.setAttribute("aria-selected", index === menuState.index ? "true" : "false");
      var head = document.createElement("span");
      head.className = "macro-head";
      var shortcut = document.createElement("strong");
      shortcut.textContent = "/" + macro.shortcut;
      var name = document.createElement("span");
      name.textContent = " " + macro.name;
      head.appendChild(shortcut);
      head.appendChild(name);
      if (macro.then_label) {
        var then = document.createElement("span");
        then.className = "badge badge-info";
        then.textContent = macro.then_label;
        head.appendChild(document.createTextNode(" "));
        head.appendChild(then);
      }
      var preview = document.createElement("span");
      preview.className = "macro-preview";
      preview.textContent = macro.text.length > 140 ? macro.text.slice(0, 139) + "…" : macro.text;
      item.appendChild(head);
      item.appendChild(preview);
      item.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep the caret in the textarea
        menuState.index = index;
        insertMacro();
      });
      menu.appendChild(item);
    });
    // Above the composer's form, so it never hides what is being typed.
    menu.hidden = false;
    var form = menuState.form;
    if (form) field(form).setAttribute("aria-activedescendant", menuState.items.length ? "macro-option-" + menuState.items[menuState.index].id : "");
  }

  function handleMenuKey(event, form) {
    if (menuState.form !== form) return false;
    var count = menuState.items.length;
    if (event.key === "ArrowDown" && count) {
      menuState.index = (menuState.index + 1) % count;
    } else if (event.key === "ArrowUp" && count) {
      menuState.index = (menuState.index - 1 + count) % count;
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.ctrlKey && !event.metaKey && count) {
      event.preventDefault();
      insertMacro();
      return true;
    } else if (event.key === "Escape") {
      event.preventDefault();
      closeMenu();
      return true;
    } else {
      return false;
    }
    event.preventDefault();
    renderMenu();
    return true;
  }

  function insertMacro() {
    var form = menuState.form;
    var macro = menuState.items[menuState.index];
    if (!form || !macro) return;
    var input = field(form);
    input.setRangeText(macro.text, menuState.start, input.selectionStart, "end");
    var macroInput = form.querySelector("input[name=macro]");
    if (macroInput) macroInput.value = String(macro.id);
    closeMenu();
    showMacro(form);
    updateCount(form);
    writeDraft(form.getAttribute("data-mode"), form);
    input.focus();
  }

  document.addEventListener("click", function (event) {
    if (menuOpen() && !menu.contains(event.target) && !event.target.closest(".composer-picker")) closeMenu();
  });
})();
