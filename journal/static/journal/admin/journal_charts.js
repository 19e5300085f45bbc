// One user's journal: equity, drawdown and the R-multiple histogram.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("journal-data").textContent);
  const LC = window.LightweightCharts;
  const sized = window.AlphaForgeCharts.sized;
  const fit = window.AlphaForgeCharts.fit;
  function timeChart(id) {
    const box = document.getElementById(id);
    return LC.createChart(box, sized(box, {timeScale: {timeVisible: true,
      secondsVisible: false, lockVisibleTimeRangeOnResize: true}}));
  }

  const equity = timeChart("equity-chart");
  equity.addSeries(LC.BaselineSeries, {baseValue: {type: "price", price: 0},
    title: "equity"}).setData(data.equity);
  fit(equity);

  const drawdown = timeChart("drawdown-chart");
  drawdown.addSeries(LC.BaselineSeries, {baseValue: {type: "price", price: 0},
    bottomLineColor: "#cf222e", bottomFillColor1: "rgba(207,34,46,0.05)",
    bottomFillColor2: "rgba(207,34,46,0.4)", title: "drawdown"})
    .setData(data.drawdown);
  fit(drawdown);

  const rBox = document.getElementById("r-chart");
  // The horizontal axis is the bucket's lower bound in R, one decimal.
  const r = LC.createOptionsChart(rBox, sized(rBox, {localization: {precision: 1}}));
  r.addSeries(LC.HistogramSeries, {title: "trades",
    priceFormat: {type: "price", precision: 0, minMove: 1}})
    .setData(data.r_histogram.map(function (bar) {
      return {time: bar.time, value: bar.value,
        color: bar.time < 0 ? "#cf222e" : "#1a7f37"};
    }));
  fit(r);
})();
