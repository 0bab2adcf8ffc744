/* cityhub interface service: the usage chart (ECharts, served locally). No inline script
   anywhere (the pages' CSP forbids it): the data comes from a <script type="application/json">
   block of the page. */
(function () {
  "use strict";

  function drawUsage(box) {
    var source = document.getElementById("gw-usage-data");
    if (!source || !window.echarts) return;
    var series = JSON.parse(source.textContent || "[]");
    var chart = window.echarts.init(box);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 48, top: 32, bottom: 28 },
      xAxis: { type: "category", data: series.map(function (d) { return d.day; }) },
      yAxis: [{ type: "value", name: box.getAttribute("data-calls") },
              { type: "value", name: box.getAttribute("data-rows") }],
      series: [
        { name: box.getAttribute("data-calls"), type: "bar", itemStyle: { color: "#0b4ea2" },
          data: series.map(function (d) { return d.calls; }) },
        { name: box.getAttribute("data-errors"), type: "bar", itemStyle: { color: "#c8161d" },
          data: series.map(function (d) { return d.errors; }) },
        { name: box.getAttribute("data-rows"), type: "line", yAxisIndex: 1, smooth: true,
          itemStyle: { color: "#e6a700" }, data: series.map(function (d) { return d.rows; }) }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  var box = document.getElementById("gw-usage-chart");
  if (box) drawUsage(box);
})();
