// The signal change page's chart: candles, entry/stop/target, exit and MAE/MFE.
(function () {
  "use strict";
  const box = document.getElementById("signal-chart");
  if (!box) return;
  const LC = window.LightweightCharts;
  const legend = document.getElementById("signal-chart-legend");
  const sized = window.AlphaForgeCharts.sized;
  const fit = window.AlphaForgeCharts.fit;

  function line(series, price, color, title, style) {
    if (price === null) return;
    series.createPriceLine({price: price, color: color, lineWidth: 2,
      lineStyle: style, axisLabelVisible: true, title: title});
  }

  function draw(data) {
    const s = data.signal;
    if (!data.candles.length) {
      box.textContent = "No candles stored for " + s.pair + " " + s.timeframe + ".";
      box.classList.remove("chart-tall");
      return;
    }
    const chart = LC.createChart(box, sized(box, {
      timeScale: {timeVisible: true, secondsVisible: false,
        lockVisibleTimeRangeOnResize: true},
    }));
    const candles = chart.addSeries(LC.CandlestickSeries, {
      priceFormat: {type: "price", precision: s.precision,
        minMove: Math.pow(10, -s.precision)},
    });
    candles.setData(data.candles);
    const Style = LC.LineStyle;
    line(candles, s.entry_price, "#1f6feb", "entry", Style.Solid);
    line(candles, s.stop_loss, "#cf222e", "stop", Style.Solid);
    line(candles, s.take_profit, "#1a7f37", "target", Style.Solid);
    line(candles, s.exit_price, "#6e7781", "exit", Style.Dashed);
    line(candles, s.mae_price, "#fb8f44", "MAE", Style.Dotted);
    line(candles, s.mfe_price, "#2da44e", "MFE", Style.Dotted);
    const buy = s.direction === "buy";
    const markers = [{time: s.time, position: buy ? "belowBar" : "aboveBar",
      color: "#1f6feb", shape: buy ? "arrowUp" : "arrowDown", text: s.direction}];
    if (s.exit_time !== null) {
      markers.push({time: s.exit_time, position: buy ? "aboveBar" : "belowBar",
        color: s.outcome === "win" ? "#1a7f37" : "#cf222e", shape: "circle",
        text: "exit"});
    }
    LC.createSeriesMarkers(candles, markers);
    // Room on both sides, so the markers of the first and last candles show.
    fit(chart, {from: -3, to: data.candles.length + 8});
    const parts = [
      ["status", s.status + " / " + s.outcome],
      ["pips", s.pips],
      ["MAE", s.mae_pips === null ? null : s.mae_pips + " pips"],
      ["MFE", s.mfe_pips === null ? null : s.mfe_pips + " pips"],
      ["candles", data.candles.length],
    ];
    legend.replaceChildren(...parts.map(function (part) {
      const item = document.createElement("span");
      item.textContent = part[0] + ": " + (part[1] === null ? "–" : part[1]);
      return item;
    }));
  }

  fetch(box.dataset.url, {credentials: "same-origin",
    headers: {Accept: "application/json"}})
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(draw)
    .catch(function (error) { box.textContent = "Chart unavailable: " + error.message; });
})();
