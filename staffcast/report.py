"""One self-contained HTML report a planner reads, built from a plan or what-if folder.

A plan folder is what `staffcast plan` writes (forecast, coverage, roster, activities,
summary, recent history and the calendar). A what-if folder holds `comparison.csv` (one
row per scenario, base first) and one plan folder per scenario; its report shows one
scenario in detail (the base unless asked) plus bars comparing all of them.

The page embeds plotly's JavaScript once, so it opens without a network. Charts:
history and forecast with 80/95 % intervals and promotion windows shaded; required vs
scheduled agents per interval; a service-level heat map (day x hour); a roster Gantt of
one day; and, for a what-if folder, the scenario comparison. A capacity folder (from
`staffcast capacity`, holding capacity.csv) gets its own page: supply by cohort stacked
against the required hours per week with the hiring plan marked, and its scenarios.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from staffcast.scheduler.export import atomic_write_text
from staffcast.errors import StaffcastError
from staffcast.tableio.reader import read_table

PLAN_INPUTS: dict[str, tuple[str, ...]] = {
    "forecast.csv": ("unique_id", "ds", "yhat", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95",
                     "yhat_hi_95"),
    "history.csv": ("unique_id", "ds", "y"),
    "coverage.csv": ("unique_id", "ds", "required", "scheduled", "shortfall", "service_level"),
    "roster.csv": ("agent_id", "date", "shift_start", "shift_end", "queue"),
    "activities.csv": ("agent_id", "start", "end", "activity"),
}
"""CSV files a plan folder must hold, with the columns the report reads from each."""
CALENDAR_COLUMNS = ("event", "start", "end", "kind")
SUMMARY_FILE = "summary.json"
COMPARISON_FILE = "comparison.csv"
COMPARISON_METRICS = (
    ("agents_peak", "Agents at peak", ",.0f"),
    ("paid_hours", "Paid hours", ",.0f"),
    ("labour_cost", "Labour cost", ",.0f"),
    ("sl_daily_min", "Lowest daily SL", ".1%"),
    ("sl_worst_interval", "Worst interval SL", ".1%"),
    ("abandon_rate", "Abandonment", ".1%"),
    ("shortfall_agent_hours", "Shortfall (agent-hours)", ",.0f"),
)
"""comparison.csv columns drawn as bars: (column, title, d3 number format)."""
ACTIVITY_COLOURS = {"WORK": "#2e7d32", "BREAK": "#f9a825", "LUNCH": "#ef6c00"}
QUEUE_COLOURS = ("#1565c0", "#6a1b9a", "#00838f", "#ad1457", "#4e342e", "#37474f")
_PLOT_CONFIG = {"responsive": True, "displaylogo": False}
_TEXT_COLUMNS = frozenset({"unique_id", "agent_id", "queue", "activity", "model", "event",
                           "kind", "date", "scenario"})


class ReportInputError(StaffcastError):
    """A report input is missing or malformed; the message names the folder/file and value."""


@dataclass(frozen=True)
class PlanFolder:
    """The tables of one plan folder, `ds`/time columns parsed as naive local time."""

    path: Path
    summary: dict[str, Any]
    forecast: pd.DataFrame
    history: pd.DataFrame
    calendar: pd.DataFrame
    coverage: pd.DataFrame
    roster: pd.DataFrame
    activities: pd.DataFrame


@dataclass(frozen=True)
class Report:
    """A built report: the HTML text, the chart ids in page order and the Gantt day."""

    html: str
    charts: tuple[str, ...]
    day: dt.date
    scenario: str | None


def _numbers(frame: pd.DataFrame, path: Path, column: str) -> pd.Series:
    """Column `column` as float64 (blank cells NaN); anything else is an error naming the
    file, the data row and the value."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ReportInputError(f"{path}: data row {i + 1}, column {column!r}: must be a "
                               f"number, got {frame[column].iloc[i]!r}")
    return values.astype(float)


