"""The backtest report as one self-contained HTML page (pure: no network, no Django).

Charts are drawn by TradingView's lightweight-charts, vendored under
signals/static/signals/vendor/lightweight-charts/ and inlined into the page, so the
file opens anywhere without a server or an internet connection.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from pathlib import Path
from typing import Any

VENDOR = (
    Path(__file__).resolve().parent.parent
    / "static/signals/vendor/lightweight-charts"
    / "lightweight-charts.standalone.production.js"
)
STAT_COLUMNS = (
    ("signals", "signals"),
    ("wins", "wins"),
    ("losses", "losses"),
    ("expired", "expired"),
    ("win_rate", "win rate"),
    ("expectancy_r", "expectancy (R)"),
    ("profit_factor", "profit factor"),
    ("total_pips", "pips"),
    ("max_drawdown_pips", "max drawdown (pips)"),
    ("brier_score", "Brier"),
    ("base_rate_brier", "base-rate Brier"),
    ("brier_skill_score", "skill score"),
    ("calibration_error", "ECE (points)"),
)

_SCRIPT = """
const data = JSON.parse(document.getElementById('report-data').textContent);
const LC = window.LightweightCharts;
const size = {height: 280, layout: {attributionLogo: true}};
const equity = LC.createChart(document.getElementById('equity'), size);
equity.addSeries(LC.LineSeries, {color: '#1f6feb', title: 'cumulative pips'})
  .setData(data.equity);
equity.timeScale().fitContent();
const drawdown = LC.createChart(document.getElementById('drawdown'), size);
drawdown.addSeries(LC.AreaSeries, {lineColor: '#cf222e',
  topColor: 'rgba(207,34,46,0.05)', bottomColor: 'rgba(207,34,46,0.4)',
  title: 'drawdown (pips)'}).setData(data.drawdown);
drawdown.timeScale().fitContent();
const calibration = LC.createOptionsChart(document.getElementById('calibration'), size);
calibration.addSeries(LC.LineSeries, {color: '#8c959f', lineStyle: 2,
  title: 'perfect calibration'}).setData(data.ideal);
calibration.addSeries(LC.LineSeries, {color: '#1a7f37', title: 'observed win rate %'})
  .setData(data.observed);
calibration.timeScale().fitContent();
"""


def _number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _row(label: str, stats: dict[str, Any], extra: list[str]) -> str:
    cells = [html.escape(label), *extra]
    values = {**stats, **(stats.get("calibration") or {})}
    cells += [_number(values.get(key)) for key, _ in STAT_COLUMNS]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _table(report: dict[str, Any]) -> str:
    head = ["period", "from", "to", "params", "in-sample expectancy (R)"]
    head += [title for _, title in STAT_COLUMNS]
    rows = [_row("overall", report["overall"], ["", "", "", ""])]
    for number, fold in enumerate(report["folds"]):
        params = ", ".join(f"{k}={v}" for k, v in fold["params"].items()) or "default"
        in_sample = fold.get("in_sample") or {}
        extra = [
            html.escape(fold["from"]),
            html.escape(fold["to"]),
            html.escape(params),
            _number(in_sample.get("expectancy_r")),
        ]
        rows.append(_row(f"fold {number + 1}", fold, extra))
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return f"<table><tr>{header}</tr>{''.join(rows)}</table>"


def _series(report: dict[str, Any]) -> dict[str, list[dict[str, float]]]:
    """Chart points: one per closing time (the chart needs increasing times)."""
    equity: dict[int, float] = {}
    drawdown: dict[int, float] = {}
    total = peak = 0.0
    resolved = [t for t in report["trades"] if t["status"] in ("closed", "expired")]
    for t in sorted(resolved, key=lambda t: (t["closed_at"], t["timestamp"])):
        when = int(datetime.fromisoformat(t["closed_at"]).timestamp())
        total += t["pips"]
        peak = max(peak, total)
        equity[when], drawdown[when] = total, total - peak
    buckets = report["overall"]["calibration"]["buckets"]
    observed = [
        {"time": b["min_confidence"] + 5, "value": 100 * b["win_rate"]}
        for b in buckets
        if b["win_rate"] is not None
    ]
    return {
        "equity": [{"time": k, "value": v} for k, v in equity.items()],
        "drawdown": [{"time": k, "value": v} for k, v in drawdown.items()],
        "observed": observed,
        "ideal": [{"time": x, "value": x} for x in range(5, 100, 10)],
    }


def report_html(report: dict[str, Any], *, title: str) -> str:
    """The page: summary, per-fold table, equity, drawdown and calibration charts."""
    data = json.dumps(_series(report)).replace("</", "<\\/")
    library = VENDOR.read_text(encoding="utf-8")
    look = report["lookahead"]
    warmup = ", ".join(f"{k} {_number(v)}" for k, v in report["warmup"].items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #1f2328; }}
table {{ border-collapse: collapse; font-size: 0.85rem; }}
td, th {{ border: 1px solid #d0d7de; padding: 0.25rem 0.5rem; text-align: right; }}
.chart {{ max-width: 960px; margin-bottom: 1.5rem; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Lookahead audit: {look["mismatches"]} mismatches in {look["checked"]} signals.
Warm-up audit (largest relative change, window of SIGNAL_LOOKBACK vs twice as long):
{html.escape(warmup)}.</p>
{_table(report)}
<h2>Equity (cumulative pips)</h2><div id="equity" class="chart"></div>
<h2>Drawdown (pips)</h2><div id="drawdown" class="chart"></div>
<h2>Reliability diagram: observed win rate by confidence bucket (%), each fold's
confidence calibrated on the outcomes resolved before it</h2>
<div id="calibration" class="chart"></div>
<script id="report-data" type="application/json">{data}</script>
<script>{library}</script>
<script>{_SCRIPT}</script>
</body></html>
"""
