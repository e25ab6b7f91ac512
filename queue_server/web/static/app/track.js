/* A citizen's ticket page, live. Plain ES5: works on old phone browsers. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("ticket").textContent);
  var I = JSON.parse(document.getElementById("i18n").textContent);
  var token = data.token, t = data.ticket, live = document.getElementById("live");
  var busy = false, again = false;

  function bi(parent, tag, cls, pair, params) {
    function f(s) { return s.replace(/\{(\w+)\}/g, function (m, k) { return params && params[k] !== undefined ? params[k] : m; }); }
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    var vi = document.createElement("span"); vi.lang = "vi"; vi.textContent = f(pair.vi);
    var en = document.createElement("span"); en.lang = "en"; en.className = "en"; en.textContent = " / " + f(pair.en);
    e.appendChild(vi); e.appendChild(en);
    parent.appendChild(e);
    return e;
  }

  function render() {
    live.textContent = "";
    if (t.status === "called") {
      var box = document.createElement("div");
      box.className = "called"; box.id = "called";
      var big = document.createElement("div"); big.className = "big"; big.lang = "vi";
      big.textContent = I.go.vi.replace("{counter}", t.counter_number);
      var en = document.createElement("div"); en.className = "en"; en.lang = "en";
      en.textContent = I.go.en.replace("{counter}", t.counter_number);
      box.appendChild(big); box.appendChild(en);
      live.appendChild(box);
      if (navigator.vibrate) { try { navigator.vibrate([400, 200, 400]); } catch (e) {} }
    } else if (t.status === "waiting") {
      bi(live, "p", "status-line", I.waiting);
      var facts = document.createElement("div"); facts.className = "facts";
      var a = document.createElement("div"), av = document.createElement("div");
      av.className = "v"; av.id = "ahead"; av.textContent = String(t.ahead); a.appendChild(av); bi(a, "span", "", I.ahead);
      var w = document.createElement("div"), wv = document.createElement("div");
      wv.className = "v"; wv.id = "wait"; wv.textContent = String(Math.round(t.est_wait_s / 60)); w.appendChild(wv); bi(w, "span", "", I.minutes);
      facts.appendChild(a); facts.appendChild(w);
      live.appendChild(facts);
    } else {
      bi(live, "p", "status-line", I[t.status] || I.expired);
    }
    var form = document.getElementById("cancel-form");
    if (form && t.status !== "waiting") form.parentNode.removeChild(form);
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var x = new XMLHttpRequest();
    x.open("GET", "/api/v1/tickets/" + encodeURIComponent(token));
    x.onload = function () {
      busy = false;
      if (x.status === 200) {
        var next = JSON.parse(x.responseText).ticket;
        var changed = next.status !== t.status || next.ahead !== t.ahead || next.est_wait_s !== t.est_wait_s ||
          next.counter !== t.counter;
        t = next;
        if (changed) render();
        if (t.status !== "waiting" && t.status !== "called") close();
      }
      if (again) { again = false; refresh(); }
    };
    x.onerror = function () { busy = false; };
    x.send();
  }

  var form = document.getElementById("cancel-form");
  if (form) form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!window.confirm(I.confirm.vi + "\n" + I.confirm.en)) return;
    var x = new XMLHttpRequest();
    x.open("POST", "/api/v1/tickets/" + encodeURIComponent(token) + "/cancel");
    x.setRequestHeader("Content-Type", "application/json");
    x.onload = function () {
      var msg = document.getElementById("msg");
      if (x.status === 200) { msg.textContent = ""; refresh(); }
      else { msg.textContent = I.cancel_failed.vi + " / " + I.cancel_failed.en; }
    };
    x.send("{}");
  });

  // Each open stream holds a server thread: a phone in a pocket (page hidden) closes it and
  // catches up when the citizen looks again. A finished ticket needs no stream at all.
  var es = null;
  function open() {
    if (es || !window.EventSource || t.status === "served" || t.status === "cancelled" ||
        t.status === "no_show" || t.status === "expired") return;
    es = new EventSource("/api/v1/stream?kinds=board,call");
    es.addEventListener("board", function () { refresh(); });
    es.addEventListener("call", function (e) {
      var c = JSON.parse(e.data);
      if (c.number === t.number) refresh();
    });
  }
  function close() { if (es) { es.close(); es = null; } }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) close(); else { refresh(); open(); }
  });
  if (window.EventSource) open(); else setInterval(refresh, 15000);
})();
