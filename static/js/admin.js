// Progressive enhancements of the admin console. Every page works without
// this file; it only adds what needs JavaScript.
//
// Copy buttons: <button data-copy="ID" hidden> copies the value of the input
// with that id. They start hidden and are shown only where the Clipboard API
// exists, so no page offers a button that cannot work.
(function () {
  "use strict";

  function showCopyButtons(root) {
    if (!navigator.clipboard) return;
    root.querySelectorAll("button[data-copy]").forEach(function (b) { b.hidden = false; });
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copy);
    if (!source) return;
    var status = button.parentElement.querySelector(".copied");
    navigator.clipboard.writeText(source.value).then(function () {
      if (status) status.textContent = "Copied";
    }, function () {
      source.select(); // let the person copy by hand
      if (status) status.textContent = "Press Ctrl+C to copy";
    });
  });

  document.addEventListener("DOMContentLoaded", function () { showCopyButtons(document); });
  // htmx swaps (boosted navigation) bring new buttons.
  document.addEventListener("htmx:load", function (ev) { showCopyButtons(ev.target); });
})();
