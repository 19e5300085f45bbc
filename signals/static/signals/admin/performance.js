// The performance page's charts: calibration and cumulative pips.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("performance-data").textContent);
  const LC = window.LightweightCharts;
  const sized = window.AlphaForgeCharts.sized;
  const fit = window.AlphaForgeCharts.fit;

  const calibrationBox = document.getElementById("calibration-chart");
  const calibration = LC.createOptionsChart(calibrationBox, sized(calibrationBox, {
    leftPriceScale: {visible: true},
    rightPriceScale: {visible: true},
  }));
  // One point per bucket centre in every series: the chart spaces points by rank.
  const quiet = {lastValueVisible: false, priceLineVisible: false};
  calibration.addSeries(LC.HistogramSeries, {...quiet, priceScaleId: "left",
    color: "rgba(31,111,235,0.25)"})
    .setData(data.calibration.map(function (b) {
      return {time: b.confidence, value: b.signals};
    }));
  calibration.addSeries(LC.LineSeries, {...quiet, color: "#8c959f",
    lineStyle: LC.LineStyle.Dashed, lineWidth: 1})
    .setData(data.calibration.map(function (b) {
      return {time: b.confidence, value: b.confidence};
    }));
  calibration.addSeries(LC.LineSeries, {...quiet, color: "#1a7f37", lineWidth: 2,
    pointMarkersVisible: true})
    .setData(data.calibration.filter(function (b) { return b.win_rate !== null; })
      .map(function (b) { return {time: b.confidence, value: b.win_rate * 100}; }));
  fit(calibration);

  const pipsBox = document.getElementById("pips-chart");
  const pips = LC.createChart(pipsBox, sized(pipsBox, {}));
  pips.addSeries(LC.BaselineSeries, {baseValue: {type: "price", price: 0},
    title: "cumulative pips"}).setData(data.cumulative_pips);
  fit(pips);
})();
