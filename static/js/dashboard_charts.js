// Trend charts of the national and province dashboards (data from the json_script block).
(function () {
  "use strict";
  var dataNode = document.getElementById("dashboard-chart-data");
  if (!dataNode || typeof Chart === "undefined") {
    return;
  }
  // Axis and tooltip numbers in the page's language (1.234 on Vietnamese pages, 1,234 on English ones).
  Chart.defaults.locale = document.documentElement.lang || "vi";
  var series = JSON.parse(dataNode.textContent);
  var labels = document.getElementById("dashboard-chart-labels").dataset;
  var books = document.getElementById("chart-books");
  if (books) {
    var datasets = [{ label: labels.books, data: series.books, borderColor: "#0d6efd", pointRadius: 0 }];
    if (series.trajectory.length) {
      datasets.push({ label: labels.trajectory, data: series.trajectory, borderColor: "#6c757d",
                      borderDash: [6, 4], pointRadius: 0, spanGaps: true });
    }
    new Chart(books, {
      type: "line",
      data: { labels: series.labels, datasets: datasets },
      options: { responsive: true, animation: false, plugins: { legend: { position: "bottom" } },
                 scales: { x: { ticks: { maxTicksLimit: 10 } }, y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
  var subs = document.getElementById("chart-submissions");
  if (subs) {
    new Chart(subs, {
      data: {
        labels: series.labels,
        datasets: [
          { type: "bar", label: labels.accepted, data: series.accepted, backgroundColor: "#198754", stack: "s", yAxisID: "y" },
          { type: "bar", label: labels.rejected, data: series.rejected, backgroundColor: "#dc3545", stack: "s", yAxisID: "y" },
          { type: "line", label: labels.sending, data: series.sending_7d, borderColor: "#0d6efd", pointRadius: 0, yAxisID: "y1" },
          { type: "line", label: labels.silent, data: series.silent, borderColor: "#fd7e14", pointRadius: 0, yAxisID: "y1" }
        ]
      },
      options: {
        responsive: true, animation: false, plugins: { legend: { position: "bottom" } },
        scales: {
          x: { stacked: true, ticks: { maxTicksLimit: 10 } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
          y1: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { precision: 0 } }
        }
      }
    });
  }
})();
