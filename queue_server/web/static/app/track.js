/* A citizen's ticket page, live. Plain ES5: works on old phone browsers.
   The server words everything (track_bp.page_model); this script only puts its model in place,
   the same model the page was first rendered from, whenever the live stream says something moved. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("ticket").textContent);
  var I = JSON.parse(document.getElementById("i18n").textContent);
  var token = data.token, m = data.page;
  var busy = false, again = false, es = null;
  function $(id) { return document.getElementById(id); }
  function text(id, value) { var e = $(id); if (e.textContent !== value) e.textContent = value; }

  function render(next) {
    var was = m;
    m = next;
    text("sector-vi", m.sector_name.vi);
    text("sector-en", m.sector_name.en);
    $("headline").className = m.called ? "headline called" : "headline";
    text("headline-vi", m.headline.vi);
    text("headline-en", m.headline.en);
    var notes = $("notes");
    notes.textContent = "";
    m.notes.forEach(function (n) {
      var li = document.createElement("li");
      var vi = document.createElement("span"); vi.lang = "vi"; vi.textContent = n.vi;
      var en = document.createElement("span"); en.lang = "en"; en.className = "en"; en.textContent = " / " + n.en;
      li.appendChild(vi); li.appendChild(en); notes.appendChild(li);
    });
    renderVisit(m.visit);
    $("facts").hidden = m.ahead === null;
    text("ahead", m.ahead === null ? "" : String(m.ahead));
    text("wait", m.wait_min === null ? "" : String(m.wait_min));
    $("cancel-form").hidden = !m.can_cancel;
    renderLeave(m.leave);
    warn(was);
    if (m.final) close();
  }

  // ---- Telling the citizen (issue #16): "almost your turn" at N ahead, "your turn" when called.
  // Once per crossing of the threshold (armed again when the queue moves back above it, e.g. after
  // a transfer) and once per call or recall; the on-page banner says it as long as it holds.
  var NEAR_KEY = "motcua.track.near";      // the citizen's N, for every ticket on this phone
  var TRAVEL_KEY = "motcua.track.travel";
  function stored(key, fallback) {
    try { var v = parseInt(window.localStorage.getItem(key), 10); return isNaN(v) ? fallback : v; }
    catch (e) { return fallback; }     // storage blocked (private mode): the default
  }
  function store(key, value) { try { window.localStorage.setItem(key, String(value)); } catch (e) {} }
  var near = stored(NEAR_KEY, 3);
  var armed = !(m.ahead !== null && m.ahead <= near);   // already near at load: the banner only
  var audio = null;

  function nearText(n) {
    return {vi: I.near.vi.replace("{n}", n), en: I.near.en.replace("{n}", n)};
  }
  function warn(was) {
    var say = null, ring = false;
    if (m.called) {
      say = m.call_alert;
      ring = was !== m && (!was.called || m.recalls !== was.recalls);
    } else if (m.ahead !== null && m.ahead <= near) {
      say = nearText(m.ahead);
      ring = armed;
      armed = false;
    } else {
      armed = true;
    }
    $("alert").hidden = !say;
    text("alert-vi", say ? say.vi : "");
    text("alert-en", say ? say.en : "");
    if (say && ring) ringNow(say);
  }
  function ringNow(say) {
    chime();
    if (navigator.vibrate) { try { navigator.vibrate([400, 200, 400]); } catch (e) {} }
    if (window.Notification && window.Notification.permission === "granted") {
      try { new window.Notification(say.vi, {body: say.en, tag: "motcua-" + token, renotify: true}); }
      catch (e) {}     // Android Chrome allows notifications only from a service worker: the banner stays
    }
  }
  // A short two-note chime made by WebAudio: no sound file to fetch. Browsers let audio start only
  // after a tap on the page, so the context is made by the citizen's first tap (unlockSound);
  // before it there is no sound to play (and no console warning about a blocked one).
  function chime() {
    if (!audio) return;
    try {
      if (audio.state === "suspended") audio.resume();
      [[880, 0], [660, 0.25]].forEach(function (note) {
        var o = audio.createOscillator(), g = audio.createGain(), at = audio.currentTime + note[1];
        o.frequency.value = note[0];
        g.gain.setValueAtTime(0.3, at);
        g.gain.exponentialRampToValueAtTime(0.001, at + 0.6);
        o.connect(g); g.connect(audio.destination);
        o.start(at); o.stop(at + 0.6);
      });
    } catch (e) {}
  }
  function unlockSound() {
    var C = window.AudioContext || window.webkitAudioContext;
    try { if (!audio && C) audio = new C(); if (audio && audio.state === "suspended") audio.resume(); } catch (e) {}
  }

  function renderLeave(leave) {
    $("leave").hidden = !leave;
    if (!leave) return;
    var sel = $("travel"), pick = null;
    leave.options.forEach(function (o) { if (String(o.min) === sel.value) pick = o; });
    pair("leave", pick ? pick.text : null);
  }

  // A visit of several procedures: where it stands, each procedure, the next, the visit's end.
  function pair(prefix, value) {
    text(prefix + "-vi", value ? value.vi : "");
    text(prefix + "-en", value ? value.en : "");
  }
  function renderVisit(v) {
    $("visit").hidden = !v;
    pair("where", v && v.where);
    pair("next", v && v.next);
    pair("end", v && v.end);
    $("visit-next").hidden = !(v && v.next);
    $("visit-end").hidden = !(v && v.end);
    var list = $("visit-steps");
    list.textContent = "";
    (v ? v.steps : []).forEach(function (st) {
      var li = document.createElement("li");
      li.className = "step " + st.status;
      var vi = document.createElement("span"); vi.lang = "vi"; vi.textContent = st.where.vi + " · " + st.status_name.vi;
      var en = document.createElement("span"); en.lang = "en"; en.className = "en";
      en.textContent = " / " + st.where.en + " · " + st.status_name.en;
      li.appendChild(vi); li.appendChild(en); list.appendChild(li);
    });
  }

  // "Reconnecting…" while the server cannot be reached, as on the wall display.
  // body[data-stream] says the same to scripts and tests: open | down | closed.
  function online(up, stream) {
    $("offline").hidden = up;
    document.body.setAttribute("data-stream", stream || (up ? "open" : "down"));
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var x = new XMLHttpRequest();
    x.open("GET", "/t/" + encodeURIComponent(token) + "/live.json");
    x.onload = function () {
      busy = false;
      if (x.status === 200) {
        if (es && es.readyState === 1) online(true, "open");
        render(JSON.parse(x.responseText).page);
      }
      else if (x.status === 404) { close(); }        // a new day: the ticket is gone from the server
      if (again) { again = false; refresh(); }
    };
    x.onerror = function () { busy = false; again = false; online(false); };
    x.send();
  }

  var form = $("cancel-form");
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!window.confirm(I.confirm.vi + "\n" + I.confirm.en)) return;
    var x = new XMLHttpRequest();
    x.open("POST", "/api/v1/tickets/" + encodeURIComponent(token) + "/cancel");
    x.setRequestHeader("Content-Type", "application/json");
    x.onload = function () {
      var msg = $("msg");
      if (x.status === 200) { msg.textContent = ""; refresh(); }
      else { msg.textContent = I.cancel_failed.vi + " / " + I.cancel_failed.en; refresh(); }
    };
    x.onerror = function () { online(false); };
    x.send("{}");
  });

  // Each open stream holds a server thread: a phone in a pocket (page hidden) closes it and
  // catches up when the citizen looks again. A finished ticket needs no stream at all.
  function open() {
    if (es || !window.EventSource || m.final) return;
    es = new EventSource("/api/v1/stream?kinds=board,call");
    es.addEventListener("open", function () { online(true, "open"); refresh(); });
    es.addEventListener("error", function () {
      online(false);
      // The browser retries by itself unless the server answered with an error; then we retry.
      if (es && es.readyState === 2) { es = null; setTimeout(open, 5000); }
    });
    es.addEventListener("board", function () { refresh(); });
    es.addEventListener("call", function (e) {
      if (JSON.parse(e.data).number === m.number) refresh();
    });
  }
  function close() { if (es) { es.close(); es = null; } online(true, "closed"); }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) close(); else { refresh(); open(); }
  });
  var tell = $("tell"), nearSel = $("near"), travel = $("travel"), ask = $("notify");
  tell.hidden = false;                   // the controls work with JavaScript only
  nearSel.value = String(near);
  if (nearSel.value !== String(near)) { near = 3; nearSel.value = "3"; }
  nearSel.addEventListener("change", function () {
    near = parseInt(nearSel.value, 10);
    store(NEAR_KEY, near);
    unlockSound();
    armed = !(m.ahead !== null && m.ahead <= near);
    warn(m);
  });
  var t0 = stored(TRAVEL_KEY, null);
  if (t0 !== null) { travel.value = String(t0); if (travel.value !== String(t0)) travel.selectedIndex = 0; }
  travel.addEventListener("change", function () { store(TRAVEL_KEY, travel.value); renderLeave(m.leave); });
  // Notifications need a secure context (HTTPS, or localhost); permission is asked only on a tap.
  function showAsk() {
    ask.hidden = !(window.isSecureContext && window.Notification && window.Notification.permission === "default");
  }
  showAsk();
  ask.addEventListener("click", function () {
    unlockSound();
    var p = window.Notification.requestPermission(showAsk);
    if (p && p.then) p.then(showAsk);
  });
  document.addEventListener("click", unlockSound);
  render(m);
  if (window.EventSource) open(); else setInterval(refresh, 15000);
})();
