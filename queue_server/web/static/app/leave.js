// "When to leave home" on a booking's page (templates/app/leave_home.html): shows the leave time of
// the travel time picked, from the words each option carries, and keeps the choice in this phone's
// localStorage under the tracking page's key (track.js), so both pages start from the same travel.
(function () {
  "use strict";
  var KEY = "motcua.track.travel";
  var sel = document.getElementById("travel");
  if (!sel) return;
  function show() {
    var o = sel.options[sel.selectedIndex];
    if (!o) return;
    document.getElementById("leave-vi").textContent = o.getAttribute("data-vi");
    document.getElementById("leave-en").textContent = o.getAttribute("data-en");
  }
  try {
    var kept = window.localStorage.getItem(KEY);
    if (kept !== null) { sel.value = kept; if (sel.value !== kept) sel.selectedIndex = 0; }
  } catch (e) {}
  sel.addEventListener("change", function () {
    try { window.localStorage.setItem(KEY, sel.value); } catch (e) {}
    show();
  });
  show();
})();
