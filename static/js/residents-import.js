/* Register import progress: polls the progress URL and updates a <progress> bar (text
 * only, no HTML). Without JavaScript the page still says the status on reload. */
(function () {
  "use strict";
  var card = document.getElementById("progress-card");
  if (!card || card.getAttribute("data-status") === "done") { return; }
  var bar = document.getElementById("import-progress");
  var text = document.getElementById("progress-text");
  var status = document.getElementById("job-status");
  function poll() {
    fetch(card.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        bar.max = d.total || 1;
        bar.value = d.done;
        text.textContent = d.done + " / " + d.total;
        status.textContent = d.label;
        if (d.status === "running" || d.status === "previewed") { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
}());
