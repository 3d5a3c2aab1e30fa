/* Data-centre charts: ECharts (served from node_modules) draws each [data-chart] from the JSON that the
   page put in a json_script element; nothing is fetched and no inline script runs (CSP). */
(function () {
  "use strict";

  function lineOption(spec) {
    var series = spec.series.map(function (s, i) {
      var out = { name: s.name, type: spec.type, data: s.data, showSymbol: spec.x.length < 40 };
      if (i === 0 && spec.marks && spec.marks.length) {
        out.markLine = { symbol: "none", silent: true, label: { formatter: "{b}", fontSize: 10 },
          data: spec.marks.map(function (m) { return { name: m.label, xAxis: m.x }; }) };
      }
      if (i === 0 && spec.areas && spec.areas.length) {
        out.markArea = { silent: true, itemStyle: { color: "rgba(200,16,46,0.10)" }, label: { fontSize: 10 },
          data: spec.areas.map(function (a) { return [{ name: a.label, xAxis: a.from }, { xAxis: a.to }]; }) };
      }
      return out;
    });
    return {
      color: ["#c8102e", "#2e7d32", "#b26a00", "#1565c0"],
      tooltip: { trigger: "axis", confine: true },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 12, top: 30, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: spec.x, boundaryGap: spec.type === "bar" },
      yAxis: { type: "value" },
      dataZoom: spec.x.length > 60 ? [{ type: "inside" }] : [],
      series: series
    };
  }

  function funnelOption(spec) {
    var data = spec.x.map(function (name, i) { return { name: name, value: spec.series[0].data[i] }; });
    return {
      color: ["#c8102e", "#e0576d", "#f3a3b0"],
      tooltip: { trigger: "item", confine: true },
      series: [{ type: "funnel", sort: "none", left: "5%", width: "90%", minSize: "8%",
        label: { show: true, position: "inside", formatter: "{b}\n{c}" }, data: data }]
    };
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source || typeof echarts === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(spec.type === "funnel" ? funnelOption(spec) : lineOption(spec));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
