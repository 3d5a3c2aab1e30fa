// Draws the office's evidence charts with ECharts from the page's json_script data (no inline scripts: CSP).
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("office-chart-data");
    if (!source || !window.echarts) return;
    var data = JSON.parse(source.textContent);
    var charts = [];
    var specs = {
      viewers: {
        title: { text: "在线人数：上报 vs 心跳", textStyle: { fontSize: 13 } },
        tooltip: { trigger: "axis" }, legend: { top: 22 }, grid: { left: 40, right: 10, top: 55, bottom: 30 },
        xAxis: { type: "category", data: data.minutes }, yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: "上报在线", type: "line", data: data.reported, showSymbol: false },
          { name: "心跳在线会话", type: "line", data: data.alive, showSymbol: false },
          { name: "其中被标记", type: "line", data: data.alive_flagged, showSymbol: false }
        ]
      },
      orders: {
        title: { text: "每分钟下单", textStyle: { fontSize: 13 } },
        tooltip: { trigger: "axis" }, legend: { top: 22 }, grid: { left: 40, right: 10, top: 55, bottom: 30 },
        xAxis: { type: "category", data: data.minutes }, yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: "全部订单", type: "bar", data: data.orders },
          { name: "被标记订单", type: "bar", data: data.orders_flagged }
        ]
      },
      ages: {
        title: { text: "下单账号注册时长", textStyle: { fontSize: 13 } },
        tooltip: { trigger: "axis" }, legend: { top: 22 }, grid: { left: 40, right: 10, top: 55, bottom: 30 },
        xAxis: { type: "category", data: data.age_labels }, yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: "全部订单", type: "bar", data: data.ages },
          { name: "被标记", type: "bar", data: data.ages_flagged }
        ]
      }
    };
    document.querySelectorAll("[data-office-chart]").forEach(function (node) {
      var spec = specs[node.getAttribute("data-office-chart")];
      if (!spec) return;
      var chart = window.echarts.init(node);
      chart.setOption(spec);
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
