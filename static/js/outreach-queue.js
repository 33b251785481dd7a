// The outreach queue's keyboard: 1, 2, 3 choose the variant tabs; c copies
// the message; t opens "Text this"; m marks it as sent (the server then
// opens the next business); n and p go to the next and previous business.
// Keys typed into a field are left alone. The queue links carry the
// chosen variant, so the next business opens on the same tab.
(function () {
  "use strict";

  function variant() {
    var panel = document.getElementById("preview-panel");
    return panel ? panel.dataset.variant : "";
  }

  // Keep ?variant= on the queue links in step with the tab shown.
  function follow() {
    var v = variant();
    if (!v) return;
    document.querySelectorAll("#queue a[rel]").forEach(function (a) {
      var u = new URL(a.href, location.href);
      u.searchParams.set("variant", v);
      a.href = u.pathname + u.search;
    });
  }

  function press(id) {
    var el = document.getElementById(id);
    if (el) el.click();
  }

  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || e.defaultPrevented) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    var tabs = document.querySelectorAll("[data-variant-tabs] a[data-variant]");
    switch (e.key) {
      case "1": case "2": case "3": case "4": case "5":
        var tab = tabs[Number(e.key) - 1];
        if (!tab) return;
        tab.focus();
        tab.click();
        break;
      case "n": case "N": press("queue-next"); break;
      case "p": case "P": press("queue-prev"); break;
      case "c": case "C": press("copy-message"); break;
      case "t": case "T": press("text-this"); break;
      case "m": case "M": press("mark-sent-button"); break;
      default: return;
    }
    e.preventDefault();
  });
  document.addEventListener("DOMContentLoaded", follow);
  document.addEventListener("htmx:afterSettle", follow);
})();
