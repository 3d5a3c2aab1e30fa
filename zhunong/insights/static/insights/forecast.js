/* The demand forecast chart: recent daily demand, the forecast and its interval as a shaded band.
   Data comes from the page's json_script element; nothing is fetched, no inline script (CSP). */
(function () {
  "use strict";

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-forecast-chart"));
    if (!source || typeof echarts === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var band = spec.hi.map(function (hi, i) { return hi === null ? null : Math.max(0, hi - spec.lo[i]); });
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      color: ["#555", "#c8102e"],
      tooltip: { trigger: "axis", confine: true },
      legend: { top: 0, data: ["实际", "预测"] },
      grid: { left: 8, right: 12, top: 30, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: spec.x, boundaryGap: false },
      yAxis: { type: "value", min: 0 },
      series: [
        { name: "实际", type: "line", data: spec.history, showSymbol: false },
        { name: "区间下限", type: "line", data: spec.lo, stack: "band", lineStyle: { opacity: 0 }, showSymbol: false,
          tooltip: { show: false } },
        { name: "区间", type: "line", data: band, stack: "band", lineStyle: { opacity: 0 }, showSymbol: false,
          areaStyle: { color: "rgba(200,16,46,0.18)" }, tooltip: { show: false } },
        { name: "预测", type: "line", data: spec.mean, showSymbol: false, lineStyle: { type: "dashed" } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-forecast-chart]"), draw);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
