// Progressive enhancements of the admin console. Every page works without
// this file; it only adds what needs JavaScript.
//
// Copy buttons: <button data-copy="ID" hidden> copies the value of the input
// (or the text of the element) with that id, or its own data-copy-value
// when it has one (a phone number shown formatted, copied in E.164), and
// says so in the .copied
// status next to it. They start hidden, so a page without JavaScript offers
// no button that cannot work. Where the Clipboard API is missing (a plain
// http:// address other than localhost) or refuses, the text is selected
// and the reader is told to press Ctrl+C.
//
// Auto-submitting forms: <form data-autosubmit> submits when one of its
// selects changes; its submit button still works without JavaScript.
(function () {
  "use strict";

  function reveal(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (b) { b.hidden = false; });
  }

  function textOf(el) {
    return "value" in el && el.tagName !== "BUTTON" ? el.value : el.textContent;
  }

  function selectText(el) {
    if (typeof el.select === "function") {
      el.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  // legacyCopy is the fallback for pages without the Clipboard API.
  function legacyCopy(el) {
    selectText(el);
    try {
      return document.execCommand("copy");
    } catch (err) {
      return false;
    }
  }

  function copy(button) {
    var source = document.getElementById(button.dataset.copy);
    if (!source) return;
    var status = button.parentElement.querySelector(".copied");
    var say = function (text) { if (status) status.textContent = text; };
    var done = function () { say(button.dataset.copied || "Copied"); };
    var manual = function () {
      if (legacyCopy(source)) {
        done();
      } else {
        say("Selected: press Ctrl+C (⌘C on a Mac) to copy");
      }
    };
    say("");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(button.dataset.copyValue || textOf(source)).then(done, manual);
    } else {
      manual();
    }
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("button[data-copy]");
    if (button) copy(button);
  });

  document.addEventListener("change", function (ev) {
    var form = ev.target.form;
    if (form && form.hasAttribute("data-autosubmit") && ev.target.tagName === "SELECT") {
      form.requestSubmit();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    reveal(document);
    // A refused form puts the focus on its first wrong field. autofocus
    // says so too (without JavaScript), but browsers apply it lazily.
    var wrong = document.querySelector('main [aria-invalid="true"]');
    if (wrong && document.activeElement !== wrong) wrong.focus();
  });
  // Panels and pages htmx swaps in get the same treatment.
  document.addEventListener("htmx:load", function (ev) { reveal(ev.detail.elt); });
})();
