/* The plan page: while the plan (of the day the page's ?weekday= names) is being computed, ask
   every few seconds and show it once ready. */
(function () {
  "use strict";
  var status = document.getElementById("plan-status");
  if (!status || status.getAttribute("data-status") !== "computing" && status.getAttribute("data-status") !== "idle") return;
  function ask() {
    fetch("/planning/api/status" + window.location.search, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (j) {
      if (j.ok && j.status !== "computing" && j.status !== "idle") window.location.reload();
      else setTimeout(ask, 2000);
    }).catch(function () { setTimeout(ask, 5000); });
  }
  setTimeout(ask, 2000);
})();
