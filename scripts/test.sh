#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need, builds,
# runs every test, and checks formatting and lints.
#
#   ./scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: Chromium opens the HTML report (browser test).
need_apt=()
command -v python3 >/dev/null || need_apt+=(python3)
command -v chromium >/dev/null || need_apt+=(chromium)
if ((${#need_apt[@]})); then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
    else
        echo "missing: ${need_apt[*]} (install them, or run as root)" >&2
        exit 1
    fi
fi

echo "== Azurite for the Azure Table tests (npm, pinned in tests/azurite/package-lock.json)"
if ! command -v npm >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq nodejs npm
    else
        echo "missing: nodejs npm (install them, or run as root)" >&2
        exit 1
    fi
fi
(cd tests/azurite && npm ci --no-audit --no-fund --loglevel=error)

echo "== InfluxDB 1.x for the ombt telemetry tests (Debian's influxdb; the tests start their own influxd)"
if ! command -v influxd >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq influxdb
    else
        echo "missing: influxdb (install it, or run as root)" >&2
        exit 1
    fi
fi

echo "== Slurm and MUNGE for the sweep array-job test (Debian's slurm-wlm; the test starts its own daemons)"
need_slurm=()
for program in slurmctld slurmd sbatch squeue; do
    command -v "$program" >/dev/null || { need_slurm=(slurm-wlm); break; }
done
command -v munged >/dev/null || need_slurm+=(munge)
if ((${#need_slurm[@]})); then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq "${need_slurm[@]}"
    else
        echo "missing: ${need_slurm[*]} (install them, or run as root)" >&2
        exit 1
    fi
fi

echo "== build and test"
# The browser test fails, rather than skips, when Chromium is missing; the
# service tests (influxd, Slurm) fail, rather than skip, when their server is missing.
EXPOST_REQUIRE_BROWSER=1 EXPOST_REQUIRE_SERVICES=1 cargo test --workspace --locked

echo "== Python package: wheel, pytest, notebooks (scripts/test-python.sh)"
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq python3-venv python3-pip
    else
        echo "missing: python3-venv python3-pip (install them, or run as root)" >&2
        exit 1
    fi
fi
./scripts/test-python.sh

echo "== format"
cargo fmt --all --check

echo "== lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== docs"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
