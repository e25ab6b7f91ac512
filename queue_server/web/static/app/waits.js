/* The public "waits now" page, live from the board on the SSE stream. */
(function () {
  "use strict";
  var I = JSON.parse(document.getElementById("i18n").textContent);
  if (!window.EventSource) { setTimeout(function () { location.reload(); }, 60000); return; }
  var es = null;
  function open() {
    if (es) return;
    es = new EventSource("/api/v1/stream?kinds=board");
    es.addEventListener("board", onBoard);
  }
  // A hidden page (another tab, a phone in a pocket) gives its server thread back.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { if (es) { es.close(); es = null; } } else open();
  });
  open();
  function onBoard(e) {
    var b = JSON.parse(e.data);
    b.sectors.forEach(function (s) {
      var row = document.querySelector('tr[data-sector="' + s.id + '"]');
      if (!row) return;
      row.querySelector(".waiting").textContent = String(s.waiting);
      row.querySelector(".est").textContent = String(Math.round(s.shown_wait_s / 60));
    });
    document.getElementById("updated").textContent = (b.ts || "").substr(11, 5);
    var ul = document.getElementById("recent");
    ul.textContent = "";
    if (!b.recent_calls.length) { var li0 = document.createElement("li"); li0.textContent = I.none.vi + " / " + I.none.en; ul.appendChild(li0); }
    b.recent_calls.forEach(function (r) {
      var li = document.createElement("li");
      li.textContent = r.number + " → " + r.counter_label;
      ul.appendChild(li);
    });
  }
})();