def _read_csv(folder: Path, name: str, columns: Sequence[str],
              times: Sequence[str] = ()) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        raise ReportInputError(f"{folder}: missing {name} (not a plan folder?)")
    frame = read_table(path, name, error=ReportInputError, required=columns, text=False).frame
    for column in times:
        parsed = pd.to_datetime(frame[column], errors="coerce", format="mixed")
        bad = parsed.isna() & frame[column].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ReportInputError(f"{path}: data row {i + 1}, column {column!r}: cannot read "
                                   f"{frame[column].iloc[i]!r} as a date/time")
        frame[column] = parsed
    for column in columns:
        if column not in times and column not in _TEXT_COLUMNS:
            frame[column] = _numbers(frame, path, column)
    if "unique_id" in frame.columns:
        frame["unique_id"] = frame["unique_id"].astype("string")
    return frame


def load_plan(folder: str | Path) -> PlanFolder:
    """Read a plan folder; a missing file raises ReportInputError naming folder and file.

    `calendar.csv` is optional (no promotion shading without it); every other input is
    required.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportInputError(f"{folder}: not a folder")
    summary_path = folder / SUMMARY_FILE
    if not summary_path.is_file():
        raise ReportInputError(f"{folder}: missing {SUMMARY_FILE} (not a plan folder?)")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"{summary_path}: not valid JSON: {exc}") from exc
    if not isinstance(summary, dict):
        raise ReportInputError(f"{summary_path}: must hold a JSON object, got "
                               f"{type(summary).__name__}")
    tables = {
        "forecast": _read_csv(folder, "forecast.csv", PLAN_INPUTS["forecast.csv"], ("ds",)),
        "history": _read_csv(folder, "history.csv", PLAN_INPUTS["history.csv"], ("ds",)),
        "coverage": _read_csv(folder, "coverage.csv", PLAN_INPUTS["coverage.csv"], ("ds",)),
        "roster": _read_csv(folder, "roster.csv", PLAN_INPUTS["roster.csv"],
                            ("shift_start", "shift_end")),
        "activities": _read_csv(folder, "activities.csv", PLAN_INPUTS["activities.csv"],
                                ("start", "end")),
    }
    if (folder / "calendar.csv").is_file():
        calendar = _read_csv(folder, "calendar.csv", CALENDAR_COLUMNS, ("start", "end"))
        if "end_excl" in calendar.columns:
            calendar["end_excl"] = pd.to_datetime(calendar["end_excl"], errors="coerce",
                                                  format="mixed")
    else:
        calendar = pd.DataFrame(columns=list(CALENDAR_COLUMNS))
    if tables["coverage"].empty:
        raise ReportInputError(f"{folder / 'coverage.csv'}: no data rows")
    return PlanFolder(path=folder, summary=summary, calendar=calendar, **tables)


def load_comparison(folder: str | Path) -> pd.DataFrame | None:
    """comparison.csv of a what-if folder (base first), or None for a plan folder."""
    path = Path(folder) / COMPARISON_FILE
    if not path.is_file():
        return None
    frame = _read_csv(Path(folder), COMPARISON_FILE, ("scenario",))
    if frame.empty:
        raise ReportInputError(f"{path}: no data rows")
    frame["scenario"] = frame["scenario"].astype(str)
    present = [c for c, _, _ in COMPARISON_METRICS if c in frame.columns]
    if not present:
        raise ReportInputError(f"{path}: none of the metric columns "
                               f"{', '.join(c for c, _, _ in COMPARISON_METRICS)}")
    for column in present:
        frame[column] = _numbers(frame, path, column)
    return frame


def busiest_day(coverage: pd.DataFrame) -> dt.date:
    """The date with the most required agent-intervals (all queues summed)."""
    by_day = coverage.groupby(coverage["ds"].dt.date)["required"].sum()
    return by_day.idxmax()


def _promotion_windows(calendar: pd.DataFrame, queue: str, lo: pd.Timestamp,
                       hi: pd.Timestamp) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """(event, start, end) of promotions touching [lo, hi] that apply to `queue`."""
    if calendar.empty:
        return []
    rows = calendar[calendar["kind"].astype(str).str.strip().str.lower() == "promotion"]
    if "unique_id" in rows.columns:
        uid = rows["unique_id"].astype("string").fillna("").str.strip()
        rows = rows[(uid == "") | (uid == queue)]
    windows = []
    for _, row in rows.iterrows():
        start = row["start"]
        # end_excl is the exclusive end the plan computed; a bare date `end` means the
        # whole day, so shade to the next midnight.
        end = row.get("end_excl")
        if end is None or pd.isna(end):
            end = row["end"]
            if end == end.normalize():
                end = end + pd.Timedelta(days=1)
        if end > lo and start < hi:
            windows.append((str(row["event"]), max(start, lo), min(end, hi)))
    return windows


def forecast_figure(plan: PlanFolder) -> go.Figure:
    """History and forecast per queue with 80/95 % bands and promotion windows shaded."""
    queues = sorted(set(plan.forecast["unique_id"]) | set(plan.history["unique_id"]))
    fig = make_subplots(rows=len(queues), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[f"queue {q}" for q in queues])
    for row, queue in enumerate(queues, start=1):
        hist = plan.history[plan.history["unique_id"] == queue].sort_values("ds")
        fc = plan.forecast[plan.forecast["unique_id"] == queue].sort_values("ds")
        first = row == 1
        for level, alpha in (("95", 0.15), ("80", 0.3)):
            fig.add_trace(go.Scatter(x=fc["ds"], y=fc[f"yhat_hi_{level}"], mode="lines",
                                     line={"width": 0}, hoverinfo="skip", showlegend=False,
                                     legendgroup=level), row=row, col=1)
            fig.add_trace(go.Scatter(x=fc["ds"], y=fc[f"yhat_lo_{level}"], mode="lines",
                                     line={"width": 0}, fill="tonexty",
                                     fillcolor=f"rgba(21,101,192,{alpha})",
                                     name=f"{level}% interval", legendgroup=level,
                                     showlegend=first), row=row, col=1)
        fig.add_trace(go.Scatter(x=hist["ds"], y=hist["y"], mode="lines", name="history",
                                 line={"color": "#424242", "width": 1}, legendgroup="hist",
                                 showlegend=first), row=row, col=1)
        fig.add_trace(go.Scatter(x=fc["ds"], y=fc["yhat"], mode="lines", name="forecast",
                                 line={"color": "#1565c0", "width": 1.5}, legendgroup="fc",
                                 showlegend=first), row=row, col=1)
        times = pd.concat([hist["ds"], fc["ds"]])
        if times.empty:
            continue
        windows = _promotion_windows(plan.calendar, queue, times.min(), times.max())
        for i, (event, start, end) in enumerate(windows):
            # Label each window once, in the top panel (the shading alone repeats below),
            # one line lower per window so back-to-back windows' names do not overprint.
            label = ({"annotation_text": event, "annotation_font_size": 10,
                      "annotation_position": "top left", "annotation_yshift": -12 * i}
                     if first else {})
            fig.add_vrect(x0=start, x1=end, fillcolor="#ffb300", opacity=0.18, line_width=0,
                          row=row, col=1, **label)
    fig.update_yaxes(title_text="contacts / interval", rangemode="tozero")
    fig.update_layout(height=260 * len(queues) + 80, hovermode="x unified",
                      legend={"orientation": "h", "y": 1.08})
    return fig


def coverage_figure(plan: PlanFolder) -> go.Figure:
    """Required vs scheduled agents per interval, one panel per queue."""
    queues = sorted(plan.coverage["unique_id"].unique())
    fig = make_subplots(rows=len(queues), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[f"queue {q}" for q in queues])
    for row, queue in enumerate(queues, start=1):
        cov = plan.coverage[plan.coverage["unique_id"] == queue].sort_values("ds")
        first = row == 1
        fig.add_trace(go.Scatter(x=cov["ds"], y=cov["scheduled"], mode="lines",
                                 line={"shape": "hv", "color": "#2e7d32", "width": 1.5},
                                 name="scheduled", legendgroup="s", showlegend=first),
                      row=row, col=1)
        fig.add_trace(go.Scatter(x=cov["ds"], y=cov["required"], mode="lines",
                                 line={"shape": "hv", "color": "#c62828", "width": 1.5,
                                       "dash": "dot"},
                                 name="required", legendgroup="r", showlegend=first),
                      row=row, col=1)
        short = cov["shortfall"].where(cov["shortfall"] > 0)
        fig.add_trace(go.Bar(x=cov["ds"], y=short, marker_color="rgba(198,40,40,0.35)",
                             name="shortfall", legendgroup="f", showlegend=first),
                      row=row, col=1)
    fig.update_yaxes(title_text="agents", rangemode="tozero")
    fig.update_layout(height=260 * len(queues) + 80, hovermode="x unified", bargap=0,
                      legend={"orientation": "h", "y": 1.08})
    return fig


def service_level_figure(plan: PlanFolder) -> go.Figure:
    """Heat map of planned service level, day (rows) x hour of day (columns), per queue.

    An hour's cell is the mean of its intervals' service_level (a fraction 0..1).
    """
    cov = plan.coverage.assign(day=plan.coverage["ds"].dt.normalize(),
                               hour=plan.coverage["ds"].dt.hour)
    queues = sorted(cov["unique_id"].unique())
    fig = make_subplots(rows=1, cols=len(queues), shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[f"queue {q}" for q in queues])
    for col, queue in enumerate(queues, start=1):
        grid = (cov[cov["unique_id"] == queue]
                .pivot_table(index="day", columns="hour", values="service_level",
                             aggfunc="mean")
                .sort_index())
        fig.add_trace(go.Heatmap(z=grid.to_numpy(), x=list(grid.columns),
                                 y=[f"{d:%a %Y-%m-%d}" for d in grid.index],
                                 zmin=0.0, zmax=1.0,
                                 colorscale="RdYlGn", showscale=col == len(queues),
                                 colorbar={"title": "SL", "tickformat": ".0%"},
                                 hovertemplate="%{y} %{x}:00<br>SL %{z:.1%}<extra></extra>"),
                      row=1, col=col)
    fig.update_xaxes(title_text="hour of day", dtick=3)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=360)
    return fig


def gantt_figure(plan: PlanFolder, day: dt.date) -> go.Figure:
    """Roster of `day`: one row per agent whose shift starts that day, coloured by activity.

    Raises ReportInputError when no shift starts on `day`.
    """
    roster = plan.roster[plan.roster["shift_start"].dt.date == day]
    if roster.empty:
        dates = plan.roster["shift_start"].dt.date
        span = f"{dates.min()}..{dates.max()}" if len(dates) else "no shifts"
        raise ReportInputError(f"--day {day}: no shift starts that day in "
                               f"{plan.path / 'roster.csv'} (it covers {span})")
    roster = roster.sort_values(["queue", "shift_start", "agent_id"])
    labels = {agent: f"{agent} ({queue})"
              for agent, queue in zip(roster["agent_id"], roster["queue"])}
    shifts = roster.set_index("agent_id")[["shift_start", "shift_end"]]
    acts = plan.activities.merge(shifts, left_on="agent_id", right_index=True)
    acts = acts[(acts["start"] >= acts["shift_start"]) & (acts["end"] <= acts["shift_end"])
                & acts["activity"].isin(list(ACTIVITY_COLOURS))]
    order = [labels[a] for a in roster["agent_id"]]
    fig = go.Figure()
    for activity, colour in ACTIVITY_COLOURS.items():
        part = acts[acts["activity"] == activity]
        if part.empty:
            continue
        length_ms = (part["end"] - part["start"]).dt.total_seconds() * 1000.0
        fig.add_trace(go.Bar(
            y=part["agent_id"].map(labels), x=length_ms, base=part["start"],
            orientation="h", marker_color=colour, name=activity.lower(),
            customdata=np.stack([part["start"].dt.strftime("%H:%M"),
                                 part["end"].dt.strftime("%H:%M")], axis=1),
            hovertemplate="%{y}<br>" + activity.lower()
                          + " %{customdata[0]}-%{customdata[1]}<extra></extra>"))
    start = pd.Timestamp(day)
    fig.update_xaxes(type="date", range=[start, max(acts["end"].max(), start + pd.Timedelta(
        days=1)) if not acts.empty else start + pd.Timedelta(days=1)], tickformat="%H:%M",
        dtick=2 * 3600 * 1000)
    # A day can hold a few hundred shifts: the time axis goes on top, where the eye starts.
    fig.update_xaxes(side="top")
    fig.update_yaxes(categoryorder="array", categoryarray=order[::-1],
                     tickfont={"size": 9})
    fig.update_layout(barmode="overlay", bargap=0.25, height=max(300, 11 * len(order) + 120))
    return fig


def comparison_figure(comparison: pd.DataFrame) -> go.Figure:
    """One bar panel per metric in comparison.csv, the base scenario first and grey."""
    metrics = [(c, t, f) for c, t, f in COMPARISON_METRICS
               if c in comparison.columns and comparison[c].notna().any()]
    cols = 4
    rows = math.ceil(len(metrics) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[t for _, t, _ in metrics],
                        vertical_spacing=0.18 if rows > 1 else 0.1, horizontal_spacing=0.08)
    names = comparison["scenario"].tolist()
    colours = ["#9e9e9e"] + [QUEUE_COLOURS[i % len(QUEUE_COLOURS)]
                             for i in range(len(names) - 1)]
    for i, (column, title, fmt) in enumerate(metrics):
        fig.add_trace(go.Bar(x=names, y=comparison[column], marker_color=colours,
                             texttemplate=f"%{{y:{fmt}}}", textposition="outside",
                             cliponaxis=False, showlegend=False,
                             hovertemplate=f"%{{x}}<br>{title} %{{y:{fmt}}}<extra></extra>"),
                      row=i // cols + 1, col=i % cols + 1)
        if fmt.endswith("%"):
            fig.update_yaxes(tickformat=".0%", row=i // cols + 1, col=i % cols + 1)
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(height=300 * rows + 60, margin={"t": 60})
    return fig


def _money(value: Any) -> str:
    return f"{value:,.2f}" if isinstance(value, (int, float)) else "n/a"


def _summary_html(summary: dict[str, Any], source: str) -> str:
    """The key figures of `summary.json`; `source` is HTML naming where they come from."""
    gap = summary.get("mip_gap")
    by_day = summary.get("service_level_by_day") or {}
    sl_values = [v for v in by_day.values() if isinstance(v, (int, float))]
    items = [
        ("status", html.escape(str(summary.get("status", "n/a")))
         + (f" ({html.escape(str(summary['solver']))})" if summary.get("solver") else "")),
        ("labour cost", _money(summary.get("labour_cost"))),
        ("paid hours", f"{summary['paid_hours']:,.1f}"
         if isinstance(summary.get("paid_hours"), (int, float)) else "n/a"),
        ("shortfall", f"{summary['shortfall_agent_hours']:,.1f} agent-hours"
         if isinstance(summary.get("shortfall_agent_hours"), (int, float)) else "n/a"),
        ("MIP gap", f"{gap:.2%}" if isinstance(gap, (int, float)) else "n/a"),
        ("lowest daily SL", f"{min(sl_values):.1%}" if sl_values else "n/a"),
    ]
    cells = "".join(f'<div class="kpi"><div class="k">{k}</div><div class="v">{v}</div></div>'
                    for k, v in items)
    message = summary.get("message")
    note = f'<p class="note">{html.escape(str(message))}</p>' if message else ""
    week = summary.get("week_start")
    head = source + (f", week starting {html.escape(str(week))}" if week else "")
    return f'<section id="summary"><p class="src">{head}</p><div class="kpis">{cells}</div>' \
           f"{note}</section>"


def _comparison_table(comparison: pd.DataFrame) -> str:
    shown = ["scenario"] + [c for c in ("status", "mip_gap") if c in comparison.columns] + [
        c for c, _, _ in COMPARISON_METRICS if c in comparison.columns]
    return comparison[shown].to_html(index=False, classes="cmp", na_rep="n/a",
                                     float_format=lambda v: f"{v:,.3f}", border=0)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
background:#fafafa;color:#212121}
main{max-width:1200px;box-sizing:border-box;margin:0 auto;padding:16px 24px 48px}
h1{font-size:1.5rem;margin:8px 0 4px}h2{font-size:1.15rem;margin:28px 0 4px}
.src,.cap{color:#616161;font-size:.9rem;margin:2px 0 8px}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.kpi{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:8px 14px;
min-width:140px}.k{font-size:.8rem;color:#757575}.v{font-size:1.15rem;font-weight:600}
.note{font-size:.85rem;color:#5d4037;background:#fff8e1;padding:6px 10px;border-radius:4px}
.chart{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:4px}
table.cmp{border-collapse:collapse;font-size:.85rem;margin:8px 0}
table.cmp td,table.cmp th{padding:3px 10px;border-bottom:1px solid #e0e0e0;text-align:right}
"""


