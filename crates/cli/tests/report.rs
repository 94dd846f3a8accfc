//! `expost report`: the HTML page is self-contained, and works in a real
//! browser: headless Chromium opens it, its self-check moves the mouse over a
//! chart (tooltip), drags (zoom), double-clicks (reset) and sorts a table,
//! with no script error; then a screenshot is taken.
//!
//! The browser test needs Chromium (scripts/test.sh installs it and sets
//! EXPOST_REQUIRE_BROWSER=1, so there it fails rather than skips).
//!
//! The report reads every folder through its manifest.json alone: a folder
//! with a hand-made manifest (a made-up study) shows that no study-specific
//! code is needed. The tests that use `expost provision`'s folder need that
//! study to write manifest.json.

mod common;
use common::{expost, repo};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The example provisioning study's outputs, in `dir/provision`.
fn provision_outputs(dir: &Path) -> PathBuf {
    let out = dir.join("provision");
    let events = repo().join("examples/provision/events.jsonl");
    let run = expost(&[
        "provision",
        "--from",
        events.to_str().unwrap(),
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

/// The report of the example failover study, after (with `provision`) the
/// example provisioning study's: still figures first, then interactive ones.
fn make_report(dir: &Path, provision: bool) -> PathBuf {
    let mut folders = Vec::new();
    if provision {
        folders.push(provision_outputs(dir));
    }
    make_report_of(dir, &folders)
}

/// The report of `first` folders, then the example failover study's (in
/// `dir/out`), as `dir/report.html`.
fn make_report_of(dir: &Path, first: &[PathBuf]) -> PathBuf {
    let mut folders = first.to_vec();
    let out = dir.join("out");
    let run = expost(&[
        "failover",
        repo().join("examples/failover").to_str().unwrap(),
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    folders.push(out);
    let html = dir.join("report.html");
    let mut args: Vec<&str> = vec!["report"];
    args.extend(folders.iter().map(|f| f.to_str().unwrap()));
    args.extend(["-o", html.to_str().unwrap()]);
    let run = expost(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    html
}

#[test]
fn report_holds_every_figure_table_and_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let html = std::fs::read_to_string(make_report(dir.path(), false)).unwrap();
    for needle in [
        "loss_zoom",
        "throughput_tcp",
        "Configurations",
        "Runs",
        "Diagnostics",
        "expost failover",
        "sudo: unable to resolve host",
    ] {
        assert!(html.contains(needle), "report lacks {needle:?}");
    }
    assert_eq!(
        html.matches("<div class=\"chart\" id=").count(),
        figure_count(dir.path())
    );
    let without_namespaces = html
        .replace("http://www.w3.org/2000/svg", "")
        .replace("http://www.w3.org/1999/xlink", "");
    assert!(
        !without_namespaces.contains("http://") && !without_namespaces.contains("https://"),
        "the report must fetch nothing"
    );
    assert!(
        !html.contains("<link") && !html.contains("src=\""),
        "no external stylesheet or script"
    );
    // Long tables are capped, and the page says where the whole table is.
    assert!(html.contains("Tables show at most 500 rows"));
    assert!(html.contains("the full table is in <code>series.csv</code>"));
    // A folder without a manifest: the error names it, says what it is
    // and, here, which of its subfolders can be reported.
    let missing = expost(&["report", dir.path().to_str().unwrap(), "-o", "-"]);
    assert_eq!(missing.status.code(), Some(1));
    let said = String::from_utf8_lossy(&missing.stderr);
    assert!(said.contains("manifest.json"), "{said}");
    assert!(said.contains(&dir.path().display().to_string()), "{said}");
    assert!(said.contains("out' are study outputs"), "{said}");
    let campaign = repo().join("examples/failover");
    let missing = expost(&["report", campaign.to_str().unwrap(), "-o", "-"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("is a failover campaign"));
}

/// A folder that only says `diagnostics.csv` and `failover.json`, as expost
/// wrote them before manifests: the error says to rerun the study.
#[test]
fn an_older_output_folder_is_told_to_be_rerun() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("diagnostics.csv"),
        "run,severity,file,line,message\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("failover.json"), "{}").unwrap();
    let out = expost(&["report", dir.path().to_str().unwrap(), "-o", "-"]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("no manifest.json"), "{said}");
    assert!(
        said.contains("`expost failover` of an older expost"),
        "{said}"
    );
    assert!(said.contains("rerun the study"), "{said}");
}

/// How many figures the study wrote (figures.json lists them).
fn figure_count(dir: &Path) -> usize {
    let specs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/figures.json")).unwrap()).unwrap();
    let count = specs.as_array().unwrap().len();
    assert!(
        count >= 8,
        "the example campaign has at least 8 figures, got {count}"
    );
    count
}

fn browser() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH")?
                .to_str()?
                .split(':')
                .map(|d| Path::new(d).join(name))
                .find(|p| p.is_file())
        })
}

fn headless(browser: &Path, profile: &Path, extra: &[&str], url: &str) -> Output {
    Command::new("timeout")
        .arg("90")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1280,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("the browser starts")
}

/// Opens `html` in headless Chromium: its self-check must draw
/// `charts` interactive charts, show a tooltip, zoom, reset and sort with
/// no script error; then a screenshot must show something. Skipped (unless
/// EXPOST_REQUIRE_BROWSER is set) without Chromium.
fn check_in_browser(dir: &Path, html: &Path, charts: usize) {
    let Some(browser) = browser() else {
        assert!(
            std::env::var_os("EXPOST_REQUIRE_BROWSER").is_none(),
            "Chromium is required here (EXPOST_REQUIRE_BROWSER is set) but none was found"
        );
        eprintln!("skipped: no Chromium on PATH (./scripts/test.sh installs it)");
        return;
    };
    let url = format!("file://{}", html.canonicalize().unwrap().display());
    let profile = dir.join("profile");
    let out = headless(
        &browser,
        &profile,
        &["--virtual-time-budget=5000", "--dump-dom"],
        &format!("{url}#selftest"),
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("data-ready=\"yes\""),
        "the page's script did not finish cleanly:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let start =
        dom.find("data-selftest=\"").expect("the self-check ran") + "data-selftest=\"".len();
    let end = start + dom[start..].find('"').unwrap();
    let result: serde_json::Value =
        serde_json::from_str(&dom[start..end].replace("&quot;", "\"")).unwrap();
    assert_eq!(result["charts"], charts, "every figure is drawn: {result}");
    assert_eq!(result["tooltip"], true, "hover shows values: {result}");
    assert_eq!(result["zoomed"], true, "drag zooms: {result}");
    assert_eq!(result["reset"], true, "double-click resets: {result}");
    assert_eq!(result["sorted"], true, "headers sort: {result}");
    assert_eq!(
        result["errors"],
        serde_json::json!([]),
        "no script errors: {result}"
    );
    let console_errors: Vec<&str> = std::str::from_utf8(&out.stderr)
        .unwrap_or("")
        .lines()
        .filter(|l| l.contains("CONSOLE") && (l.contains("Uncaught") || l.contains("Error")))
        .collect();
    assert!(console_errors.is_empty(), "{console_errors:#?}");

    let shot = dir.join("report.png");
    let out = headless(
        &browser,
        &profile,
        &[&format!("--screenshot={}", shot.display())],
        &url,
    );
    assert!(
        shot.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert!(
        png.len() > 50_000,
        "the screenshot looks empty ({} bytes)",
        png.len()
    );
    if let Some(keep) = std::env::var_os("EXPOST_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}

/// Needs `expost provision` to write manifest.json.
#[test]
fn report_works_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    // With a provisioning study first: its still figures must not trouble the script.
    let html = make_report(dir.path(), true);
    check_in_browser(dir.path(), &html, figure_count(dir.path()));
}

/// The same with a hand-made folder first (a still chart, a table with a
/// severity column, hostile labels and folder name), then failover's.
#[test]
fn a_hand_made_folder_and_failover_work_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let made = hand_made_folder(dir.path());
    let html = make_report_of(dir.path(), &[made]);
    check_in_browser(dir.path(), &html, figure_count(dir.path()) + 1);
}

/// A provisioning study's folder: its bar and Gantt charts as drawn (no
/// interactive spec), the phase and straggler tables, nodes and images.
/// Needs `expost provision` to write manifest.json.
#[test]
fn a_provision_output_folder_makes_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = provision_outputs(dir.path());
    let html_path = dir.path().join("report.html");
    let run = expost(&[
        "report",
        out.to_str().unwrap(),
        "-o",
        html_path.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let html = std::fs::read_to_string(&html_path).unwrap();
    for needle in [
        "expost report: provision",
        "<div class=\"chart still\"",
        "<h4>timeline</h4>",
        "<h4>gantt</h4>",
        "Phases (s)",
        "Stragglers",
        "Nodes <small>(48 rows)</small>",
        "Images",
        "Diagnostics",
        "<b>48</b> nodes",
    ] {
        assert!(html.contains(needle), "report lacks {needle:?}");
    }
    assert!(
        !html.contains("<script type=\"application/json\">{"),
        "no interactive chart: the provisioning figures are bars"
    );
}

/// Text that must neither end an element early nor break the page's JSON.
const HOSTILE: &str = "p50 </script><!-- \u{1b}[31m & \u{2028}";

/// A folder no study wrote: a made-up study's manifest by hand, listing a
/// table with units, a long table, a diagnostics table, a line figure with
/// an interactive spec, a bar chart drawn as SVG only, a trace and a JSON
/// summary. Its name holds `<!--`, `<script>` and a control character.
fn hand_made_folder(dir: &Path) -> PathBuf {
    let folder = dir.join("made <!--<script>\u{1b}");
    std::fs::create_dir_all(&folder).unwrap();
    let write = |name: &str, text: &str| std::fs::write(folder.join(name), text).unwrap();
    write(
        "nodes.csv",
        "node,ready_s,ok\nn1,12.5,true\nn2,30.25,false\nn3,7,true\n",
    );
    let mut events = String::from("seq,what\n");
    for i in 0..1200 {
        events.push_str(&format!("{i},event {i}\n"));
    }
    write("events.csv", &events);
    write(
        "diagnostics.csv",
        &format!(
            "run,severity,file,line,message\nn1,error,a.log,3,broken\nn2,warning,b.log,,odd {}\nn3,note,c.log,,fine\n",
            HOSTILE.replace('\u{2028}', "")
        ),
    );
    write(
        "bars.svg",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"200\" viewBox=\"0 0 400 200\"><rect x=\"10\" y=\"10\" width=\"120\" height=\"80\" fill=\"#0072B2\"/><text x=\"10\" y=\"120\">pool &lt;1&gt;</text></svg>\n",
    );
    write(
        "latency.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"200\"><text x=\"10\" y=\"20\">latency</text></svg>\n",
    );
    let spec = serde_json::json!([{
        "name": "latency",
        "figure": {
            "title": HOSTILE, "x_label": "Time (s)", "y_label": HOSTILE,
            "x_range": null, "y_range": null,
            "lines": [{"label": HOSTILE,
                       "points": [[0.0, 1.0], [1.0, 3.0], [2.0, 2.0], [3.0, 5.0]],
                       "band": []}],
            "markers": [{"x": 1.5, "label": HOSTILE}]
        }
    }]);
    write("figures.json", &spec.to_string());
    write("trace.json", "{\"traceEvents\": []}");
    write("madeup.json", "{\"anything\": 1}");
    let column = |name: &str, t: &str, unit: Option<&str>| serde_json::json!({"name": name, "type": t, "unit": unit});
    let entry = |path: &str, kind: &str, name: &str, title: &str, format: &str| serde_json::json!({"path": path, "kind": kind, "name": name, "title": title, "format": format});
    let mut nodes = entry("nodes.csv", "table", "nodes", "Nodes", "csv");
    nodes["columns"] = serde_json::json!([
        column("node", "string", None),
        column("ready_s", "float", Some("s")),
        column("ok", "bool", None)
    ]);
    let manifest = serde_json::json!({
        "expost": "9.9.9",
        "study": format!("madeup {HOSTILE}"),
        "command": ["/opt/bin/expost", "madeup", "in put/", "-o", "made"],
        "options": {"threshold": 0.5, "label": HOSTILE, "unset": null},
        "outputs": [
            nodes,
            entry("events.csv", "table", "events", "Events", "csv"),
            entry("bars.svg", "chart", "bars", "Bars", "svg"),
            entry("latency.svg", "figure", "latency", &format!("Latency {HOSTILE}"), "svg"),
            entry("figures.json", "json", "figures", "Figure specs", "json"),
            entry("trace.json", "trace", "trace", "Provisioning trace", "json"),
            entry("diagnostics.csv", "table", "diagnostics", "Diagnostics", "csv"),
            entry("madeup.json", "json", "madeup", "Summary", "json")
        ],
        "summary": {"nodes": 48, "mean_ready_s": 16.5833333, "pool": "gpu", "nested": {"x": 1}},
        "diagnostics": {"errors": 1, "warnings": 1, "notes": 1}
    });
    write(
        "manifest.json",
        &serde_json::to_string_pretty(&manifest).unwrap(),
    );
    folder
}

/// Everything a manifest lists is shown, with no code for its study.
#[test]
fn a_hand_made_manifest_needs_no_study_code() {
    let dir = tempfile::tempdir().unwrap();
    let folder = hand_made_folder(dir.path());
    let out = expost(&["report", folder.to_str().unwrap(), "-o", "-"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = String::from_utf8(out.stdout).unwrap();
    for needle in [
        // Title, command (quoted, the program by name) and version.
        "expost report: madeup p50",
        "<pre>expost madeup &#39;in put/&#39; -o made</pre>",
        "(expost 9.9.9)",
        // Headline numbers from the summary; nested values left out.
        "<b>48</b> nodes",
        "<b>16.58</b> mean_ready_s",
        "<b>gpu</b> pool",
        "Diagnostics: 1 error, 1 warning, 1 note.",
        // Tables: units in the header, long ones capped with a note.
        "Nodes <small>(3 rows)</small>",
        "<th>ready_s <span class=\"unit\">(s)</span></th>",
        "Events <small>(1200 rows, the first 500 shown)</small>",
        "the full table is in <code>events.csv</code>",
        "<td>event 499</td>",
        // Diagnostics by severity.
        "<tr class=\"error\">",
        "<tr class=\"warning\">",
        "<tr class=\"note\">",
        // The chart as drawn, the figure interactive from its spec.
        "<div class=\"chart still\" id=\"s0f0\"><h4>bars</h4>",
        "pool &lt;1&gt;",
        "<div class=\"chart\" id=\"s0f1\"><h4>latency</h4>",
        // The trace and how to open it; the JSON summary named.
        "<code>trace.json</code> — Provisioning trace: open it in Perfetto (ui.perfetto.dev",
        "<code>madeup.json</code> (Summary)",
        // Options, unset ones left out.
        "<td>threshold</td><td class=\"num\">0.5</td>",
    ] {
        assert!(html.contains(needle), "report lacks {needle:?}");
    }
    assert!(!html.contains("<td>event 500</td>"), "at most 500 rows");
    assert!(!html.contains("<td>unset</td>"));
    assert!(!html.contains("nested"));
    // Hostile labels and the folder name break neither the page nor its JSON.
    assert!(!html.contains("<!--"));
    assert!(!html.contains('\u{1b}'));
    assert_eq!(
        html.matches("</script>").count(),
        2,
        "the spec's and the page's"
    );
    assert!(html.contains("made &lt;!--&lt;script&gt;\\u{1b}"));
    let start = html.find("<script type=\"application/json\">").unwrap()
        + "<script type=\"application/json\">".len();
    let end = start + html[start..].find("</script>").unwrap();
    let spec: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
    assert_eq!(spec["lines"][0]["label"], HOSTILE);
    assert!(!html[start..end].contains('<'));
}

/// A file the manifest lists but that is gone: the page is written all the
/// same, says so, and the exit code is 1.
#[test]
fn a_missing_listed_file_is_said_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let folder = hand_made_folder(dir.path());
    std::fs::remove_file(folder.join("events.csv")).unwrap();
    std::fs::remove_file(folder.join("bars.svg")).unwrap();
    let html_path = dir.path().join("r.html");
    let out = expost(&[
        "report",
        folder.to_str().unwrap(),
        "-o",
        html_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("events.csv' is listed in manifest.json but missing"),
        "{said}"
    );
    assert!(
        said.contains("bars.svg' is listed in manifest.json but missing"),
        "{said}"
    );
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("events.csv&#39; is listed in manifest.json but missing"));
    assert!(html.contains("Nodes <small>(3 rows)</small>"));
}
