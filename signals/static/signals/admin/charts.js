// Shared by the admin's chart pages (signals and journal).
window.AlphaForgeCharts = (function () {
  "use strict";
  // Charts get their box's size at creation, so fitting the content works at once
  // (autoSize learns the size only later, from a ResizeObserver); they follow
  // resizes afterwards.
  function sized(box, options) {
    return Object.assign({width: box.clientWidth, height: box.clientHeight,
      layout: {attributionLogo: true},
      timeScale: {lockVisibleTimeRangeOnResize: true}}, options);
  }
  function fit(chart, range) {
    if (range) chart.timeScale().setVisibleLogicalRange(range);
    else chart.timeScale().fitContent();
    chart.applyOptions({autoSize: true});
  }
  return {sized: sized, fit: fit};
})();