def _section(chart_id: str, title: str, caption: str, fig: go.Figure) -> str:
    fig.update_layout(template="plotly_white", autosize=True,
                      margin={"l": 60, "r": 20, "t": 60, "b": 40}, font={"size": 12})
    div = pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=chart_id,
                      config=_PLOT_CONFIG)
    return (f'<section><h2>{html.escape(title)}</h2><p class="cap">{html.escape(caption)}'
            f'</p><div class="chart">{div}</div></section>')


def _parse_day(day: str | dt.date | None) -> dt.date | None:
    if day is None or isinstance(day, dt.date):
        return day
    try:
        return dt.date.fromisoformat(day)
    except ValueError as exc:
        raise ReportInputError(f"--day must be YYYY-MM-DD, got {day!r}") from exc


def build_report(folder: str | Path, day: str | dt.date | None = None,
                 scenario: str | None = None) -> Report:
    """Build the HTML report of a plan folder or a what-if folder.

    `day` picks the roster Gantt's day (default: the busiest day by required agents).
    `scenario` picks which what-if scenario is shown in detail (default: the base, the
    first row of comparison.csv); it is an error for a plan folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportInputError(f"{folder}: not a folder")
    if (folder / CAPACITY_FILE).is_file():
        if day is not None or scenario is not None:
            raise ReportInputError(f"{folder} is a capacity folder ({CAPACITY_FILE}): "
                                   "--day and --scenario do not apply")
        return build_capacity_report(folder)
    comparison = load_comparison(folder)
    if comparison is None:
        if scenario is not None:
            raise ReportInputError(f"--scenario {scenario!r}: {folder} is a plan folder, "
                                   f"not a what-if folder (no {COMPARISON_FILE})")
        plan_dir = folder
    else:
        names = comparison["scenario"].tolist()
        chosen = names[0] if scenario is None else scenario
        if chosen not in names:
            raise ReportInputError(f"--scenario {scenario!r}: not in {folder / COMPARISON_FILE}"
                                   f"; scenarios: {', '.join(names)}")
        plan_dir = folder / chosen
        if not plan_dir.is_dir():
            raise ReportInputError(f"{folder}: missing scenario folder {chosen}/ listed in "
                                   f"{COMPARISON_FILE}")
    plan = load_plan(plan_dir)
    gantt_day = _parse_day(day) or busiest_day(plan.coverage)

    shifts = int((plan.roster["shift_start"].dt.date == gantt_day).sum())
    sections: list[tuple[str, str, str, go.Figure]] = []
    if comparison is not None:
        sections.append(("chart-comparison", "Scenario comparison",
                         (f"{len(comparison)} scenarios from {COMPARISON_FILE}; the first "
                          "(grey) is the base."), comparison_figure(comparison)))
    sections += [
        ("chart-forecast", "History and forecast",
         ("Contacts per interval: recent history, the forecast and its 80 % / 95 % "
          "intervals; promotion windows shaded."), forecast_figure(plan)),
        ("chart-coverage", "Required vs scheduled agents",
         ("Agents needed by the Erlang model per interval against agents on the roster "
          "(working, not on break); bars show the shortfall."), coverage_figure(plan)),
        ("chart-sl", "Service level by day and hour",
         ("Planned service level (share of contacts answered within the target time) "
          "with the scheduled agents; hour = mean of its intervals."),
         service_level_figure(plan)),
        ("chart-gantt", f"Roster on {gantt_day:%A %Y-%m-%d}",
         (f"{shifts} shifts starting that day, grouped by queue, then by start; work, "
          "breaks and lunch."), gantt_figure(plan, gantt_day)),
    ]
    if comparison is None:
        title = "staffcast plan report"
        source = f"plan folder <code>{html.escape(str(plan_dir))}</code>"
    else:
        title = "staffcast what-if report"
        source = (f"scenario <b>{html.escape(plan_dir.name)}</b> in detail, from "
                  f"<code>{html.escape(str(plan_dir))}</code>")
    parts = [f"<h1>{title}</h1>", _summary_html(plan.summary, source)]
    if comparison is not None:
        parts.append(f'<div style="overflow-x:auto">{_comparison_table(comparison)}</div>')
    parts += [_section(*s) for s in sections]
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{title}</title><style>{_CSS}</style>"
            # plotly.js inline (what include_plotlyjs=True embeds), once for all charts,
            # so the file opens offline.
            f"<script type=\"text/javascript\">{get_plotlyjs()}</script></head>"
            f"<body><main>{''.join(parts)}</main></body></html>\n")
    return Report(html=page, charts=tuple(s[0] for s in sections), day=gantt_day,
                  scenario=None if comparison is None else plan_dir.name)


def write_report(folder: str | Path, out: str | Path, day: str | dt.date | None = None,
                 scenario: str | None = None) -> Report:
    """Build the report of `folder` and write it atomically to `out`."""
    report = build_report(folder, day=day, scenario=scenario)
    atomic_write_text(out, report.html)
    return report


# ---------------------------------------------------------------- capacity folders

CAPACITY_FILE = "capacity.csv"
CAPACITY_INPUTS: dict[str, tuple[str, ...]] = {
    "capacity.csv": ("week", "queue", "required_hours", "overtime_hours", "shortfall_hours",
                     "cost"),
    "hiring_plan.csv": ("cohort", "recruit_by", "start_training", "productive_from", "count"),
}
"""CSV files a capacity folder must hold, with the columns the report reads."""
SUPPLY_COLOURS = {"regular": "#1565c0", "new_hire": "#00838f", "temp": "#f9a825",
                  "outsourced": "#6a1b9a", "cloud": "#26a69a", "overtime": "#ef6c00"}
HIRE_SYMBOLS = {"new_hire": "triangle-up", "temp": "diamond", "outsourced": "square"}


def capacity_figure(weekly: pd.DataFrame, hiring: pd.DataFrame) -> go.Figure:
    """Productive hours by cohort stacked per week against the required hours (line), the
    shortfall on top in red, festival weeks shaded, and the hiring plan as markers above
    the bars at each group's start week."""
    total = weekly[weekly["queue"].astype(str) == "total"].sort_values("week")
    fig = go.Figure()
    x = total["week"]
    for cohort, colour in SUPPLY_COLOURS.items():
        column = "overtime_hours" if cohort == "overtime" else f"productive_hours_{cohort}"
        if column not in total.columns or not total[column].fillna(0).any():
            continue
        fig.add_trace(go.Bar(x=x, y=total[column], name=cohort.replace("_", " "),
                             marker_color=colour,
                             hovertemplate=f"{cohort} %{{y:,.0f}} h<extra></extra>"))
    fig.add_trace(go.Bar(x=x, y=total["shortfall_hours"], name="shortfall",
                         marker_color="#c62828", marker_pattern_shape="/",
                         hovertemplate="short %{y:,.0f} h<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=total["required_hours"], name="required",
                             mode="lines+markers", line={"color": "#212121", "width": 2},
                             hovertemplate="required %{y:,.0f} h<extra></extra>"))
    if "festivals" in total.columns:
        for week, names in zip(total["week"], total["festivals"].fillna("")):
            if names:
                fig.add_vrect(x0=week - pd.Timedelta(days=3.5), x1=week + pd.Timedelta(days=3.5),
                              fillcolor="#ffcdd2", opacity=0.35, line_width=0, layer="below")
    top = float(np.nanmax(np.r_[total["required_hours"].to_numpy(dtype=float), 1.0]))
    for i, (cohort, group) in enumerate(hiring.groupby("cohort", sort=False)):
        fig.add_trace(go.Scatter(
            x=group["start_training"], y=np.full(len(group), top * (1.08 + 0.06 * i)),
            mode="markers+text", name=f"start: {str(cohort).replace('_', ' ')}",
            marker={"symbol": HIRE_SYMBOLS.get(str(cohort), "circle"), "size": 12,
                    "color": SUPPLY_COLOURS.get(str(cohort), "#424242")},
            text=group["count"].astype(int).astype(str), textposition="middle right",
            customdata=np.c_[group["recruit_by"].dt.strftime("%Y-%m-%d"),
                             group["productive_from"].dt.strftime("%Y-%m-%d")],
            hovertemplate=(f"{cohort}: %{{text}}<br>recruit by %{{customdata[0]}}<br>start "
                           "%{x|%Y-%m-%d}<br>productive from %{customdata[1]}"
                           "<extra></extra>")))
    fig.update_layout(barmode="stack", height=520, legend={"orientation": "h", "y": -0.15},
                      yaxis_title="productive hours per week", xaxis_title="week (Monday)")
    return fig


