// Small progressive enhancements: confirm before destructive plain forms, copy a secret, tick
// every box of a list. Behaviour lives here, bound by data attributes: the Content-Security-Policy
// runs no inline handler (onclick=, onsubmit=) and no inline <script>.
(function () {
  document.addEventListener("submit", function (ev) {
    const form = ev.target;
    const question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) ev.preventDefault();
  });
  // <input type="checkbox" data-select-all="lead_ids">: (un)ticks every checkbox named lead_ids in
  // its form. Delegated from the document, so it also works in rows htmx swapped in.
  document.addEventListener("change", function (ev) {
    const name = ev.target.getAttribute && ev.target.getAttribute("data-select-all");
    if (!name) return;
    const scope = ev.target.form || document;
    scope.querySelectorAll('input[type="checkbox"]').forEach(function (box) {
      if (box.name === name) box.checked = ev.target.checked;
    });
  });
  document.addEventListener("click", function (ev) {
    const selector = ev.target.getAttribute && ev.target.getAttribute("data-copy");
    if (!selector) return;
    const el = document.querySelector(selector);
    if (!el || !navigator.clipboard) return;
    navigator.clipboard.writeText(el.textContent.trim()).then(function () {
      // The page says it in its language (data-copied, from {% translate %}).
      ev.target.textContent = ev.target.getAttribute("data-copied") || "Copied";
    });
  });
})();

// The dashboard's menu on a small screen (below 800 px the CSS folds it behind .menu-toggle): the
// button opens and closes it and says so in aria-expanded; Escape closes it and returns focus.
(function () {
  function setOpen(button, open) {
    const sidebar = button.closest(".sidebar");
    sidebar.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  document.addEventListener("click", function (ev) {
    const button = ev.target.closest && ev.target.closest(".menu-toggle");
    if (!button) return;
    setOpen(button, button.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") return;
    const button = document.querySelector(".menu-toggle[aria-expanded=true]");
    if (!button) return;
    setOpen(button, false);
    button.focus();
  });
})();

// A table wider than the screen scrolls in its .table-scroll box; a keyboard user must be able to
// reach it to scroll it, so a box that overflows becomes focusable (WCAG 2.1.1).
(function () {
  function mark() {
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1) {
        if (!box.hasAttribute("tabindex")) box.setAttribute("tabindex", "0");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", mark);
  window.addEventListener("resize", mark);
  document.addEventListener("htmx:afterSettle", mark);
})();
