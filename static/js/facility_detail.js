// 90-day connection chart of the facility detail page (data from the json_script block).
(function () {
  "use strict";
  var canvas = document.getElementById("facility-health-chart");
  var dataNode = document.getElementById("facility-health-data");
  if (!canvas || !dataNode || typeof Chart === "undefined") {
    return;
  }
  var series = JSON.parse(dataNode.textContent);
  var labels = document.getElementById("facility-health-labels").dataset;
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: series.labels,
      datasets: [
        { label: labels.accepted, data: series.accepted, backgroundColor: "#198754", stack: "s" },
        { label: labels.rejected, data: series.rejected, backgroundColor: "#dc3545", stack: "s" }
      ]
    },
    options: {
      responsive: true,
      animation: false,
      scales: { x: { stacked: true, ticks: { maxTicksLimit: 12 } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { position: "bottom" } }
    }
  });
})();
