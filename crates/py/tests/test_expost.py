"""The Python package against the command it ships: the same inputs give
the same tables, summary and files; diagnostics are warnings, bad input
exceptions; long work leaves the GIL and stops on Ctrl-C."""

import filecmp
import inspect
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import expost

REPO = Path(__file__).resolve().parents[3]
PROFILE = REPO / "tests/fixtures/preemption/bamboo-simulation/profiling-runs/run-86"
TRACE = REPO / "tests/fixtures/preemption/bamboo-traces/traces/p3-trace.csv"

# Each study: the command line's arguments, and the same as keywords.
CASES = {
    "failover": ([str(REPO / "examples/failover")], {}, (str(REPO / "examples/failover"),)),
    "iperf3": ([str(REPO / "examples/failover")], {}, (str(REPO / "examples/failover"),)),
    "ombt": (
        [str(REPO / "tests/fixtures/ombt/campaign")],
        {},
        (str(REPO / "tests/fixtures/ombt/campaign"),),
    ),
    "provision": (
        ["--from", str(REPO / "examples/provision/events.jsonl")],
        {"from_": REPO / "examples/provision/events.jsonl"},
        (),
    ),
    "traces": ([str(TRACE)], {}, (str(TRACE),)),
    "simulate": (
        ["--profile", str(PROFILE), "--model", "poisson", "--rate", "0.1", "--hours", "2"],
        {"profile": PROFILE, "model": "poisson", "rate": 0.1, "hours": 2},
        (),
    ),
    "sweep": (
        ["--profile", str(PROFILE), "--rates", "0.05,0.2", "--seeds", "2", "--hours", "2"],
        {"profile": PROFILE, "rates": [0.05, 0.2], "seeds": 2, "hours": 2},
        (),
    ),
}


def expost_command(*args, check=True):
    """Runs the `expost` command the package installed."""
    done = subprocess.run(
        ["expost", *map(str, args)], capture_output=True, text=True, timeout=600
    )
    if check and done.returncode != 0:
        raise AssertionError(f"expost {args}: exit {done.returncode}\n{done.stderr}")
    return done


def run_study(name, **extra):
    _, keywords, positional = CASES[name]
    return getattr(expost, name)(*positional, **keywords, **extra)


def plain(table):
    """`table` with its dictionary (text) columns as plain strings, and
    without field metadata, as Parquet readers give it."""
    columns = []
    for column in table.columns:
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, pa.string())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def parquet_as_read(path):
    table = pq.read_table(path)
    return pa.table(table.columns, names=table.column_names)


def without_command(summary):
    """`summary` without the command line that made it (the command's has
    --json in it), in each of its objects."""
    if isinstance(summary, dict):
        return {k: without_command(v) for k, v in summary.items() if k != "command"}
    if isinstance(summary, list):
        return [without_command(v) for v in summary]
    return summary


