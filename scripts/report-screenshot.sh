#!/usr/bin/env bash
# Opens an expost HTML report in headless Chromium (no network) and saves a
# screenshot of it, e.g. to look at the report as a reader would.
#
#   ./scripts/report-screenshot.sh report.html report.png [WIDTHxHEIGHT]
set -euo pipefail
report=${1:?usage: report-screenshot.sh REPORT.html OUT.png [WIDTHxHEIGHT]}
out=${2:?usage: report-screenshot.sh REPORT.html OUT.png [WIDTHxHEIGHT]}
size=${3:-1280x2400}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "no Chromium found (apt-get install -y chromium)" >&2; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" --window-size="${size/x/,}" \
    --screenshot="$(realpath -m "$out")" "file://$(realpath "$report")" 2>/dev/null
echo "wrote $out"
