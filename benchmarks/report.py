"""The results: a row per service, endpoint and concurrency, their ratios, and the files that show them."""

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from matplotlib import colormaps
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator

from .lifecycle import Step
from .load import Load
from .variants import SERVERS

FLOOR = "floor"
BASELINE = "Flask-sync"
BASELINE_SERVER = SERVERS["flask"]  # the floors are compared with Flask's


@dataclass
class Row:
    service: str  # a generated variant ("Flask-sync", ...) or FLOOR
    server: str
    database: str | None  # None for a floor
    endpoint: str
    concurrency: int
    requests: int  # answered in the run
    requests_per_second: float
    cpu_ms_per_request: float
    p50_ms: float
    p99_ms: float
    errors: int
    timeouts: int
    peak_rss_mib: float
    load_average: float
    vs_floor: float | None = None  # req/s over the floor's, same server and concurrency
    vs_flask_sync: float | None = None  # req/s over Flask-sync's, same database, endpoint and concurrency

    @classmethod
    def of(cls, service: str, server: str, database: str | None, endpoint: str, concurrency: int, load: Load) -> "Row":
        measured = {name: round(value, 2) for name, value in asdict(load).items()}
        return cls(service, server, database, endpoint, concurrency, **measured)

    @property
    def label(self) -> str:
        return f"{FLOOR} ({self.server})" if self.service == FLOOR else f"{self.service} {self.database}"


def add_ratios(rows: list[Row]) -> None:
    floors = {(row.server, row.concurrency): row.requests_per_second for row in rows if row.service == FLOOR}
    baselines = {
        (row.database, row.endpoint, row.concurrency): row.requests_per_second
        for row in rows
        if row.service == BASELINE or (row.service == FLOOR and row.server == BASELINE_SERVER)
    }
    for row in rows:
        row.vs_floor = ratio(row.requests_per_second, floors.get((row.server, row.concurrency)))
        row.vs_flask_sync = ratio(row.requests_per_second, baselines.get((row.database, row.endpoint, row.concurrency)))


def ratio(value: float, reference: float | None) -> float | None:
    return round(value / reference, 3) if reference else None


def write_json(path: Path, meta: dict[str, Any], rows: list[Row], steps: list[Step]) -> None:
    document = {"meta": meta, "rows": [asdict(row) for row in rows], "setup": [asdict(step) for step in steps]}
    path.write_text(json.dumps(document, indent=2) + "\n")


def milliseconds(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:,.0f}"


# Each field of a row: its heading, and how its values are written (None is written "-").
COLUMNS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "service": ("service", str),
    "server": ("server", str),
    "database": ("database", str),
    "endpoint": ("endpoint", str),
    "concurrency": ("connections", str),
    "requests": ("requests", "{:,}".format),
    "requests_per_second": ("req/s", "{:,.0f}".format),
    "cpu_ms_per_request": ("CPU ms per answer", "{:.2f}".format),
    "p50_ms": ("p50 ms", milliseconds),
    "p99_ms": ("p99 ms", milliseconds),
    "errors": ("errors", str),
    "timeouts": ("timeouts", str),
    "peak_rss_mib": ("peak RSS per worker, MiB", "{:.0f}".format),
    "load_average": ("load average", "{:.1f}".format),
    "vs_floor": ("of floor", "{:.2f}".format),
    "vs_flask_sync": ("of Flask-sync", "{:.2f}".format),
}
assert list(COLUMNS) == [field.name for field in fields(Row)]
TEXT_COLUMNS = ("service", "server", "database", "endpoint")


def markdown(meta: dict[str, Any], rows: list[Row], steps: list[Step]) -> str:
    lines = [
        "# Throughput of the generated services",
        "",
        *description(meta),
        "",
        "| " + " | ".join(heading for heading, _ in COLUMNS.values()) + " |",
        "|" + "|".join("---" if name in TEXT_COLUMNS else "---:" for name in COLUMNS) + "|",
    ]
    for row in rows:
        values = (getattr(row, name) for name in COLUMNS)
        cells = (
            "-" if value is None else write(value) for value, (_, write) in zip(values, COLUMNS.values(), strict=True)
        )
        lines.append("| " + " | ".join(cells) + " |")
    if steps:
        lines += ["", "## From template to running service", "", "| step | result | how |", "|---|---:|---|"]
        lines += [
            f"| {step.step} | {'-' if step.value is None else step.value} {step.unit} | {step.note} |" for step in steps
        ]
    return "\n".join(lines) + "\n"


