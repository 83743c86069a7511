// Follows a running import without reloading the page (the page works without it: its
// Refresh link shows the same figures). Served as a file: no inline script, so a strict
// Content-Security-Policy can forbid them.
(function () {
  "use strict";
  var box = document.querySelector("[data-import-progress]");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-url");
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-import-progress-text]");

  function show(progress) {
    if (!progress || !progress.total) {
      return;
    }
    bar.max = progress.total;
    bar.value = progress.done;
    text.textContent = progress.done + " of " + progress.total + " rows";
  }

  function poll() {
    window
      .fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (job) {
        if (job && job.status !== "processing" && job.status !== "confirming") {
          window.location.reload();
          return;
        }
        if (job) {
          show(job.progress);
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 1000);
})();
