#!/usr/bin/env bash
# The Python package's tests: builds the wheel (crates/py) with maturin,
# installs it into a fresh virtual environment with pandas, Polars,
# pyarrow, pytest and a Jupyter kernel, runs crates/py/tests there, and
# executes the example notebooks headlessly (any error fails).
#
#   ./scripts/test-python.sh
#
# The wheel is built with the dev profile by default, sharing what
# `cargo test` compiled in target/; EXPOST_WHEEL_PROFILE=release builds
# the release wheel instead (as `pip install ./crates/py` does).
set -euo pipefail
cd "$(dirname "$0")/.."

work=target/python
profile=${EXPOST_WHEEL_PROFILE:-dev}
mkdir -p "$work"

echo "== maturin (in $work/build-env)"
if [ ! -x "$work/build-env/bin/maturin" ]; then
    python3 -m venv "$work/build-env"
    "$work/build-env/bin/pip" install --quiet "maturin>=1.7,<2"
fi

echo "== wheel ($profile profile)"
rm -rf "$work/wheels"
"$work/build-env/bin/maturin" build --quiet --profile "$profile" \
    --manifest-path crates/py/Cargo.toml --out "$work/wheels"

echo "== fresh environment with the wheel, pandas, Polars, pyarrow, pytest, nbclient"
rm -rf "$work/test-env"
python3 -m venv "$work/test-env"
"$work/test-env/bin/pip" install --quiet pandas polars pyarrow pytest nbclient nbformat ipykernel matplotlib
"$work/test-env/bin/pip" install --quiet "$work"/wheels/expost-*.whl

echo "== pytest crates/py/tests"
# The `expost` command the wheel installed comes first on PATH.
PATH="$PWD/$work/test-env/bin:$PATH" "$work/test-env/bin/python" -m pytest -q -p no:cacheprovider \
    -W "ignore::UserWarning" crates/py/tests

echo "== notebooks"
for notebook in examples/notebooks/*.ipynb; do
    PATH="$PWD/$work/test-env/bin:$PATH" "$work/test-env/bin/python" crates/py/tests/run_notebook.py "$notebook"
done
