// Campaign preview tabs. htmx swaps only the panel; this keeps the tab bar in
// step without re-rendering it (a tab bar swapped mid-click would leave
// anchors htmx has not wired up yet, and a click on one would load the whole
// page). Without JavaScript the tabs are plain links and the server marks
// the active one.
(function () {
  "use strict";

  function mark(bar, variant) {
    bar.querySelectorAll("a[data-variant]").forEach(function (a) {
      var on = a.dataset.variant === variant;
      a.classList.toggle("active", on);
      if (on) {
        a.setAttribute("aria-current", "page");
      } else {
        a.removeAttribute("aria-current");
      }
    });
  }

  // The clicked tab lights up at once, while its panel loads.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var tab = e.detail.elt;
    var bar = tab.closest && tab.closest("[data-variant-tabs]");
    if (bar) {
      mark(bar, tab.dataset.variant);
    }
  });

  // Then the panel on the page has the last word: after a swap, and after
  // the back button restores a snapshot taken while a tab was loading.
  function follow() {
    var panel = document.getElementById("preview-panel");
    var bar = document.querySelector("[data-variant-tabs]");
    if (panel && bar) {
      mark(bar, panel.dataset.variant);
    }
  }
  document.addEventListener("htmx:afterSettle", follow);
  document.addEventListener("htmx:historyRestore", follow);
})();
