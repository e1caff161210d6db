// Bastion console: light progressive enhancement. Every page works without it.
(function () {
  "use strict";

  // SLA countdowns: <span class="sla" data-due="ISO">…</span>
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".sla[data-due]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.due) - now) / 1000);
      var late = left < 0;
      var s = Math.abs(left), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
      var text = (h ? h + "h " : "") + m + "m " + (s % 60) + "s";
      el.textContent = late ? "overdue by " + text : text + " left";
      el.classList.toggle("late", late);
    });
  }
  tick();
  setInterval(tick, 1000);

  // Confirm before promote / rollback / revoke: <form data-confirm="…">
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.dataset && ev.target.dataset.confirm;
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });

  // Review shortcuts: a approve, c correct, r reject, e escalate, n claim next, / search.
  var keys = { a: "approve", c: "correct", r: "reject", e: "escalate", n: "claim-next" };
  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target.tagName || "").toLowerCase();
    if (ev.ctrlKey || ev.metaKey || ev.altKey || tag === "input" || tag === "textarea" || tag === "select") return;
    if (ev.key === "/") {
      var search = document.querySelector("[data-search]");
      if (search) { ev.preventDefault(); search.focus(); }
      return;
    }
    var name = keys[ev.key];
    if (!name) return;
    var target = document.querySelector('[data-shortcut="' + name + '"]');
    if (!target) return;
    ev.preventDefault();
    if (target.tagName.toLowerCase() === "button") {
      var field = target.form && target.form.querySelector("[data-focus-first]");
      if (field && !field.value) { field.focus(); return; }
      target.click();
    } else {
      target.focus();
    }
  });
})();
