/* Tiny SVG charts (no library, no network): grouped/stacked bars and lines. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var COLOURS = ["#0b5394", "#b45f06", "#38761d", "#990000", "#674ea7", "#0097a7", "#7f6000", "#a64d79", "#444444"];

  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { if (attrs.hasOwnProperty(k)) e.setAttribute(k, attrs[k]); }
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log(v) / Math.LN10)), m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  /* series: [{name, values:[...]}]; labels: x labels. kind: "stack" | "line" | "bar" */
  function draw(target, labels, series, opts) {
    opts = opts || {};
    var W = 520, H = 240, L = 40, R = 10, T = 10, B = 30, iw = W - L - R, ih = H - T - B;
    var svg = el("svg", {viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": opts.title || ""});
    var max = 0, i, j;
    for (i = 0; i < labels.length; i++) {
      var tot = 0;
      for (j = 0; j < series.length; j++) {
        var v = series[j].values[i] || 0;
        if (opts.kind === "stack") tot += v; else tot = Math.max(tot, v);
      }
      max = Math.max(max, tot);
    }
    max = opts.max || niceMax(max);
    for (i = 0; i <= 4; i++) {
      var y = T + ih - ih * i / 4;
      svg.appendChild(el("line", {x1: L, x2: W - R, y1: y, y2: y, stroke: "#d0d5db"}));
      svg.appendChild(el("text", {x: L - 4, y: y + 4, "text-anchor": "end", "font-size": 11, fill: "#333"},
        String(Math.round(max * i / 4 * 10) / 10)));
    }
    var bw = iw / Math.max(1, labels.length);
    for (i = 0; i < labels.length; i++) {
      svg.appendChild(el("text", {x: L + bw * i + bw / 2, y: H - 10, "text-anchor": "middle", "font-size": 11, fill: "#333"},
        String(labels[i])));
    }
    if (opts.kind === "line") {
      for (j = 0; j < series.length; j++) {
        var pts = [];
        for (i = 0; i < labels.length; i++) {
          var val = series[j].values[i];
          if (val === null || val === undefined) continue;
          var px = L + bw * i + bw / 2, py = T + ih - ih * Math.min(val, max) / max;
          pts.push(px + "," + py);
          svg.appendChild(el("circle", {cx: px, cy: py, r: 3, fill: COLOURS[j % COLOURS.length]}));
        }
        if (pts.length > 1) svg.appendChild(el("polyline", {points: pts.join(" "), fill: "none",
          stroke: COLOURS[j % COLOURS.length], "stroke-width": 2}));
      }
    } else {
      for (i = 0; i < labels.length; i++) {
        var base = 0;
        for (j = 0; j < series.length; j++) {
          var v2 = series[j].values[i] || 0;
          if (!v2) continue;
          var h = ih * v2 / max, x, w;
          if (opts.kind === "stack") { x = L + bw * i + bw * 0.15; w = bw * 0.7; }
          else { w = bw * 0.7 / series.length; x = L + bw * i + bw * 0.15 + w * j; }
          var yy = T + ih - (opts.kind === "stack" ? base : 0) - h;
          var r = el("rect", {x: x, y: yy, width: Math.max(1, w), height: h, fill: COLOURS[j % COLOURS.length]});
          r.appendChild(el("title", {}, series[j].name + " · " + labels[i] + ": " + v2));
          svg.appendChild(r);
          if (opts.kind === "stack") base += h;
        }
      }
    }
    target.textContent = "";
    target.appendChild(svg);
    if (series.length > 1) {
      var ul = document.createElement("ul");
      ul.className = "legend";
      for (j = 0; j < series.length; j++) {
        var li = document.createElement("li"), sw = document.createElement("span");
        sw.className = "sw";
        sw.style.background = COLOURS[j % COLOURS.length];
        li.appendChild(sw);
        li.appendChild(document.createTextNode(series[j].name));
        ul.appendChild(li);
      }
      target.appendChild(ul);
    }
  }

  window.MotcuaCharts = {draw: draw, colours: COLOURS};
})();
