// The first-party statistics script (category "statistics"): counts this browser's page views in
// the lp_stats cookie. Templates load it only as <script type="text/plain"
// data-consent-category="statistics">, so it runs only after the visitor allowed statistics
// (static/js/consent.js); withdrawing deletes the cookie (privacy.views_public.consent_save).
(function () {
  "use strict";
  const m = document.cookie.match(/(?:^|; )lp_stats=(\d+)/);
  const views = (m ? parseInt(m[1], 10) : 0) + 1;
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = "lp_stats=" + views + "; Max-Age=31536000; Path=/; SameSite=Lax" + secure;
  document.documentElement.dataset.statsLoaded = "1";
})();
