// The performance page's charts: calibration and cumulative pips.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("performance-data").textContent);
  const LC = window.LightweightCharts;
  const base = {autoSize: true, layout: {attributionLogo: true}};

  const calibration = LC.createOptionsChart(document.getElementById("calibration-chart"), {
    ...base,
    leftPriceScale: {visible: true},
    rightPriceScale: {visible: true},
  });
  calibration.addSeries(LC.HistogramSeries, {priceScaleId: "left",
    color: "rgba(31,111,235,0.25)", title: "decided"})
    .setData(data.calibration.map(function (b) {
      return {time: b.confidence, value: b.signals};
    }));
  calibration.addSeries(LC.LineSeries, {color: "#8c959f", lineStyle: LC.LineStyle.Dashed,
    lineWidth: 1, title: "perfect", lastValueVisible: false})
    .setData([{time: 0, value: 0}, {time: 100, value: 100}]);
  calibration.addSeries(LC.LineSeries, {color: "#1a7f37", lineWidth: 2,
    pointMarkersVisible: true, title: "win rate %"})
    .setData(data.calibration.filter(function (b) { return b.win_rate !== null; })
      .map(function (b) { return {time: b.confidence, value: b.win_rate * 100}; }));
  calibration.timeScale().fitContent();

  const pips = LC.createChart(document.getElementById("pips-chart"), base);
  pips.addSeries(LC.BaselineSeries, {baseValue: {type: "price", price: 0},
    title: "cumulative pips"}).setData(data.cumulative_pips);
  pips.timeScale().fitContent();
})();