def _capacity_kpis(summary: dict[str, Any], folder: Path) -> str:
    fest = summary.get("festival_weeks") or []
    covers = [w["cover"] for w in fest if isinstance(w.get("cover"), (int, float))]
    hires = summary.get("hires") or {}
    gap = summary.get("lp_gap")
    items = [
        ("status", html.escape(str(summary.get("status", "n/a")))
         + (f" ({html.escape(str(summary['solver']))})" if summary.get("solver") else "")),
        ("cost", _money(summary.get("cost"))),
        ("shortfall", f"{summary['shortfall_hours']:,.1f} h"
         if isinstance(summary.get("shortfall_hours"), (int, float)) else "n/a"),
        ("lowest festival-week cover", f"{min(covers):.1%}" if covers else "n/a"),
        ("hires (new / temp / blocks)", " / ".join(str(hires.get(k, 0)) for k in
                                                   ("new_hire", "temp", "outsourced"))),
        ("gap to LP bound", f"{gap:.2%}" if isinstance(gap, (int, float)) else "n/a"),
    ]
    cells = "".join(f'<div class="kpi"><div class="k">{k}</div><div class="v">{v}</div></div>'
                    for k, v in items)
    head = (f"capacity folder <code>{html.escape(str(folder))}</code>, "
            f"{html.escape(str(summary.get('weeks', '?')))} weeks from "
            f"{html.escape(str(summary.get('start', '?')))}")
    return f'<section id="summary"><p class="src">{head}</p><div class="kpis">{cells}</div>' \
           "</section>"


