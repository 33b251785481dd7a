// CSV import with a progress bar. Without JavaScript the form posts and
// the answer is the report page. With it, the file goes up by
// XMLHttpRequest: the bar follows the upload, then says the rows are being
// checked and written, and the report from the answer replaces the old one.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("import-form");
    if (!form || !window.FormData || !window.DOMParser) return;
    var box = document.getElementById("import-progress");
    var bar = document.getElementById("import-bar");
    var status = document.getElementById("import-status");
    var submit = document.getElementById("import-submit");

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      box.hidden = false;
      bar.value = 0;
      bar.max = 100;
      status.textContent = "Uploading…";
      submit.disabled = true;
      xhr.upload.addEventListener("progress", function (ev) {
        if (!ev.lengthComputable) return;
        bar.value = Math.round(90 * ev.loaded / ev.total); // the last tenth is the server's work
        status.textContent = "Uploading… " + Math.round(100 * ev.loaded / ev.total) + "%";
      });
      xhr.upload.addEventListener("load", function () {
        bar.removeAttribute("value"); // indeterminate while the server works
        status.textContent = "Checking and importing the rows…";
      });
      xhr.addEventListener("load", function () {
        submit.disabled = false;
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var fresh = doc.getElementById("import-result");
        var old = document.getElementById("import-result");
        if (fresh && old) {
          old.replaceWith(fresh);
          bar.value = 100;
          status.textContent = "Done.";
          var heading = fresh.querySelector("h2, .error");
          if (heading) { heading.tabIndex = -1; heading.focus(); }
        } else {
          status.textContent = "The import failed (" + xhr.status + "). Try again.";
        }
      });
      xhr.addEventListener("error", function () {
        submit.disabled = false;
        status.textContent = "The upload failed: check the connection and try again.";
      });
      xhr.send(new FormData(form));
    });
  });
})();
