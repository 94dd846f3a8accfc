#!/usr/bin/env python3
"""Builds the failover bad-input corpus from one real run of the bundled example.

Each case is a run folder `bad_<case>/bad_<case>_1/` holding a copy of the
real run with one thing broken, so the end-to-end test can check that expost
names the file, the line and the problem, and that the other runs go on.
Run from anywhere; rewrites tests/corpus/failover/.
"""
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "examples/failover/fec_udp_failover_020/fec_udp_failover_020_1"
CORPUS = ROOT / "tests/corpus/failover"


def case(name):
    run = CORPUS / f"bad_{name}" / f"bad_{name}_1"
    shutil.copytree(SOURCE, run)
    return run


def lines(path):
    return path.read_text().splitlines(keepends=True)


def interval_line_numbers(path):
    return [i for i, line in enumerate(lines(path)) if "sec" in line and "/" in line and "receiver" not in line]


def main():
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    CORPUS.mkdir(parents=True)
    shutil.copytree(SOURCE, CORPUS / "bad_control" / "bad_control_1")

    (case("emptyfile") / "iperf/client_0.json").write_text("")

    client = case("truncated") / "iperf/client_0.json"
    text = client.read_text()
    client.write_text(text[: len(text) // 2])

    client = case("junkline") / "iperf/client_0.json"
    client.write_text("iperf3: error - unable to connect to server: Connection refused\n" + client.read_text())

    (case("othertool") / "iperf/client_0.json").write_text(json.dumps({"benchmark": "fio", "jobs": [{"bw": 1}]}, indent=2))

    run = case("orphanserver")
    shutil.copy(run / "iperf/server_1.out", run / "iperf/server_7.out")

    server = case("portmismatch") / "iperf/server_0.out"
    server.write_text(server.read_text().replace("Server listening on 5200", "Server listening on 5999", 1))

    log = case("noanchor") / "event_log.json"
    events = json.loads(log.read_text())
    log.write_text(json.dumps([e for e in events if e.get("name_", e.get("name")) != "iperf_client"], indent=2))

    shutil.rmtree(case("noiperf") / "iperf")

    server = case("backwards") / "iperf/server_0.out"
    content = lines(server)
    numbers = interval_line_numbers(server)
    target = numbers[20]
    content[target] = content[numbers[5]].replace(content[numbers[5]].split(" ", 1)[0], content[target].split(" ", 1)[0], 1)
    server.write_text("".join(content))

    server = case("cutline") / "iperf/server_1.out"
    content = lines(server)
    last = interval_line_numbers(server)[40]
    cut = content[: last + 1]
    cut[-1] = cut[-1][: len(cut[-1]) // 2]
    server.write_text("".join(cut))

    client = case("nanneg") / "iperf/client_1.json"
    doc = client.read_text()
    first = doc.index('"bits_per_second"', doc.index('"intervals"'))
    colon = doc.index(":", first) + 1
    end = doc.index(",", colon)
    doc = doc[:colon] + " nan" + doc[end:]
    second = doc.index('"bytes"', doc.index('"intervals"') + 2000)
    colon = doc.index(":", second) + 1
    end = doc.index(",", colon)
    doc = doc[:colon] + " -1200" + doc[end:]
    client.write_text(doc)

    print(f"wrote {len(list(CORPUS.iterdir()))} cases to {CORPUS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
