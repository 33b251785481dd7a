// Campaign preview tabs. As served they are links between the variants'
// pages, which work without JavaScript. This script makes them WAI-ARIA
// tabs with automatic activation: Left/Right (wrapping), Home and End move
// the focus and load the chosen variant at once; Space and Enter load the
// focused one. htmx swaps only the panel, so the tab bar (and the focus on
// it) is never replaced; this keeps aria-selected and the roving tabindex
// in step, and gives each new panel its tabpanel role.
(function () {
  "use strict";

  function tabsOf(bar) {
    return Array.prototype.slice.call(bar.querySelectorAll("a[data-variant]"));
  }

  function mark(bar, variant) {
    tabsOf(bar).forEach(function (a) {
      var on = a.dataset.variant === variant;
      a.classList.toggle("active", on);
      a.setAttribute("aria-selected", on ? "true" : "false");
      a.tabIndex = on ? 0 : -1;
    });
  }

  function upgrade(bar) {
    bar.setAttribute("role", "tablist");
    tabsOf(bar).forEach(function (a) {
      a.setAttribute("role", "tab");
      a.setAttribute("aria-controls", "preview-panel");
      a.removeAttribute("aria-current");
    });
  }

  // Then the panel on the page has the last word.
  function follow() {
    var panel = document.getElementById("preview-panel");
    var bar = document.querySelector("[data-variant-tabs]");
    if (panel && bar) {
      panel.setAttribute("role", "tabpanel");
      panel.tabIndex = 0;
      mark(bar, panel.dataset.variant);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var bar = document.querySelector("[data-variant-tabs]");
    if (bar) {
      upgrade(bar);
      follow();
    }
  });
  document.addEventListener("htmx:afterSettle", follow);

  // The chosen tab lights up at once, while its panel loads.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var tab = e.detail.elt;
    var bar = tab.closest && tab.closest("[data-variant-tabs]");
    if (bar) {
      mark(bar, tab.dataset.variant);
    }
  });

  document.addEventListener("keydown", function (e) {
    var tab = e.target.closest && e.target.closest("[data-variant-tabs] [role=tab]");
    if (!tab || e.altKey || e.ctrlKey || e.metaKey) return;
    var tabs = tabsOf(tab.closest("[data-variant-tabs]"));
    var i = tabs.indexOf(tab), next = null;
    switch (e.key) {
      case "ArrowRight": next = tabs[(i + 1) % tabs.length]; break;
      case "ArrowLeft": next = tabs[(i - 1 + tabs.length) % tabs.length]; break;
      case "Home": next = tabs[0]; break;
      case "End": next = tabs[tabs.length - 1]; break;
      case " ": case "Spacebar": next = tab; break;
      default: return;
    }
    e.preventDefault();
    next.focus();
    next.click(); // htmx loads the panel; hx-sync queues only the newest
  });
})();