def build_capacity_report(folder: str | Path) -> Report:
    """The HTML report of a capacity folder: KPIs, the supply-vs-requirement chart with
    hiring markers, the hiring plan and, when present, the scenario comparison."""
    folder = Path(folder)
    summary_path = folder / SUMMARY_FILE
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportInputError(f"{folder}: missing {SUMMARY_FILE}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"{summary_path}: not valid JSON: {exc}") from exc
    if not isinstance(summary, dict):
        raise ReportInputError(f"{summary_path}: must hold a JSON object")
    weekly = _read_csv(folder, CAPACITY_FILE, CAPACITY_INPUTS["capacity.csv"], ("week",))
    supply = [c for c in weekly.columns if c.startswith("productive_hours_")]
    for column in supply:
        weekly[column] = _numbers(weekly, folder / CAPACITY_FILE, column)
    if weekly.empty:
        raise ReportInputError(f"{folder / CAPACITY_FILE}: no data rows (status "
                               f"{summary.get('status', 'n/a')})")
    # `cohort` is text: read the dates and the count, then check it is there.
    hiring = _read_csv(folder, "hiring_plan.csv", CAPACITY_INPUTS["hiring_plan.csv"][1:],
                       ("recruit_by", "start_training", "productive_from"))
    if "cohort" not in hiring.columns:
        raise ReportInputError(f"{folder / 'hiring_plan.csv'}: missing column(s) cohort")
    sections = [("chart-capacity", "Supply vs requirement by week",
                 ("Productive hours per week by cohort (stacked) against the required "
                  "hours; red: shortfall; shaded: festival weeks; markers: hiring groups at "
                  "their start week, labelled with their size."),
                 capacity_figure(weekly, hiring))]
    parts = ["<h1>staffcast capacity report</h1>", _capacity_kpis(summary, folder)]
    parts += [_section(*sec) for sec in sections]
    if len(hiring):
        table = hiring.assign(**{c: hiring[c].dt.strftime("%Y-%m-%d") for c in
                                 ("recruit_by", "start_training", "productive_from")})
        parts.append("<section><h2>Hiring plan</h2>" + table.to_html(
            index=False, classes="cmp", border=0) + "</section>")
    if (folder / COMPARISON_FILE).is_file():
        comparison = _read_csv(folder, COMPARISON_FILE, ("scenario",))
        parts.append("<section><h2>Scenarios</h2>" + comparison.to_html(
            index=False, classes="cmp", border=0, na_rep="n/a",
            float_format=lambda v: f"{v:,.2f}") + "</section>")
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>staffcast capacity report</title><style>{_CSS}</style>"
            f"<script type=\"text/javascript\">{get_plotlyjs()}</script></head>"
            f"<body><main>{''.join(parts)}</main></body></html>\n")
    start = summary.get("start")
    first = weekly["week"].min().date() if start is None else dt.date.fromisoformat(str(start))
    return Report(html=page, charts=tuple(sec[0] for sec in sections), day=first,
                  scenario=None)
