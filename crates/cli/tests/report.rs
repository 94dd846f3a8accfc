//! `expost report`: the HTML page is self-contained, and works in a real
//! browser: headless Chromium opens it, its self-check moves the mouse over a
//! chart (tooltip), drags (zoom), double-clicks (reset) and sorts a table,
//! with no script error; then a screenshot is taken.
//!
//! The browser test needs Chromium (scripts/test.sh installs it and sets
//! EXPOST_REQUIRE_BROWSER=1, so there it fails rather than skips).

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
    let missing = expost(&["report", dir.path().to_str().unwrap(), "-o", "-"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("failover.json"));
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

#[test]
fn report_works_in_a_real_browser() {
    let Some(browser) = browser() else {
        assert!(
            std::env::var_os("EXPOST_REQUIRE_BROWSER").is_none(),
            "Chromium is required here (EXPOST_REQUIRE_BROWSER is set) but none was found"
        );
        eprintln!("skipped: no Chromium on PATH (./scripts/test.sh installs it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // With a provisioning study first: its still figures must not trouble the script.
    let html = make_report(dir.path(), true);
    let url = format!("file://{}", html.canonicalize().unwrap().display());
    let profile = dir.path().join("profile");
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
    assert_eq!(
        result["charts"],
        figure_count(dir.path()),
        "every figure is drawn: {result}"
    );
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

    let shot = dir.path().join("report.png");
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

/// A provisioning study's folder: its bar and Gantt charts as drawn (no
/// interactive spec), the phase and straggler tables, nodes and images.
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