def description(meta: dict[str, Any]) -> list[str]:
    warmup = (
        f"after a {meta['warmup_seconds']} s warm-up run per GET endpoint" if meta["warmup_seconds"] else "no warm-up"
    )
    return [
        f"{meta['date']}, template commit {meta['commit']}, {meta['cpus']} CPUs with a load average of"
        f" {meta['load_average']} when the run started. Other work on the machine skews every figure: each row"
        " gives the load average of the minute before its run, so that rows measured under different loads are"
        " not compared as equals.",
        "",
        f"Every service: auth `{meta['auth']}`, Python {meta['python']}, {meta['workers']} worker processes, started"
        " with its generated production command (`<slug> serve`) in a production environment, every other setting"
        f" (pool sizes, threads, log level) as generated. Load: {meta['wrk']}, {meta['wrk_threads']} threads,"
        f" {meta['seconds']} s per run, {warmup}.",
        "",
        "Errors: socket errors and answers of status 400 or more; timeouts: answers slower than"
        f" {meta['timeout_seconds']} s (wrk does not count the requests still unanswered when a run ends)."
        " CPU ms per answer: the CPU time of the server's worker processes over the run, per answer; other work on"
        " the machine skews it far less than req/s."
        " Floor: the same server, started by the same command, serving a bare hello-JSON app on GET /health/live."
        " Of floor: req/s over the floor's at the same concurrency; of Flask-sync: over Flask-sync's on the same"
        " database, endpoint and concurrency (floors: over gunicorn's).",
    ]


POSTGRES_SHADE = "#ececec"
FAILED_MARKER: dict[str, Any] = {"marker": "X", "markersize": 11, "color": "#d62728", "linestyle": "none"}


def chart(path: Path, meta: dict[str, Any], rows: list[Row]) -> None:
    """A column per endpoint: req/s (top) and p99 latency (bottom) of each service, a bar per concurrency."""
    endpoints = {row.endpoint: [other for other in rows if other.endpoint == row.endpoint] for row in rows}
    concurrencies = sorted({row.concurrency for row in rows})
    blues = colormaps["Blues"]
    colours = {
        count: to_hex(blues(0.45 + 0.5 * i / max(len(concurrencies) - 1, 1))) for i, count in enumerate(concurrencies)
    }
    widths = [len({row.label for row in selected}) for selected in endpoints.values()]
    figure = Figure(figsize=(2 + 0.85 * sum(widths), 10), layout="constrained")
    # Each endpoint's req/s on a scale of its own (a page of items is far slower than a health check), every
    # latency on one log scale.
    axes = figure.subplots(2, len(endpoints), squeeze=False, width_ratios=widths)
    for axis in axes[1, 1:]:
        axis.sharey(axes[1, 0])
    for column, (endpoint, selected) in enumerate(endpoints.items()):
        axes[0, column].set_title(endpoint, fontsize=14, fontweight="bold")
        draw_bars(axes[0, column], selected, colours, "requests_per_second")
        draw_bars(axes[1, column], selected, colours, "p99_ms")
    axes[0, 0].set_ylabel("requests per second (higher is better)", fontsize=11)
    axes[1, 0].set_ylabel("p99 latency, ms, log scale (lower is better)", fontsize=11)
    axes[1, 0].set_yscale("log")
    axes[1, 0].yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
    axes[1, 0].yaxis.set_major_formatter(FuncFormatter(lambda value, _position: f"{value:g}"))

    legend: dict[str, Artist] = {
        f"{count} connection{'s' if count > 1 else ''}": Patch(color=colour) for count, colour in colours.items()
    }
    if any(row.database == "postgresql" for row in rows):
        legend["on PostgreSQL (shaded)"] = Patch(facecolor=POSTGRES_SHADE, edgecolor="#999999")
    legend["run with errors or timeouts"] = Line2D([], [], **FAILED_MARKER)
    figure.legend(legend.values(), legend, loc="outside upper right", ncols=len(legend), fontsize=11)
    figure.suptitle(
        f"Generated services under load: auth {meta['auth']}, {meta['workers']} workers each, Python {meta['python']},"
        f" {meta['seconds']} s per bar, {meta['cpus']} CPUs ({meta['date']})",
        x=0.01,
        ha="left",
        fontsize=14,
    )
    figure.supxlabel(
        "floor: the generated server (same command, workers and threads) serving a bare hello-JSON app."
        "  Figures, errors and ratios: results.md.",
        fontsize=11,
    )
    figure.savefig(path, dpi=100)


def draw_bars(axis: Axes, rows: list[Row], colours: dict[int, str], metric: str) -> None:
    """A group of bars per service, a bar per concurrency; PostgreSQL's groups shaded, failed runs marked."""
    labels = list(dict.fromkeys(row.label for row in rows))
    width = 0.8 / len(colours)
    for row in rows:
        slot = labels.index(row.label)
        x = slot + (list(colours).index(row.concurrency) - (len(colours) - 1) / 2) * width
        value = getattr(row, metric)
        axis.bar(x, value, width, color=colours[row.concurrency])
        if metric == "requests_per_second" and row.errors + row.timeouts:
            axis.plot(x, value, **FAILED_MARKER)
        if row.database == "postgresql":
            axis.axvspan(slot - 0.5, slot + 0.5, color=POSTGRES_SHADE, zorder=0)
    ticks = [label.replace(" (", "\n(").replace(" ", "\n").replace("-", "\n") for label in labels]
    axis.set_xticks(range(len(labels)), ticks, fontsize=10)
    axis.set_xlim(-0.5, len(labels) - 0.5)
    axis.grid(axis="y", alpha=0.4)
    axis.set_axisbelow(True)