@pytest.mark.parametrize("name", sorted(CASES))
def test_tables_and_summary_equal_the_commands_files(name, tmp_path):
    args = CASES[name][0]
    expost_command(name, *args, "--quiet", "-o", tmp_path / "cli")
    printed = json.loads(expost_command(name, *args, "--json").stdout)
    result = run_study(name, quiet=True)
    assert without_command(result.summary) == without_command(printed)
    manifest = json.loads((tmp_path / "cli/manifest.json").read_text())
    written = {o["name"] for o in manifest["outputs"] if o["kind"] == "table"}
    assert written == set(result.tables), name
    for table_name, table in result.tables.items():
        parquet = tmp_path / "cli" / f"{table_name}.parquet"
        ours = plain(pa.table(table))
        if parquet.exists():
            theirs = parquet_as_read(parquet)
            assert ours.schema == theirs.schema, (name, table_name)
            assert ours.equals(theirs), (name, table_name)
        else:
            csv = (tmp_path / "cli" / f"{table_name}.csv").read_text()
            assert csv.splitlines()[0] == ",".join(ours.column_names), (name, table_name)
            assert len(csv.splitlines()) - 1 == ours.num_rows, (name, table_name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_write_is_what_dash_o_writes(name, tmp_path):
    result = run_study(name, quiet=True)
    out = tmp_path / "out"
    expost_command(*result.command[1:], "-o", out)
    out.rename(tmp_path / "cli")
    assert result.write(out) > 0
    cli_files = sorted(p.name for p in (tmp_path / "cli").iterdir())
    assert cli_files == sorted(p.name for p in out.iterdir())
    # Every file, the manifest and the summary with their command line too.
    for file in cli_files:
        assert filecmp.cmp(out / file, tmp_path / "cli" / file, shallow=False), file


def test_tables_go_to_pandas_and_polars_without_copying_text():
    result = run_study("failover", quiet=True)
    runs = result.runs
    frame = runs.to_pandas()
    assert len(frame) == runs.num_rows > 0
    assert list(frame.columns) == runs.column_names
    polars_frame = runs.to_polars()
    assert polars_frame.shape == frame.shape
    series = pa.table(result.series)
    assert pa.types.is_dictionary(series.schema.field("metric").type)
    assert series.schema.field("value").type == pa.float64()


def test_figures_render_and_save(tmp_path):
    result = run_study("failover", quiet=True)
    assert "loss" in result.figures
    loss = result.figures["loss"]
    assert "<svg" in loss._repr_svg_()
    assert loss._repr_png_().startswith(b"\x89PNG")
    loss.save(tmp_path / "loss.pdf")
    assert (tmp_path / "loss.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(ValueError):
        loss.save(tmp_path / "loss.jpg")


def test_docstrings_and_signatures_come_from_the_command_definition():
    help_text = expost_command("failover", "--help").stdout
    doc = inspect.getdoc(expost.failover)
    for option in ("--tcp-threshold", "--per-flow", "--anchor"):
        assert option in doc and option in help_text
    parameters = inspect.signature(expost.failover).parameters
    assert parameters["bin"].default == 0.1
    assert parameters["band"].default == "median"
    assert parameters["anchor"].default == "iperf_client"
    assert parameters["per_flow"].default is False
    assert "output" not in parameters and "json" not in parameters
    for name in CASES:
        assert getattr(expost, name).__doc__


def test_bad_options_are_exceptions_before_any_work():
    with pytest.raises(ValueError, match="--bin"):
        expost.failover(REPO / "examples/failover", bin=0)
    with pytest.raises(ValueError, match="invalid value 'sideways'"):
        expost.failover(REPO / "examples/failover", band="sideways")
    with pytest.raises(TypeError, match="no_such_option"):
        expost.failover(REPO / "examples/failover", no_such_option=1)
    with pytest.raises(TypeError):
        expost.failover(REPO / "examples/failover", per_flow="yes")


def test_an_input_that_cannot_be_used_is_an_input_error(tmp_path):
    with pytest.raises(expost.InputError) as raised:
        expost.failover(tmp_path / "nothing-here")
    assert "nothing-here" in str(raised.value)


def test_diagnostics_are_warnings_with_file_and_line(tmp_path):
    trace = tmp_path / "trace.csv"
    lines = TRACE.read_text().splitlines()
    lines.insert(3, "not,a,valid,row,at,all")
    trace.write_text("\n".join(lines) + "\n")
    with pytest.warns(expost.ErrorDiagnostic) as caught:
        result = expost.traces(trace, quiet=True)
    located = [w for w in caught if w.filename.endswith("trace.csv") and w.lineno == 4]
    assert located, [(w.filename, w.lineno, str(w.message)) for w in caught]
    table = result.diagnostics.to_pandas()
    assert (table["line"] == 4).any()


def slow_sweep(**extra):
    return expost.sweep(
        profile=PROFILE, rates=[0.05, 0.1, 0.2, 0.4], seeds=200, hours=24, quiet=True, **extra
    )


def test_a_python_thread_runs_during_a_study():
    ticks = []
    running = threading.Event()
    running.set()

    def tick():
        while running.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    thread = threading.Thread(target=tick)
    thread.start()
    time.sleep(0.05)
    start = time.monotonic()
    slow_sweep()
    end = time.monotonic()
    running.clear()
    thread.join(timeout=10)
    during = [t for t in ticks if start <= t <= end]
    assert end - start > 0.3, "the study was too short to tell"
    # With the GIL held throughout, the thread would not tick at all.
    assert len(during) > (end - start) / 0.001 * 0.1, (len(during), end - start)


def test_ctrl_c_stops_a_study_and_raises_keyboard_interrupt():
    start = time.monotonic()
    slow_sweep()
    whole = time.monotonic() - start
    timer = threading.Timer(whole / 4, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        slow_sweep()
    stopped = time.monotonic() - start
    timer.join()
    assert stopped < whole * 0.9, (stopped, whole)


def test_the_command_is_installed_and_keeps_its_exit_codes():
    assert expost.__version__ in expost_command("--version").stdout
    assert expost_command("failover", REPO / "examples/failover", "--bin", "0", check=False).returncode == 2


def test_readers_give_arrow_tables_and_diagnostics(tmp_path):
    run = REPO / "examples/failover/hc_failover_020/hc_failover_020_1"
    events = expost.read_shremote(run / "event_log.json").to_pandas()
    assert "iperf_client" in set(events["name"])
    iperf = REPO / "tests/fixtures/iperf3/tcp_P4_iperf3.6_ekfoury-iperf3_plotter_my_test.json"
    intervals = expost.read_iperf3(iperf)
    assert intervals.num_rows == 60 and "bits_per_second" in intervals.column_names
    assert expost.read_trace(TRACE).to_polars().height > 1
    export = expost.read_shipyard_export(REPO / "examples/provision/events.jsonl")
    assert pa.table(export).num_rows > 1
    points = tmp_path / "points.lp"
    points.write_text('cpu,host=a usage=0.5,name="x" 10\nbroken line\n')
    with pytest.warns(UserWarning) as caught:
        table = expost.read_line_protocol(points)
    assert table.num_rows == 2
    assert any(w.filename == str(points) and w.lineno == 2 for w in caught)
    assert any(line == 2 for _, _, line, _ in table.diagnostics)


def test_a_file_that_cannot_be_read_raises_input_error_with_file_and_line(tmp_path):
    broken = tmp_path / "event_log.json"
    broken.write_text('[\n{"name": \n')
    with pytest.raises(expost.InputError) as raised:
        expost.read_shremote(broken)
    assert raised.value.file == str(broken)
    assert raised.value.line is not None
    assert str(broken) in str(raised.value)


def test_progress_is_reported_while_a_study_runs():
    seen = []
    argv = [
        "sweep",
        f"--profile={PROFILE}",
        "--rates=0.05,0.1,0.2,0.4",
        "--seeds=200",
        "--hours=24",
    ]
    expost._native.run(argv, lambda done, total: seen.append((done, total)))
    assert seen, "no progress reported during a study of more than 0.1 s"
    assert all(0 <= done <= total for done, total in seen if total)
    assert any(total > 0 for _, total in seen)
