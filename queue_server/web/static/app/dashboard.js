/* The managers' dashboard: state from the SSE stream, rebalancing through the JSON API. */
(function () {
  "use strict";
  function csrfToken() { var m = document.querySelector('meta[name="csrf-token"]'); return m ? m.getAttribute("content") : ""; }
  function json(id) { return JSON.parse(document.getElementById(id).textContent); }
  var META = json("meta"), S = json("state"), I = json("i18n"), LANG = I.lang;
  var received = Date.now();
  var sectorName = {}, sectorTarget = {};
  META.sectors.forEach(function (s) { sectorName[s.id] = s.name[LANG] || s.name.vi; sectorTarget[s.id] = s.target_wait_s; });
  var counterMeta = {};
  META.counters.forEach(function (c) { counterMeta[c.id] = c; });
  // A manager's sector change, from the click until the live stream shows it: re-renders in between
  // (from any other live update) must show what was clicked, not the state from before the click.
  var pending = {};       // counter -> {sectors, until}
  var chains = {};        // counter -> the last POST, so one counter's changes reach the server in order
  // A change being considered, not sent yet: the boxes show it and the card shows its what-if (the
  // predicted wait of the sectors it touches over the next hour, without and with it) until the
  // manager applies or discards it. counter -> {sectors, at: the box clicked last, whatif, error, seq}
  var drafts = {};
  function sectorsOf(c) {
    if (drafts[c.counter]) return drafts[c.counter].sectors;
    var p = pending[c.counter];
    if (p && Date.now() < p.until) return p.sectors;
    delete pending[c.counter];
    return c.sectors;
  }
  function sameSet(a, b) { return a.length === b.length && a.every(function (x) { return b.indexOf(x) >= 0; }); }
  var openDetails = {};   // overrides panels the manager opened stay open across live re-renders
  // A refused change, shown beside the control that was clicked (the top of the page may be off-screen):
  // counter -> {at: sector id or "status", text}. Kept across live re-renders until the next click there.
  var cardErrors = {};

  function $(id) { return document.getElementById(id); }
  function node(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs.hasOwnProperty(k)) {
      if (k === "class") e.className = attrs[k]; else e.setAttribute(k, attrs[k]);
    }
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function fmt(text, params) { return text.replace(/\{(\w+)\}/g, function (m, k) { return params[k] !== undefined ? params[k] : m; }); }
  function minutes(s) {
    if (s === null || s === undefined) return "–";
    var t = (s / 60).toFixed(1);
    return LANG === "vi" ? t.replace(".", ",") : t;
  }
  function say(text, isError) { var m = $("msg"); m.textContent = text; m.className = isError ? "msg error" : "msg"; }

  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken()},
      body: JSON.stringify(body)}).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok || !j.ok) {
          var e = j.error || {};
          throw new Error((LANG === "vi" ? (e.message_vi || e.message) : e.message) || ("HTTP " + r.status));
        }
        return j;
      });
    });
  }

  function elapsed() { return Math.round((Date.now() - received) / 1000); }
  function overTarget(st) {
    var oldest = st.waiting ? st.oldest_wait_s + elapsed() : 0;
    return st.waiting > 0 && (st.shown_wait_s > st.target_wait_s || oldest > st.target_wait_s);
  }

  function renderSectors() {
    var tb = $("sectors").tBodies[0];
    tb.textContent = "";
    S.sectors.forEach(function (st) {
      var over = overTarget(st);
      var tr = node("tr", {"data-sector": st.sector, "class": over ? "over" : ""});
      var th = node("th", {scope: "row"}, sectorName[st.sector] || st.sector);
      if (over) { th.appendChild(document.createTextNode(" ")); th.appendChild(node("span", {"class": "badge over"}, I.over)); }
      tr.appendChild(th);
      tr.appendChild(node("td", {"class": "num waiting"}, String(st.waiting)));
      tr.appendChild(node("td", {"class": "num"}, st.waiting ? minutes(st.oldest_wait_s + elapsed()) : "–"));
      tr.appendChild(node("td", {"class": "num"}, minutes(st.shown_wait_s)));
      tr.appendChild(node("td", {"class": "num"}, minutes(st.target_wait_s)));
      tr.appendChild(node("td", {"class": "num"}, String(st.served_today)));
      tr.appendChild(node("td", {"class": "num"}, String(st.no_show_today)));
      tr.appendChild(node("td", {}, (st.counters || []).map(function (c) {
        return counterMeta[c] ? (counterMeta[c].label[LANG] || c) : c; }).join(", ")));
      tb.appendChild(tr);
    });
  }

  function counterCard(c) {
    var m = counterMeta[c.counter];
    var card = node("article", {"class": "card counter", "data-counter": c.counter, "aria-labelledby": "ch-" + c.counter});
    var h = node("h3", {id: "ch-" + c.counter});
    h.appendChild(node("span", {}, m.label[LANG] || c.counter));
    h.appendChild(node("span", {"class": "badge " + c.status}, I[c.status] || c.status));
    card.appendChild(h);
    card.appendChild(node("div", {"class": "now-serving", "aria-label": I.now_serving},
      c.serving ? c.serving.number : "—"));
    card.appendChild(node("div", {"class": "muted"}, I.served_today + ": " + c.served_today));
    var fs = node("fieldset"), lg = node("legend", {}, I.sectors);
    fs.appendChild(lg);
    var others = node("fieldset"), lg2 = node("legend", {}, I.override);
    others.appendChild(lg2);
    var anyOther = false;
    META.sectors.forEach(function (s) {
      var trained = m.trained.indexOf(s.id) >= 0;
      var id = "cs-" + c.counter + "-" + s.id;
      var lab = node("label", {"for": id});
      var box = node("input", {type: "checkbox", id: id, "data-sector": s.id, "data-trained": trained ? "1" : "0"});
      box.checked = sectorsOf(c).indexOf(s.id) >= 0;
      box.disabled = !I.can_manage;
      box.addEventListener("change", function () { changeSectors(c.counter, card, box); });
      lab.appendChild(box);
      lab.appendChild(document.createTextNode(" " + (s.name[LANG] || s.name.vi)));
      var holder = trained ? fs : others;
      holder.appendChild(lab);
      if (!trained) anyOther = true;
      var err = cardErrors[c.counter];
      if (err && err.at === s.id) {
        box.setAttribute("aria-invalid", "true");
        box.setAttribute("aria-describedby", "ce-" + c.counter);
        holder.appendChild(errorNote(c.counter, err.text));
      }
    });
    card.appendChild(fs);
    if (drafts[c.counter]) card.appendChild(proposal(c.counter));
    if (anyOther && I.can_manage) {
      var det = node("details");
      if (openDetails[c.counter] || sectorsOf(c).some(function (s) { return m.trained.indexOf(s) < 0; })) det.open = true;
      det.addEventListener("toggle", function () { openDetails[c.counter] = det.open; });
      det.appendChild(node("summary", {}, I.override));
      var rid = "reason-" + c.counter;
      det.appendChild(node("label", {"for": rid}, I.reason));
      // the limit is the server's (META.reason_max_chars, from the one constant the API enforces)
      var reason = node("input", {id: rid, "class": "reason", maxlength: String(META.reason_max_chars)});
      det.appendChild(reason);
      det.appendChild(others);
      card.appendChild(det);
    }
    if (I.can_manage) {
      var row = node("div", {"class": "row"});
      var open = node("button", {type: "button", "data-action": "open"}, I.open_btn);
      var pause = node("button", {type: "button", "data-action": "paused"}, I.pause_btn);
      open.disabled = c.status === "open" || c.status === "serving";
      pause.disabled = c.status === "paused";
      [open, pause].forEach(function (b) {
        b.addEventListener("click", function () {
          delete cardErrors[c.counter];
          post("/api/v1/counters/" + encodeURIComponent(c.counter) + "/status", {status: b.getAttribute("data-action")})
            .then(function () { say(I.saved); loadHistory(); },
                  function (e) { cardErrors[c.counter] = {at: "status", text: fmt(I.not_saved, {error: e.message})}; soon(); });
        });
      });
      row.appendChild(open); row.appendChild(pause);
      card.appendChild(row);
      if (cardErrors[c.counter] && cardErrors[c.counter].at === "status") card.appendChild(errorNote(c.counter, cardErrors[c.counter].text));
    }
    return card;
  }

  // --- what-if before a move ---------------------------------------------------------------
  function waitCell(s, reachable) {
    if (!reachable) return I.wi_no_counter;
    return s === null || s === undefined ? I.wi_nobody : minutes(s);
  }
  // One what-if as a table: each sector the move touches, its predicted mean wait over the next hour
  // without and with the move (and, in the history, what happened).
  function whatifTable(w, caption, actual) {
    var t = node("table", {"class": "whatif"});
    t.appendChild(node("caption", {}, caption));
    var hr = node("tr");
    [I.wi_sector, I.wi_before, I.wi_after].concat(actual ? [I.wi_actual] : []).forEach(function (h, i) {
      hr.appendChild(node("th", {scope: "col", "class": i ? "num" : ""}, h)); });
    var head = node("thead"); head.appendChild(hr); t.appendChild(head);
    var tb = node("tbody");
    w.sectors.forEach(function (r) {
      var tr = node("tr", {"data-sector": r.sector});
      tr.appendChild(node("th", {scope: "row"}, sectorName[r.sector] || r.sector));
      tr.appendChild(node("td", {"class": "num before"}, waitCell(r.before_s, r.reachable_before)));
      tr.appendChild(node("td", {"class": "num after"}, waitCell(r.after_s, r.reachable_after)));
      if (actual) {
        var a = actual[r.sector];
        tr.appendChild(node("td", {"class": "num actual"}, a ? waitCell(a.mean_s, true) : I.wi_after_hour));
      }
      tb.appendChild(tr);
    });
    t.appendChild(tb);
    return t;
  }
  function proposal(counter) {
    var d = drafts[counter];
    var box = node("div", {"class": "proposal", "data-state": d.error ? "error" : (d.whatif ? "ready" : "computing"),
      role: "group", "aria-label": I.wi_title});
    if (!d.sectors.length) box.appendChild(node("p", {"class": "muted"}, I.wi_no_sector));
    else if (d.error) box.appendChild(node("p", {"class": "msg error"}, fmt(I.wi_failed, {error: d.error})));
    else if (!d.whatif) box.appendChild(node("p", {"class": "muted", role: "status"}, I.wi_computing));
    else box.appendChild(whatifTable(d.whatif, I.wi_title));
    var row = node("div", {"class": "row"});
    var apply = node("button", {type: "button", id: "apply-" + counter, "data-action": "apply"}, I.wi_apply);
    var drop = node("button", {type: "button", id: "discard-" + counter, "data-action": "discard"}, I.wi_discard);
    apply.addEventListener("click", function () { applyDraft(counter); });
    drop.addEventListener("click", function () { delete drafts[counter]; render(); });
    row.appendChild(apply); row.appendChild(drop);
    box.appendChild(row);
    return box;
  }
  function askWhatif(counter) {
    var d = drafts[counter];
    if (!d || !d.sectors.length) return;
    var seq = d.seq = (d.seq || 0) + 1;
    clearTimeout(d.timer);
    d.timer = setTimeout(function () {    // a person ticks two boxes in a row: one what-if, for the last
      post("/dashboard/api/whatif", {counter: counter, sectors: d.sectors}).then(function (j) {
        if (drafts[counter] === d && d.seq === seq) { d.whatif = j.whatif; d.error = null; soon(); }
        loadHistory();
      }, function (e) {
        if (drafts[counter] === d && d.seq === seq) { d.error = e.message; soon(); }
      });
    }, 250);
  }
  function applyDraft(counter) {
    var d = drafts[counter];
    if (!d) return;
    delete drafts[counter];
    var r = $("reason-" + counter);
    send(counter, d.sectors, d.override, r ? r.value.trim() : d.reason, d.at);
  }

  function errorNote(counter, text) { return node("p", {"class": "msg error field-error", id: "ce-" + counter, role: "alert"}, text); }

  function changeSectors(counter, card, box) {
    var at = box.getAttribute("data-sector");
    delete cardErrors[counter];
    var boxes = card.querySelectorAll("input[type=checkbox][data-sector]");
    var sectors = [], override = false;
    // keep the current order (the first sector is the counter's own), then add new ones
    var current = sectorsOf(findCounter(counter) || {counter: counter, sectors: []}).slice();
    var checked = {};
    Array.prototype.forEach.call(boxes, function (b) { if (b.checked) { checked[b.getAttribute("data-sector")] = b; } });
    current.forEach(function (s) { if (checked[s]) sectors.push(s); });
    Object.keys(checked).forEach(function (s) { if (sectors.indexOf(s) < 0) sectors.push(s); });
    sectors.forEach(function (s) { if (checked[s].getAttribute("data-trained") !== "1") override = true; });
    var reasonEl = card.querySelector("input.reason");
    var reason = reasonEl ? reasonEl.value.trim() : "";
    if (override && !reason) {
      box.checked = !box.checked;      // nothing is proposed: the box shows what the counter still serves
      cardErrors[counter] = {at: at, text: I.need_reason};
      render();
      var r = $("reason-" + counter);
      if (r) r.focus();
      return;
    }
    var c = findCounter(counter);
    if (c && sameSet(sectors, c.sectors)) { delete drafts[counter]; render(); return; }   // back to what it serves
    drafts[counter] = {sectors: sectors, override: override, reason: reason, at: at};
    render();
    askWhatif(counter);
  }

  function send(counter, sectors, override, reason, at) {
    var body = {sectors: sectors};
    if (override) { body.override = true; body.reason = reason; }
    pending[counter] = {sectors: sectors, until: Date.now() + 5000};
    chains[counter] = (chains[counter] || Promise.resolve()).then(function () {
      return post("/api/v1/counters/" + encodeURIComponent(counter) + "/sectors", body)
        .then(function () { say(I.saved); loadHistory(); },
              function (e) {
                // refused: the boxes go back to what the server has, and the reason stands beside the click
                delete pending[counter];
                cardErrors[counter] = {at: at, text: fmt(I.not_saved, {error: e.message})};
                render();
              });
    });
  }

  function findCounter(id) {
    for (var i = 0; i < S.counters.length; i++) if (S.counters[i].counter === id) return S.counters[i];
    return null;
  }

  function renderCounters() {
    var box = $("counters");
    var focused = document.activeElement && document.activeElement.id;
    var reasons = {};
    Array.prototype.forEach.call(box.querySelectorAll("input.reason"), function (r) { reasons[r.id] = r.value; });
    box.textContent = "";
    S.counters.forEach(function (c) { box.appendChild(counterCard(c)); });
    Object.keys(reasons).forEach(function (id) { var r = $(id); if (r) r.value = reasons[id]; });
    if (focused && $(focused)) $(focused).focus();
  }

  function renderAlerts() {
    var ul = $("alerts");
    ul.textContent = "";
    var items = [];
    S.sectors.forEach(function (st) {
      if (!overTarget(st)) return;
      // each figure by its name: how long the oldest ticket has waited, and what a new ticket would wait
      var oldest = st.oldest_wait_s + elapsed(), figures = [];
      if (oldest > st.target_wait_s) figures.push(fmt(I.fig_oldest, {min: minutes(oldest)}));
      if (st.shown_wait_s > st.target_wait_s) figures.push(fmt(I.fig_est, {min: minutes(st.shown_wait_s)}));
      items.push({bad: true, text: fmt(I.alert_over, {sector: sectorName[st.sector], figures: figures.join(I.fig_sep),
        target: minutes(st.target_wait_s)})});
    });
    // device alerts come worded by the server (dashboard_bp.ALERT_TEXTS), in the page's language
    (S.alerts || []).forEach(function (a) { items.push({bad: a.kind !== "help", text: a.text}); });
    if (!items.length) { ul.appendChild(node("li", {"class": "ok"}, I.none)); return; }
    items.forEach(function (a) { ul.appendChild(node("li", {"class": a.bad ? "bad" : ""}, a.text)); });
  }

  function render() { renderSectors(); renderCounters(); renderAlerts(); $("auto-mode").checked = !!S.auto_mode; }

  // --- charts of the day ------------------------------------------------------------
  var chartTimer = null;
  function loadCharts() {
    chartTimer = null;
    fetch("/dashboard/api/today", {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (d) {
      var labels = d.hourly.hours.map(function (h) { return h + "h"; });
      var arr = [], wait = [];
      META.sectors.forEach(function (s) {
        arr.push({name: sectorName[s.id], values: d.hourly.arrivals[s.id] || []});
        wait.push({name: sectorName[s.id], values: (d.hourly.mean_wait_s[s.id] || []).map(function (v) {
          return v === null ? null : Math.round(v / 6) / 10; })});
      });
      window.MotcuaCharts.draw($("chart-arrivals"), labels, arr, {kind: "stack", title: document.querySelector("#chart-arrivals").previousElementSibling.textContent});
      window.MotcuaCharts.draw($("chart-wait"), labels, wait, {kind: "line", title: document.querySelector("#chart-wait").previousElementSibling.textContent});
      window.MotcuaCharts.draw($("chart-util"), d.utilisation.map(function (u) { return u.label[LANG] || u.counter; }),
        [{name: "%", values: d.utilisation.map(function (u) { return u.utilisation_pct || 0; })}],
        {kind: "bar", max: 100, title: document.querySelector("#chart-util").previousElementSibling.textContent});
    }).catch(function () {});
  }
  function scheduleCharts() { if (!chartTimer) chartTimer = setTimeout(loadCharts, 2000); }

  // --- live -----------------------------------------------------------------------------
  function onStats(st) {
    for (var i = 0; i < S.sectors.length; i++) if (S.sectors[i].sector === st.sector) { S.sectors[i] = st; }
    received = Date.now();
  }
  function onCounter(c) {
    for (var i = 0; i < S.counters.length; i++) if (S.counters[i].counter === c.counter) { S.counters[i] = c; }
    var p = pending[c.counter];
    if (p && sameSet(p.sectors, c.sectors)) delete pending[c.counter];
  }
  var renderTimer = null;
  function soon() { if (!renderTimer) renderTimer = setTimeout(function () { renderTimer = null; render(); }, 150); }

  function connect() {
    var es = new EventSource("/api/v1/stream?kinds=board,stats,counter,event,device");
    es.addEventListener("open", function () { $("live").textContent = I.live; $("live").className = "live on"; });
    es.addEventListener("error", function () { $("live").textContent = I.offline; $("live").className = "live"; });
    es.addEventListener("board", function (e) { var b = JSON.parse(e.data); S.auto_mode = b.auto_mode; soon(); });
    es.addEventListener("stats", function (e) { onStats(JSON.parse(e.data)); soon(); });
    es.addEventListener("counter", function (e) { onCounter(JSON.parse(e.data)); soon(); });
    es.addEventListener("event", function (e) {
      var ev = JSON.parse(e.data);
      if (ev.event === "device.help_requested") refreshDevices();
      scheduleCharts();
    });
    // a device's status changed (printer, offline, help): fetch the alerts as the server words them
    es.addEventListener("device", function () { refreshDevices(); });
  }

  // Device health: on each "device" event, and now and then in case the stream missed one.
  function refreshDevices() {
    fetch("/dashboard/api/state", {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (d) {
      S.alerts = d.alerts; S.devices = d.devices; soon();
    }).catch(function () {});
  }

  $("auto-mode").addEventListener("change", function () {
    var box = this;
    post("/api/v1/site/auto", {on: box.checked}).then(function () { say(I.saved); },
      function (e) { box.checked = !box.checked; say(e.message, true); });
  });

  // --- auto mode's next move and the predictions beside what happened ----------------------------
  function moveText(counter, previous, sectors) {
    var label = counterMeta[counter] ? (counterMeta[counter].label[LANG] || counter) : counter;
    function names(list) { return list.map(function (s) { return sectorName[s] || s; }).join(", "); }
    return fmt(I.wi_move, {counter: label, before: names(previous || []), after: names(sectors)});
  }
  function clock(iso) { var d = new Date(iso); return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2); }
  function loadAuto() {
    fetch("/dashboard/api/whatif/auto", {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (j) {
      var box = $("auto-next");
      box.textContent = "";
      if (!j.ok) return;
      if (!j.moves.length) { box.appendChild(node("p", {"class": "muted"}, I.wi_auto_none)); return; }
      j.moves.forEach(function (m) {
        box.appendChild(whatifTable(m, moveText(m.move.counter, m.previous, m.move.sectors)));
      });
    }).catch(function () {});
  }
  function loadHistory() {
    fetch("/dashboard/api/whatif/history", {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (j) {
      var box = $("whatif-history");
      box.textContent = "";
      if (!j.ok) return;
      if (!j.predictions.length) { box.appendChild(node("p", {"class": "muted"}, I.wi_history_none)); return; }
      j.predictions.slice(0, 10).forEach(function (p) {
        var who = p.kind === "auto" ? I.wi_by_auto : fmt(I.wi_by, {user: p.by});
        var state = p.applied ? I.wi_applied : I.wi_not_applied;
        var caption = clock(p.at) + " · " + who + " · " + moveText(p.move.counter, p.previous, p.move.sectors) + " · " + state;
        box.appendChild(whatifTable(p, caption, p.done ? p.actual : {}));
      });
    }).catch(function () {});
  }

  render();
  loadCharts();
  loadAuto();
  loadHistory();
  setInterval(loadAuto, 30000);
  setInterval(loadHistory, 60000);
  connect();
  setInterval(refreshDevices, 60000);
  setInterval(soon, 15000);   // oldest waits keep growing between events
})();
