(function () {
  "use strict";
  var d = JSON.parse(document.getElementById("hourly").textContent);
  var series = Object.keys(d.hourly.arrivals).map(function (s) {
    return {name: (d.names[s] || {})[d.lang] || s, values: d.hourly.arrivals[s]};
  });
  window.MotcuaCharts.draw(document.getElementById("chart-arrivals"),
    d.hourly.hours.map(function (h) { return h + "h"; }), series, {kind: "stack",
      title: document.getElementById("h-hourly").textContent});
})();
