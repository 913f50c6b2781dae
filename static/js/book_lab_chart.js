// One lab indicator over time (Chart.js, vendored). Data come from the json_script block.
(function () {
  "use strict";
  var source = document.getElementById("lab-chart-data");
  var canvas = document.getElementById("lab-chart");
  if (!source || !canvas || typeof Chart === "undefined") { return; }
  var data = JSON.parse(JSON.parse(source.textContent));
  var points = data.points.filter(function (p) { return p.y !== null; });
  canvas.dataset.points = String(points.length);
  new Chart(canvas, {
    type: "line",
    data: {
      labels: points.map(function (p) { return p.t.split("-").reverse().join("/"); }),
      datasets: [{
        label: data.label + (data.unit ? " (" + data.unit + ")" : ""),
        data: points.map(function (p) { return p.y; }),
        pointBackgroundColor: points.map(function (p) { return p.flag ? "#dc3545" : "#0d6efd"; }),
        borderColor: "#0d6efd",
        tension: 0.1
      }]
    },
    options: { responsive: true, maintainAspectRatio: false, animation: false }
  });
  canvas.dataset.ready = "1";
})();
