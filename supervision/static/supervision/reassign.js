/*
 * The reassign page: warn, before sending, when the chosen agent does not speak the ticket's
 * language or cannot take it now (the server refuses both unless Override is ticked).
 */
(function () {
  "use strict";
  var form = document.getElementById("reassign-form");
  if (!form) return;
  var strings = JSON.parse(document.getElementById("reassign-strings").textContent);
  var languageWarning = document.getElementById("language-warning");
  var availabilityWarning = document.getElementById("availability-warning");

  function fill(text, values) {
    Object.keys(values).forEach(function (name) {
      text = text.replace("%(" + name + ")s", values[name]);
    });
    return text;
  }

  function chosen(name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.closest("label") : null;
  }

  function check() {
    var ticket = chosen("ticket");
    var agent = chosen("agent");
    languageWarning.hidden = true;
    availabilityWarning.hidden = true;
    if (!agent) return;
    if (ticket) {
      var speaks = (agent.getAttribute("data-languages") || "").split(" ");
      if (speaks.indexOf(ticket.getAttribute("data-language")) === -1) {
        languageWarning.textContent = fill(strings.language, {
          agent: agent.getAttribute("data-name"),
          language: ticket.getAttribute("data-language-name"),
        });
        languageWarning.hidden = false;
      }
    }
    var status = agent.getAttribute("data-status");
    if (status !== "online" || agent.getAttribute("data-full")) {
      availabilityWarning.textContent = fill(status !== "online" ? strings.away : strings.full, {
        agent: agent.getAttribute("data-name"),
      });
      availabilityWarning.hidden = false;
    }
  }

  form.addEventListener("change", function (event) {
    // An agent or a queue: choosing one clears the other.
    if (event.target.name === "agent") form.querySelector('select[name="queue"]').value = "";
    if (event.target.name === "queue" && event.target.value) {
      var agent = form.querySelector('input[name="agent"]:checked');
      if (agent) agent.checked = false;
    }
    if (event.target.name === "ticket_other" && event.target.value) {
      var ticket = form.querySelector('input[name="ticket"]:checked');
      if (ticket) ticket.checked = false;
    }
    if (event.target.name === "ticket") form.querySelector('input[name="ticket_other"]').value = "";
    check();
  });
  check();
  var errors = document.getElementById("reassign-errors");
  if (errors) errors.focus();
})();
