/* Browser wall display. Plain ES5 (old smart-TV browsers), no build, no library.
   Live data: Server-Sent Events from the queue server ("board" first, then "board" and "call").
   Where EventSource is missing, it polls /api/v1/board instead. The layout and the words
   follow the Kivy display (display/board_model.py); labels come from the display catalogue. */
(function () {
  "use strict";
  var HIGHLIGHT_MS = 10000;   // the newest call blinks this long
  var RECENT_SHOWN = 6;
  var POLL_MS = 3000;
  var L = JSON.parse(document.getElementById("labels").textContent || "{}");
  // Addresses and the site's time zone come as data, not an inline script, so the page runs
  // under a strict CSP.
  var U = JSON.parse((document.getElementById("settings") || {}).textContent || "{}");
  window.MOTCUA_STREAM_URL = window.MOTCUA_STREAM_URL || U.stream;
  window.MOTCUA_HEALTH_URL = window.MOTCUA_HEALTH_URL || U.health;
  var WEEKDAYS = ["Chủ Nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"];

  var HEALTH_MS = 1000 * (parseFloat((/[?&]health=([0-9.]+)/.exec(location.search) || [])[1]) || 10);
  var state = { board: null, call: null, callAt: 0, online: false, healthOk: true };
  var es = null;

  function $(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/&/g, "&amp;").replace(/</g, "&lt;")
      .replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function t(msgid, lang, params) {
    var s = (L[msgid] && L[msgid][lang]) || msgid;
    if (params) { for (var k in params) { if (params.hasOwnProperty(k)) { s = s.split("{" + k + "}").join(params[k]); } } }
    return s;
  }
  function pad2(n) { return (n < 10 ? "0" : "") + n; }

  function waitText(est, waiting, lang) {
    if (!waiting) { return "—"; }
    if (typeof est !== "number") { return "—"; }
    if (est < 60) { return t("Under 1 min", lang); }
    return "~" + t("{n} min", lang, { n: Math.round(est / 60) });
  }

  function highlightActive() {
    return state.call && (new Date().getTime() - state.callAt) < HIGHLIGHT_MS;
  }

  function labelEn(counterId) {
    var cs = (state.board && state.board.counters) || [];
    for (var i = 0; i < cs.length; i++) { if (cs[i].id === counterId) { return cs[i].label_en; } }
    return null;
  }

  function sectorName(id, lang) {
    var ss = (state.board && state.board.sectors) || [];
    for (var i = 0; i < ss.length; i++) {
      if (ss[i].id === id && ss[i].name) { return ss[i].name[lang] || ss[i].name.vi || id; }
    }
    return id || "";
  }

  /* Where a visit of several procedures stands, "2/3: Đất đai" (motcua/board_texts STEP); "" for one. */
  function stepText(step, steps, sector, lang) {
    if (!step || !steps || steps < 2) { return ""; }
    return t("{step}/{steps}: {sector}", lang, { step: step, steps: steps, sector: sectorName(sector, lang) });
  }

  function portrait() { return window.innerHeight > window.innerWidth; }

  function tileCols(n) {
    if (portrait()) { return Math.max(1, Math.min(4, n, Math.ceil(Math.sqrt(n / 2)))); }
    if (n <= 4) { return Math.max(1, Math.min(n, 2)); }
    return Math.min(6, Math.ceil(Math.sqrt(n * 1.6)));
  }

  function sectorCols(n) {
    if (portrait()) { return Math.max(1, Math.min(2, n)); }
    return n > 4 ? Math.min(4, Math.ceil(n / 2)) : Math.max(1, n);
  }

  /* Sizes go through the CSSOM (element.style), which a CSP without 'unsafe-inline' allows;
     a style="" attribute in markup is refused by it. */
  function sizeGrid(box, cols) {
    var items = box.children, rows = Math.max(1, Math.ceil(items.length / cols)), i;
    for (i = 0; i < items.length; i++) {
      items[i].style.width = (100 / cols) + "%";
      items[i].style.height = (100 / rows) + "%";
    }
  }

  /* The site's wall-clock time, whatever time zone the TV is set to: Intl in the site's zone
     where the browser has it, else the site's UTC offset sent with the page (no daylight
     saving in Viet Nam, so it stays right). Returns UTC fields of a shifted Date. */
  var fmt = null;
  try {
    if (U.tz && window.Intl) {
      fmt = new Intl.DateTimeFormat("en-US", { timeZone: U.tz, hourCycle: "h23", hour12: false, year: "numeric",
        month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
    }
  } catch (e) { fmt = null; }   // RangeError: this browser knows no time zones

  function siteNow() {
    var now = new Date(), m = fmt ? /(\d+)\/(\d+)\/(\d+),? (\d+):(\d+):(\d+)/.exec(fmt.format(now)) : null;
    if (m) { return new Date(Date.UTC(+m[3], +m[1] - 1, +m[2], +m[4] % 24, +m[5], +m[6])); }
    if (typeof U.utc_offset_min === "number") { return new Date(now.getTime() + U.utc_offset_min * 60000); }
    // no site zone at all (a page served without a site): the TV's own time
    return new Date(now.getTime() - now.getTimezoneOffset() * 60000);
  }

  function renderClock() {
    var d = siteNow();
    $("time").innerHTML = pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes());
    $("date").innerHTML = WEEKDAYS[d.getUTCDay()] + ", " + pad2(d.getUTCDate()) + "/" + pad2(d.getUTCMonth() + 1) +
      "/" + d.getUTCFullYear();
  }

  function renderBanner() {
    var b = $("banner"), vi, en, cls;
    if (!state.online) {
      cls = "offline";
      vi = t("Connection lost", "vi") + " · " + t("Reconnecting…", "vi");
      en = t("Connection lost", "en") + " · " + t("Reconnecting…", "en");
    } else if (highlightActive()) {
      var c = state.call;
      var lvi = c.counter_label || c.counter, len = c.counter_label_en || labelEn(c.counter) || lvi;
      cls = "call";
      vi = t("Number {number}, please go to {counter}", "vi", { number: c.number, counter: lvi });
      en = t("Number {number}, please go to {counter}", "en", { number: c.number, counter: len });
      if (stepText(c.step, c.steps, c.sector, "vi")) {
        vi += " · " + stepText(c.step, c.steps, c.sector, "vi");
        en += " · " + stepText(c.step, c.steps, c.sector, "en");
      }
    } else if (!state.board) {
      cls = "title"; vi = t("Waiting for data from the server", "vi"); en = t("Waiting for data from the server", "en");
    } else {
      cls = "title"; vi = t("Now serving", "vi"); en = t("Now serving", "en");
    }
    b.className = cls;
    $("banner-vi").innerHTML = esc(vi);
    $("banner-en").innerHTML = esc(en);
  }

  function render() {
    renderClock();
    renderBanner();
    var board = state.board;
    if (!board) { return; }
    var site = board.site || {}, name = site.name || {};
    $("site-vi").innerHTML = esc(typeof name === "string" ? name : (name.vi || ""));
    $("site-en").innerHTML = esc(typeof name === "string" ? "" : (name.en || ""));

    var hl = highlightActive() ? state.call.counter : null;
    var counters = [], i, c;
    for (i = 0; i < (board.counters || []).length; i++) {
      c = board.counters[i];
      if (c && c.status !== "closed") { counters.push(c); }
    }
    var html = [];
    for (i = 0; i < counters.length; i++) {
      c = counters[i];
      var serving = c.serving && c.serving.number ? c.serving.number : "";
      var cls = "tile " + (c.id === hl ? "hl " : "") + (serving ? "serving" : (c.status === "paused" ? "paused" : "idle"));
      var number = serving || (c.status === "paused" ? t("On break", "vi") : "—");
      var label = c.label_en && c.label_en !== c.label ? c.label + " · " + c.label_en : c.label;
      // under the number: where a visit stands, or why the counter is on a break
      var detail = serving ? stepText(c.serving.step, c.serving.steps, c.serving.sector, "vi") :
        (c.status === "paused" && c.break_reason && L["break_reason:" + c.break_reason] ?
          t("break_reason:" + c.break_reason, "vi") : "");
      html.push('<div class="' + cls + '" data-counter="' + esc(c.id) + '" data-number="' + esc(serving) +
        '"><div class="tile-in"><div class="label">' + esc(label) +
        '</div><div class="number">' + esc(number) + "</div>" +
        (detail ? '<div class="detail">' + esc(detail) + "</div>" : "") + "</div></div>");
    }
    if (!counters.length) {
      html.push('<div class="tile idle empty"><div class="tile-in"><div class="number">' +
        esc(t("No open counter", "vi")) + '</div><div class="label">' + esc(t("No open counter", "en")) + "</div></div></div>");
    }
    $("tiles").innerHTML = html.join("");
    if (counters.length) { sizeGrid($("tiles"), tileCols(counters.length)); }

    $("recent-title").innerHTML = esc(t("Recent calls", "vi") + " / " + t("Recent calls", "en"));
    html = [];
    var recent = board.recent_calls || [];
    for (i = 0; i < recent.length && i < RECENT_SHOWN; i++) {
      // a visit's procedure: which one, as on the tile and in the banner ("2/3: Đất đai")
      var step = stepText(recent[i].step, recent[i].steps, recent[i].sector, "vi");
      html.push('<li data-number="' + esc(recent[i].number) + '"><span class="num">' + esc(recent[i].number) +
        "</span>→ " + esc(recent[i].counter_label || recent[i].counter) +
        (step ? ' <span class="step">· ' + esc(step) + "</span>" : "") + "</li>");
    }
    $("recent").innerHTML = html.join("");

    var sectors = board.sectors || [];
    html = [];
    for (i = 0; i < sectors.length; i++) {
      var s = sectors[i], nm = s.name || {};
      var waiting = typeof s.waiting === "number" ? s.waiting : 0;
      // shown_wait_s; est_wait_s is its deprecated name (an older server), docs/protocol.md
      var shown = typeof s.shown_wait_s === "number" ? s.shown_wait_s : s.est_wait_s;
      var over = typeof shown === "number" && typeof s.target_wait_s === "number" && s.target_wait_s > 0 &&
        waiting > 0 && shown > s.target_wait_s;
      html.push('<div class="sector' + (over ? " over" : "") + '" data-sector="' + esc(s.id) +
        '"><div class="sector-in"><div class="name-vi">' +
        esc((s.prefix ? s.prefix + " · " : "") + (nm.vi || s.id)) + '</div><div class="name-en">' + esc(nm.en || "") +
        '</div><div class="nums"><span class="waiting">' + esc(t("{n} waiting", "vi", { n: waiting })) +
        '</span><span class="wait">' + esc(waitText(shown, waiting, "vi")) + "</span></div></div></div>");
    }
    $("sectors").innerHTML = html.join("");
    sizeGrid($("sectors"), sectorCols(sectors.length));
  }

  function setOnline(up) {
    state.online = up && state.healthOk;
    renderBanner();
  }

  function onBoard(data) {
    var b;
    try { b = JSON.parse(data); } catch (e) { return; }
    if (!b || b.type !== "board" || !b.counters) { return; }
    state.board = b;
    state.healthOk = true;   // data is arriving: the server is there
    setOnline(true);
    render();
  }

  function onCall(data) {
    var c;
    try { c = JSON.parse(data); } catch (e) { return; }
    if (!c || !c.number || !c.counter) { return; }
    state.call = c;
    state.callAt = new Date().getTime();
    render();
    announce(c);
  }

  /* Sound: every call (a recall too) plays the server's announce.wav, one after another.
     ?sound=off keeps the TV silent; ?sound=both adds the English sentence. A browser that
     refuses to play before someone touches the screen gets a button; calls older than
     STALE_MS by then are not played (the hall has moved on). */
  var SOUND = (/[?&]sound=(off|vi|both)/.exec(location.search) || [])[1] || "vi";
  var STALE_MS = 60000;
  var MAX_QUEUED = 10;
  var sound = { queue: [], playing: false, blocked: false, played: 0 };

  function soundState(name) { document.body.setAttribute("data-sound", name); }

  function announce(c) {
    if (SOUND === "off") { return; }
    sound.queue.push({ at: new Date().getTime(), url: "/display/announce.wav?number=" + encodeURIComponent(c.number) +
      "&counter=" + encodeURIComponent(c.counter) + (SOUND === "both" ? "&en=1" : "") +
      // a visit's procedures sound apart (their step is said); the server reads it from the ticket
      (c.step && c.steps > 1 ? "&step=" + encodeURIComponent(c.step) : "") });
    if (sound.queue.length > MAX_QUEUED) { sound.queue.shift(); }
    playNext();
  }

  function playNext() {
    if (sound.playing || sound.blocked) { return; }
    var now = new Date().getTime();
    while (sound.queue.length && now - sound.queue[0].at > STALE_MS) { sound.queue.shift(); }
    if (!sound.queue.length) { return; }
    var item = sound.queue[0], audio, settled = false;
    sound.playing = true;
    function finish(ok) {
      if (settled) { return; }
      settled = true;
      sound.playing = false;
      sound.queue.shift();
      if (ok) { sound.played += 1; document.body.setAttribute("data-announced", String(sound.played)); }
      soundState(ok ? "on" : "error");
      playNext();
    }
    function refused() {
      if (settled) { return; }
      settled = true;
      sound.playing = false;
      sound.blocked = true;       // the item stays queued for when someone taps
      soundState("blocked");
      $("sound-on").hidden = false;
    }
    try {
      audio = new window.Audio(item.url);
      audio.onended = function () { finish(true); };
      audio.onerror = function () { finish(false); };
      var p = audio.play();
      if (p && p.then) {
        p.then(null, function (err) { if (err && err.name === "NotAllowedError") { refused(); } else { finish(false); } });
      }
    } catch (e) { finish(false); }
  }

  function unblock() {
    $("sound-on").hidden = true;
    if (!sound.blocked) { return; }
    sound.blocked = false;
    soundState("on");
    playNext();
  }

  function connectStream() {
    if (es) { es.close(); }
    var mine = es = new window.EventSource(window.MOTCUA_STREAM_URL);
    mine.addEventListener("board", function (e) { if (mine === es) { onBoard(e.data); } });
    mine.addEventListener("call", function (e) { if (mine === es) { onCall(e.data); } });
    mine.onopen = function () { if (mine === es) { setOnline(true); } };
    mine.onerror = function () {
      if (mine !== es) { return; }
      setOnline(false);
      // the browser retries by itself while CONNECTING; a CLOSED stream is restarted here
      if (mine.readyState === 2) { setTimeout(function () { if (mine === es) { connectStream(); } }, POLL_MS); }
    };
  }

  /* A stream can die silently (a TV on Wi-Fi, a server that went away without closing its
     sockets): SSE keep-alives are comments the page never sees. So the page also asks the
     server's /health now and then; a failure shows "Mất kết nối", the next success opens a
     fresh stream (which starts with the current board). */
  function checkHealth() {
    var xhr = new XMLHttpRequest(), done = false;
    function finish(ok) {
      if (done) { return; }
      done = true;
      if (!ok) {
        state.healthOk = false;
        setOnline(false);
      } else if (!state.healthOk) {
        state.healthOk = true;
        if (window.EventSource) { connectStream(); }
      }
      setTimeout(checkHealth, HEALTH_MS);
    }
    try {
      xhr.open("GET", window.MOTCUA_HEALTH_URL + (window.MOTCUA_HEALTH_URL.indexOf("?") < 0 ? "?" : "&") + "t=" + new Date().getTime(), true);
      xhr.timeout = Math.min(HEALTH_MS, 5000);
      xhr.ontimeout = function () { finish(false); };
      xhr.onreadystatechange = function () { if (xhr.readyState === 4) { finish(xhr.status === 200); } };
      xhr.send();
    } catch (e) { finish(false); }
  }

  function poll() {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", "/api/v1/board", true);
    xhr.timeout = POLL_MS;
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) { return; }
      if (xhr.status === 200) { onBoard(xhr.responseText); } else { setOnline(false); }
      setTimeout(poll, POLL_MS);
    };
    xhr.send();
  }

  var lastHl = false;
  setInterval(function () {
    renderClock();
    var hl = !!highlightActive();
    if (hl !== lastHl) { lastHl = hl; render(); }
  }, 1000);

  $("sound-on-vi").innerHTML = esc(t("Tap to turn the sound on", "vi"));
  $("sound-on-en").innerHTML = esc(t("Tap to turn the sound on", "en"));
  $("sound-on").onclick = unblock;
  window.onresize = render;   // a TV turned to portrait, or a browser window resized
  document.addEventListener("keydown", unblock);   // a TV remote's OK key counts as a gesture too
  soundState(SOUND === "off" ? "off" : "ready");
  render();
  if (window.EventSource) { connectStream(); } else { poll(); }
  setTimeout(checkHealth, HEALTH_MS);
})();
