/* Sensing pages: the device map over the districts, and a device's charts.
   Apache ECharts (vendored, served locally). No inline script: data comes from data-*
   attributes and the JSON API. Tooltips render as rich text (no inline styles: CSP). */
(function () {
  "use strict";
  var COLORS = { online: "#1a7f4b", offline: "#8a96a3", fault: "#c8161d", maintenance: "#d98a00" };
  var STATUSES = ["online", "offline", "fault", "maintenance"];

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(url + ": HTTP " + r.status); } return r.json(); });
  }

  function deviceMap(el) {
    var chart = echarts.init(el);
    Promise.all([getJSON(el.dataset.regions), getJSON(el.dataset.devices)]).then(function (res) {
      var regions = res[0], devices = res[1];
      var nameProp = el.dataset.nameProp || "name_zh";
      regions.features.forEach(function (f) { f.properties.name = f.properties[nameProp] || f.properties.name_zh; });
      echarts.registerMap("city", regions);
      var series = STATUSES.map(function (status) {
        return {
          name: el.dataset["label" + status.charAt(0).toUpperCase() + status.slice(1)] || status,
          type: "scatter",
          coordinateSystem: "geo",
          symbolSize: status === "online" ? 7 : 9,
          itemStyle: { color: COLORS[status], borderColor: "#fff", borderWidth: 1 },
          data: devices.features.filter(function (f) { return f.properties.status === status; })
            .map(function (f) {
              return { name: f.properties.name, value: f.geometry.coordinates, code: f.properties.code };
            })
        };
      });
      chart.setOption({
        tooltip: { trigger: "item", renderMode: "richText",
          formatter: function (p) { return p.seriesType === "scatter" ? p.name + "\n" + p.data.code + " · " + p.seriesName : p.name; } },
        legend: { bottom: 4, data: series.map(function (s) { return s.name; }) },
        geo: { map: "city", roam: true, top: 10, bottom: 40,
          label: { show: true, fontSize: 11, color: "#3b4a5a" },
          itemStyle: { areaColor: "#eef3fa", borderColor: "#7d94b5" },
          emphasis: { itemStyle: { areaColor: "#dbe7f7" }, label: { color: "#062c5f" } } },
        series: series
      });
      chart.on("click", function (p) { if (p.data && p.data.code) { window.location.href = "/sensing/devices/" + encodeURIComponent(p.data.code); } });
      el.dataset.ready = String(devices.features.length);
    }).catch(function (err) { el.textContent = String(err); });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function metricChart(el) {
    var to = new Date(), from = new Date(to.getTime() - 24 * 3600 * 1000);
    var url = "/api/v1/telemetry/query?metric=" + encodeURIComponent(el.dataset.metric) +
      "&device=" + encodeURIComponent(el.dataset.device) + "&bucket=5m&agg=avg" +
      "&from=" + encodeURIComponent(from.toISOString()) + "&to=" + encodeURIComponent(to.toISOString());
    getJSON(url).then(function (res) {
      var points = res.series.length ? res.series[0].points : [];
      var chart = echarts.init(el);
      chart.setOption({
        title: { text: el.dataset.title + (el.dataset.unit ? " (" + el.dataset.unit + ")" : ""), textStyle: { fontSize: 13 } },
        grid: { left: 52, right: 16, top: 34, bottom: 28 },
        tooltip: { trigger: "axis", renderMode: "richText" },
        xAxis: { type: "time" },
        yAxis: { type: "value", scale: true },
        graphic: points.length ? [] : [{ type: "text", left: "center", top: "middle", style: { text: el.dataset.empty, fill: "#8a96a3" } }],
        series: [{ type: "line", showSymbol: false, lineStyle: { width: 1.5 }, areaStyle: { opacity: 0.08 },
          data: points.map(function (p) { return [p.t, p.v]; }) }]
      });
      el.dataset.ready = String(points.length);
      window.addEventListener("resize", function () { chart.resize(); });
    }).catch(function (err) { el.textContent = String(err); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var map = document.getElementById("device-map");
    if (map) { deviceMap(map); }
    Array.prototype.forEach.call(document.querySelectorAll(".chart[data-metric]"), metricChart);
  });
})();
