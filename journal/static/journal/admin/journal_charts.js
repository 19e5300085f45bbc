// One user's journal: equity, drawdown and the R-multiple histogram.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("journal-data").textContent);
  const LC = window.LightweightCharts;
  const base = {autoSize: true, layout: {attributionLogo: true},
    timeScale: {timeVisible: true, secondsVisible: false}};

  const equity = LC.createChart(document.getElementById("equity-chart"), base);
  equity.addSeries(LC.BaselineSeries, {baseValue: {type: "price", price: 0},
    title: "equity"}).setData(data.equity);
  equity.timeScale().fitContent();

  const drawdown = LC.createChart(document.getElementById("drawdown-chart"), base);
  drawdown.addSeries(LC.AreaSeries, {lineColor: "#cf222e",
    topColor: "rgba(207,34,46,0.05)", bottomColor: "rgba(207,34,46,0.4)",
    invertFilledArea: true, title: "drawdown"}).setData(data.drawdown);
  drawdown.timeScale().fitContent();

  const r = LC.createOptionsChart(document.getElementById("r-chart"),
    {autoSize: true, layout: {attributionLogo: true}});
  r.addSeries(LC.HistogramSeries, {title: "trades",
    priceFormat: {type: "price", precision: 0, minMove: 1}})
    .setData(data.r_histogram.map(function (bar) {
      return {time: bar.time, value: bar.value,
        color: bar.time < 0 ? "#cf222e" : "#1a7f37"};
    }));
  r.timeScale().fitContent();
})();
