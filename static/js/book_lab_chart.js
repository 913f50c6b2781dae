// One lab indicator over time (Chart.js, vendored). Data come from the json_script block.
// The reference range is a shaded band (two lines filled between, or to the chart's edge for a
// one-sided range); numbers follow the page's language (Intl: 5,6 in Vietnamese, 5.6 in English);
// a flagged point is red and its tooltip says the flag in words, as the tables do.
(function () {
  "use strict";
  var source = document.getElementById("lab-chart-data");
  var canvas = document.getElementById("lab-chart");
  if (!source || !canvas || typeof Chart === "undefined") { return; }
  var data = JSON.parse(JSON.parse(source.textContent));
  var locale = document.documentElement.lang || "vi";
  var points = data.points.filter(function (p) { return p.y !== null; });
  canvas.dataset.points = String(points.length);
  var labels = points.map(function (p) { return p.t.split("-").reverse().join("/"); });
  var values = points.map(function (p) { return p.y; });
  var datasets = [{
    label: data.label + (data.unit ? " (" + data.unit + ")" : ""),
    data: values,
    pointBackgroundColor: points.map(function (p) { return p.flag ? "#dc3545" : "#0d6efd"; }),
    pointRadius: 4,
    borderColor: "#0d6efd",
    tension: 0.1,
    order: 0
  }];
  var band = data.band;
  var yScale = {};
  if (band && points.length) {
    var shade = "rgba(25, 135, 84, 0.15)";
    var edge = "rgba(25, 135, 84, 0.5)";
    var flat = function (v) { return points.map(function () { return v; }); };
    var common = { pointRadius: 0, pointHitRadius: 0, borderWidth: 1, borderDash: [4, 4], borderColor: edge,
                   backgroundColor: shade, tension: 0, order: 1 };
    if (band[0] !== null && band[1] !== null) {
      datasets.push(Object.assign({ label: data.band_label, data: flat(band[0]), fill: false }, common));
      datasets.push(Object.assign({ label: "", data: flat(band[1]), fill: "-1", isBandEdge: true }, common));
    } else if (band[1] !== null) {
      datasets.push(Object.assign({ label: data.band_label, data: flat(band[1]), fill: "start" }, common));
    } else {
      datasets.push(Object.assign({ label: data.band_label, data: flat(band[0]), fill: "end" }, common));
    }
    // keep the band in view: a range open below starts the axis at zero
    if (band[0] === null && Math.min.apply(null, values) >= 0) { yScale.suggestedMin = 0; }
    canvas.dataset.band = band.map(function (v) { return v === null ? "" : String(v); }).join("|");
  }
  new Chart(canvas, {
    type: "line",
    data: { labels: labels, datasets: datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false, locale: locale,
      scales: { y: yScale },
      plugins: {
        legend: { labels: { filter: function (item, chart) { return !chart.datasets[item.datasetIndex].isBandEdge; } } },
        tooltip: {
          filter: function (item) { return item.datasetIndex === 0; },
          callbacks: {
            afterLabel: function (ctx) { var p = points[ctx.dataIndex]; return p && p.flag ? p.flag_label : ""; }
          }
        }
      }
    }
  });
  canvas.dataset.ready = "1";
})();
