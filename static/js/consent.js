// Cookie consent (privacy/consent.py has the contract). The server writes the choice: the banner
// POSTs it to /privacy/consent/, which records the proof and sets the lp_consent cookie
// ("<version>|<unix time>|<cat>+<cat>"). This script only reads that cookie: it shows the banner
// when there is no choice under the current policy version, and runs the scripts of the allowed
// categories, which templates mark as <script type="text/plain" data-consent-category="…" src="…">
// so the browser does not run them before.
(function () {
  "use strict";
  const NAME = "lp_consent";

  function readChoice(version) {
    const m = document.cookie.match(/(?:^|; )lp_consent=([^;]*)/);
    if (!m) return null;
    const parts = decodeURIComponent(m[1]).replace(/^"|"$/g, "").split("|");
    if (parts.length !== 3 || parts[0] !== version) return null;
    const givenAt = parseInt(parts[1], 10) * 1000;
    if (!givenAt || Date.now() - givenAt > 365 * 24 * 3600 * 1000) return null;
    return parts[2].split("+").filter(Boolean);
  }

  function writeProvisional(version, action, form) {
    let cats = ["necessary"];
    if (action === "all") {
      form.querySelectorAll('input[name="category"]').forEach(function (box) {
        if (cats.indexOf(box.value) === -1) cats.push(box.value);
      });
    } else if (action === "selected") {
      form.querySelectorAll('input[name="category"]:checked').forEach(function (box) {
        if (cats.indexOf(box.value) === -1) cats.push(box.value);
      });
    }
    const value = version + "|" + Math.floor(Date.now() / 1000) + "|" + cats.join("+");
    const secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = NAME + "=" + value + "; Max-Age=31536000; Path=/; SameSite=Lax" + secure;
  }

  function runAllowedScripts(allowed) {
    document.querySelectorAll('script[type="text/plain"][data-consent-category]').forEach(function (el) {
      if (el.dataset.consentRan || allowed.indexOf(el.dataset.consentCategory) === -1) return;
      el.dataset.consentRan = "1";
      const script = document.createElement("script");
      script.src = el.getAttribute("src");
      script.dataset.consentCategory = el.dataset.consentCategory;
      el.after(script);
    });
  }

  function tick(forms, allowed) {
    forms.forEach(function (form) {
      form.querySelectorAll('input[name="category"]').forEach(function (box) {
        if (!box.disabled) box.checked = allowed.indexOf(box.value) !== -1;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const banner = document.getElementById("cookie-consent");
    if (!banner) return;
    const version = banner.dataset.policyVersion;
    const forms = Array.prototype.slice.call(document.querySelectorAll("form.cookie-choices"));
    let allowed = readChoice(version);
    if (allowed === null) {
      banner.hidden = false;
    } else {
      tick(forms, allowed);
      runAllowedScripts(allowed);
    }

    document.addEventListener("click", function (ev) {
      const opener = ev.target.closest && ev.target.closest("[data-consent-open]");
      if (!opener) return;
      ev.preventDefault();
      tick(forms, allowed || []);
      banner.hidden = false;
      const details = banner.querySelector("details");
      if (details) details.open = true;
      const first = banner.querySelector("button, input:not([disabled])");
      if (first) first.focus();
    });

    forms.forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        const button = ev.submitter;
        if (!button || !window.fetch) return; // the plain form post works without this script
        ev.preventDefault();
        banner.hidden = true; // at once: the choice is made, the request records it
        const data = new FormData(form);
        data.set("choice", button.value);
        // The same cookie the server answers with, now: a visitor who navigates away at once
        // keeps the choice even if the page's request is cut off (keepalive lets it finish).
        writeProvisional(version, button.value, form);
        fetch(form.action, {
          method: "POST",
          body: data,
          credentials: "same-origin",
          keepalive: true,
          headers: { Accept: "application/json" },
        }).then(function (response) {
          if (!response.ok) throw new Error("consent " + response.status);
          const before = allowed || [];
          allowed = readChoice(version) || ["necessary"];
          const withdrawn = before.some(function (c) { return allowed.indexOf(c) === -1; });
          if (withdrawn) {
            // A script that already ran cannot be unloaded: start the page again without it.
            window.location.reload();
            return;
          }
          tick(forms, allowed);
          runAllowedScripts(allowed);
          const saved = form.querySelector(".consent-saved");
          if (saved) saved.hidden = false;
        }).catch(function () {
          const choice = document.createElement("input");
          choice.type = "hidden";
          choice.name = "choice";
          choice.value = button.value;
          form.appendChild(choice);
          form.submit();
        });
      });
    });
  });
})();
