/* The web counter console: buttons send the counter's commands; the SSE stream keeps it current. */
(function () {
  "use strict";
  function csrfToken() { var m = document.querySelector('meta[name="csrf-token"]'); return m ? m.getAttribute("content") : ""; }
  var D = JSON.parse(document.getElementById("data").textContent);
  var I = D.i18n, LANG = D.lang, counter = D.counter, state = D.data, R = D.rating, V = D.visit;
  function $(id) { return document.getElementById(id); }
  function say(text, isError) { var m = $("msg"); m.textContent = text; m.className = isError ? "msg error" : "msg"; }
  function newId() { return "web-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10); }

  // The server words what happened (the keypad's texts); the clerk reads it in the page's language.
  function told(j, fallback) { return (j.message && (j.message[LANG] || j.message.vi)) || fallback; }
  function both(pair) { return pair.vi + " / " + pair.en; }

  function renderRating() {
    var r = state.rating, panel = $("rating");
    panel.hidden = !r || r.rated;
    if (r) $("rating-number").textContent = r.number;
    if (r && !r.rated) $("rating-thanks").textContent = "";
  }

  // A visit of several procedures (the server words it: console_bp.visit_model): where it stands,
  // each procedure with a Drop key for those still to come, "continue here" when this counter
  // serves the next one, and what Done does (sends the citizen on to the next sector's queue).
  function renderVisit() {
    var v = state.visit, list = $("visit-steps");
    $("visit").hidden = !v;
    $("where").textContent = v && v.where ? v.where[LANG] : "";
    var next = v && v.next;
    $("btn-continue").hidden = !(next && next.here);
    $("done-next").textContent = next ? " · " + next.send_on[LANG] : "";
    list.textContent = "";
    if (!v) return;
    v.steps.forEach(function (s) {
      var li = document.createElement("li");
      li.className = "step " + s.status;
      var text = document.createElement("span");
      text.textContent = s.where[LANG] + (s.procedure_name ? " — " + s.procedure_name[LANG] : "") + " · " + s.status_name[LANG];
      li.appendChild(text);
      if (s.status === "waiting") {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "drop";
        b.textContent = V.drop[LANG];
        b.setAttribute("aria-label", V.drop[LANG] + " " + s.where[LANG]);
        b.addEventListener("click", function () { act("drop", b, {sector: s.sector, procedure: s.procedure}); });
        li.appendChild(b);
      }
      list.appendChild(li);
    });
  }

  function render() {
    var c = state.counter;
    renderRating();
    renderVisit();
    $("now").textContent = c.serving ? c.serving.number : "—";
    $("served").textContent = String(c.served_today);
    $("status").textContent = state.on_break ? state.on_break[LANG] : (I[c.status] || c.status);
    $("status").className = "badge " + c.status;
    var box = $("queues");
    box.textContent = "";
    state.queues.forEach(function (q) {
      var h = document.createElement("h3");
      h.textContent = (q.name[LANG] || q.name.vi) + " (" + q.tickets.length + ")";
      box.appendChild(h);
      var ul = document.createElement("ul");
      ul.className = "queue-list";
      if (!q.tickets.length) { var li0 = document.createElement("li"); li0.textContent = I.nobody; ul.appendChild(li0); }
      q.tickets.forEach(function (t) {
        var li = document.createElement("li");
        li.textContent = t.number + " · " + Math.round(t.waited_s / 60) + " " + I.waiting_min +
          (t.priority !== "normal" ? " · " + I.priority : "") + (t.transferred ? " · " + I.transferred : "");
        ul.appendChild(li);
      });
      box.appendChild(ul);
    });
  }

  var loading = false, again = false;
  function reload() {
    if (loading) { again = true; return; }
    loading = true;
    fetch("/console/api/" + encodeURIComponent(counter) + "/waiting", {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (j) { loading = false; if (j.ok) { state = j; render(); } if (again) { again = false; reload(); } })
      .catch(function () { loading = false; });
  }

  function act(action, button, extra) {
    var body = {req_id: newId()};
    if (action === "transfer") { body.to_sector = $("to-sector").value; body.note = $("note").value; }
    if (action === "pause") { body.reason = $("pause-reason").value; }
    for (var k in extra || {}) { if (extra.hasOwnProperty(k) && extra[k] !== null) body[k] = extra[k]; }
    button.disabled = true;
    fetch("/console/api/" + encodeURIComponent(counter) + "/" + action, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken()}, body: JSON.stringify(body)})
      .then(function (r) { return r.json(); })
      .then(function (j) {
        button.disabled = false;
        if (j.ok) {
          say(told(j, action));
          if (action === "transfer") $("note").value = "";
        } else {
          var e = j.error || {};
          say((LANG === "vi" ? (e.message_vi || e.message) : e.message) || "error", true);
        }
        reload();
      })
      .catch(function (e) { button.disabled = false; say(String(e), true); });
  }

  function rate(score, button) {
    var r = state.rating;
    if (!r || r.rated) return;
    button.disabled = true;
    fetch("/console/api/" + encodeURIComponent(counter) + "/rate", {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken()},
      body: JSON.stringify({req_id: newId(), score: score, ticket_id: r.ticket_id})})
      .then(function (res) { return res.json(); })
      .then(function (j) {
        button.disabled = false;
        if (j.ok) {
          r.rated = true;
          renderRating();
          $("rating-thanks").textContent = both(R.thanks);
          say(told(j, ""));
        } else {
          var e = j.error || {};
          if (e.code === "not_allowed") { r.rated = true; renderRating(); }
          say((LANG === "vi" ? (e.message_vi || e.message) : e.message) || "error", true);
        }
        reload();
      })
      .catch(function (e) { button.disabled = false; say(String(e), true); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("button[data-action]"), function (b) {
    b.addEventListener("click", function () { act(b.getAttribute("data-action"), b); });
  });
  $("btn-continue").addEventListener("click", function () { act("done", $("btn-continue"), {continue_here: true}); });
  $("btn-add").addEventListener("click", function () {
    var a = V.addable[parseInt($("add-what").value, 10)];
    act("add", $("btn-add"), {sector: a.sector, procedure: a.procedure});
  });
  Array.prototype.forEach.call(document.querySelectorAll("button[data-score]"), function (b) {
    b.addEventListener("click", function () { rate(parseInt(b.getAttribute("data-score"), 10), b); });
  });

  var es = new EventSource("/api/v1/stream?kinds=counter,board");
  es.addEventListener("open", function () { $("live").textContent = I.live; $("live").className = "live on"; });
  es.addEventListener("error", function () { $("live").textContent = I.offline; $("live").className = "live"; });
  es.addEventListener("counter", function (e) {
    var c = JSON.parse(e.data);
    if (c.counter === counter) { state.counter = c; render(); reload(); }
  });
  es.addEventListener("board", function () { reload(); });
  render();
  setInterval(render, 30000);
})();
