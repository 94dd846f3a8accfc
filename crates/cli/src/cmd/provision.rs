//! `expost provision`: the cluster provisioning study (Batch Shipyard's perf
//! graph). Reads a pool's performance events from an export file
//! (`--from`) or from its Azure Table, pairs them into spans per node and
//! per image, and reports the script's timings, their percentiles across
//! nodes, the critical path to "pool ready" and the stragglers.

mod outputs;

use crate::output::OutputDir;
use crate::progress;
use anyhow::{bail, Context, Result};
use expost_formats::shipyard::{self, Entity, ExportFormat, PerfEntity};
use expost_model::{Diagnostics, Severity};
use expost_remote::azure_table::{
    credentials, AccountKey, ClientOptions, Credentials, Scheme, TableClient,
};
use expost_render::text_table::{render, Align};
use expost_studies::provision::{self, Options, Phase, Provision, Report};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Examples shown at the end of `expost provision --help`.
pub const EXAMPLES: &str = "\
Examples:
  expost provision --from events.jsonl -o out/
  expost provision --from events.csv --json > provision.json
  expost provision --configdir shipyard-config/ -o out/ --export events.jsonl
  AZURE_STORAGE_CONNECTION_STRING='UseDevelopmentStorage=true' \\
      expost provision --table shipyardperf --partition 'mybatch$mypool' -o out/
  expost provision --account acct --key-env MY_KEY --partition 'mybatch$mypool'
  expost provision --load events.jsonl --table shipyardperf   (connection string from the environment)

Credentials, first found: --configdir (or --credentials/--config/--pool: Batch
Shipyard's JSON files, merged in that order); --account with the key in the
environment variable named by --key-env; AZURE_STORAGE_CONNECTION_STRING. The
account key is never printed.

Outputs in -o DIR: nodes.csv/.parquet (one row per node), images.csv (one row per
node and image), spans.parquet/.csv, diagnostics.csv, provision.json (as
--json), timeline.svg/.png/.pdf (the script's stacked bars: node prep start on x),
gantt.svg/.png/.pdf (every span of every node), trace.json (open it in
ui.perfetto.dev: one track per node).

Exit codes: 0 analysed (warnings, e.g. missing end events, are on stderr and
in diagnostics.csv); 1 the events or an output could not be read or written;
2 bad command line.";

/// Arguments of `expost provision`; also the `[provision]` table of a
/// study file (`expost.toml`), where every key may be left out. No key is
/// ever saved: it comes from the environment.
#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Read the entities from an export (JSON lines; CSV when the name ends in .csv) instead of a table.
    #[arg(long, value_name = "FILE", conflicts_with = "load")]
    #[serde(default)]
    pub from: Option<PathBuf>,
    /// Load the entities of FILE (an export) into the table (created if needed), then stop.
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub load: Option<PathBuf>,
    /// Also write the entities read to FILE (JSON lines; CSV when it ends in .csv).
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub export: Option<PathBuf>,
    /// Batch Shipyard configuration folder (credentials.json, config.json, pool.json).
    #[arg(long, value_name = "DIR")]
    #[serde(default)]
    pub configdir: Option<PathBuf>,
    /// Batch Shipyard credentials.json (default: in --configdir).
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub credentials: Option<PathBuf>,
    /// Batch Shipyard config.json (default: in --configdir).
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub config: Option<PathBuf>,
    /// Batch Shipyard pool.json (default: in --configdir).
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub pool: Option<PathBuf>,
    /// Storage account name (its key from the variable named by --key-env).
    #[arg(long, value_name = "NAME")]
    #[serde(default)]
    pub account: Option<String>,
    /// Environment variable holding the account key (base64) for --account.
    #[arg(long, value_name = "VAR", default_value = "AZURE_STORAGE_KEY")]
    #[serde(default = "defaults::key_env")]
    pub key_env: String,
    /// Table service endpoint URL (default: `https://ACCOUNT.table.core.windows.net`; Azurite: `http://127.0.0.1:10002/devstoreaccount1`).
    #[arg(long, value_name = "URL")]
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The perf table (default: from the Batch Shipyard config, else shipyardperf).
    #[arg(long, value_name = "NAME")]
    #[serde(default)]
    pub table: Option<String>,
    /// The pool's partition, BATCHACCOUNT$POOLID (default: from the config, or the only one in --from).
    #[arg(long, value_name = "KEY")]
    #[serde(default)]
    pub partition: Option<String>,
    /// Sign with SharedKeyLite instead of SharedKey.
    #[arg(long)]
    #[serde(default)]
    pub shared_key_lite: bool,
    /// Concurrent queries over disjoint RowKey ranges (1: one query following its pages).
    #[arg(long, default_value_t = 4, value_name = "N")]
    #[serde(default = "defaults::concurrency")]
    pub concurrency: usize,
    /// Seconds to wait for a connection and for each read.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    #[serde(default = "defaults::timeout")]
    pub timeout: f64,
    /// Attempts per request (retried with backoff on 5xx, timeouts and broken connections).
    #[arg(long, default_value_t = 5, value_name = "N")]
    #[serde(default = "defaults::attempts")]
    pub attempts: u32,
    /// A straggler's time to ready exceeds the median by more than this many MADs.
    #[arg(long, default_value_t = 3.0, value_name = "K")]
    #[serde(default = "defaults::straggler_mads")]
    pub straggler_mads: f64,
    /// Write tables, figures, trace.json and provision.json into this folder.
    #[arg(short, long, value_name = "DIR")]
    #[serde(default)]
    pub output: Option<PathBuf>,
    /// Print the JSON summary on stdout (and nothing else there).
    #[arg(long)]
    #[serde(skip)]
    pub json: bool,
    /// Save these options to a study file (default: expost.toml in the output
    /// folder, else in the current one) to rerun them later with `expost run`.
    #[arg(long, value_name = "FILE", conflicts_with = "load")]
    #[serde(skip)]
    pub save_study: Option<Option<PathBuf>>,
    /// No progress bar and no summary table.
    #[arg(short, long)]
    #[serde(skip)]
    pub quiet: bool,
}

/// Study-file defaults: the command line's.
mod defaults {
    pub fn key_env() -> String {
        "AZURE_STORAGE_KEY".into()
    }
    pub fn concurrency() -> usize {
        4
    }
    pub fn timeout() -> f64 {
        30.0
    }
    pub fn attempts() -> u32 {
        5
    }
    pub fn straggler_mads() -> f64 {
        3.0
    }
}

/// Runs the provisioning study.
pub fn run(args: Args) -> Result<ExitCode> {
    if !(args.straggler_mads.is_finite() && args.straggler_mads > 0.0) {
        return usage("--straggler-mads must be a positive number");
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0)
        || args.attempts == 0
        || args.concurrency == 0
    {
        return usage("--timeout, --attempts and --concurrency must be positive");
    }
    let output = args.output.as_deref().map(OutputDir::prepare).transpose()?;
    if let Some(file) = &args.load {
        return load(&args, file);
    }
    super::run::save_if_asked(
        args.save_study.as_ref(),
        args.output.as_deref(),
        args.quiet || args.json,
        || super::run::SavedStudy::Provision(args.clone()),
    )?;
    let (mut provision, read_diags) = match &args.from {
        Some(path) if ExportFormat::from_path(path) == ExportFormat::JsonLines => {
            // The export's text stays in memory and the entities borrow from it.
            let text = read_file(path)?;
            let mut diags = Diagnostics::for_file(path.display().to_string());
            let entities = shipyard::parse_jsonl_borrowed(&text, &mut diags)
                .map_err(|e| file_error(path, e))?;
            let source = path.display().to_string();
            let provision = analyse_entities(&args, &entities, &source, args.partition.clone())?;
            (provision, diags)
        }
        Some(path) => {
            let (entities, diags) = read_export(path)?;
            let source = path.display().to_string();
            let provision = analyse_entities(&args, &entities, &source, args.partition.clone())?;
            (provision, diags)
        }
        None => {
            let Some(target) = remote_target(&args)? else {
                return usage(
                    "no input: give --from FILE, or credentials (--configdir, --account, or AZURE_STORAGE_CONNECTION_STRING)",
                );
            };
            let Some(partition) = target.partition.clone() else {
                return usage("reading a table needs --partition '<batch account>$<pool id>' (or --configdir)");
            };
            let (entities, diags) = fetch(&args, &target, &partition)?;
            let source = format!("table {}", target.table);
            let provision = analyse_entities(&args, &entities, &source, Some(partition))?;
            (provision, diags)
        }
    };
    let mut all = read_diags.into_items();
    all.append(&mut provision.diagnostics);
    provision.diagnostics = all;
    provision.summary.warnings = provision
        .diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .count();
    let output_failed = match &output {
        Some(dir) => outputs::write_all(&provision, dir, args.quiet || args.json),
        None => false,
    };
    if args.json {
        crate::output::print_json(&Report::of(&provision))?;
    } else if !args.quiet {
        print!("{}", terminal_summary(&provision));
    }
    print_diagnostics(&provision);
    let errors = provision
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error);
    Ok(if output_failed || errors {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes the entities to `--export` if asked, then analyses them.
fn analyse_entities<E: Entity + Sync>(
    args: &Args,
    entities: &[E],
    source: &str,
    partition: Option<String>,
) -> Result<Provision> {
    if let Some(path) = &args.export {
        write_export(path, entities)?;
    }
    let options = Options {
        partition,
        straggler_mads: args.straggler_mads,
    };
    provision::analyse(entities, source, &options).map_err(|e| anyhow::anyhow!("{source}: {e}"))
}

/// The JSON report on stdout, pretty-printed, streamed through a buffer.
fn usage(message: &str) -> Result<ExitCode> {
    eprintln!("error: {message}\n\nFor more information, try 'expost provision --help'.");
    Ok(ExitCode::from(2))
}

/// Reads an export file, naming it in every error.
fn read_export(path: &Path) -> Result<(Vec<PerfEntity>, Diagnostics)> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("could not open '{}'", path.display()))?;
    let mut diags = Diagnostics::for_file(path.display().to_string());
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let entities = shipyard::parse(reader, ExportFormat::from_path(path), &mut diags)
        .map_err(|e| file_error(path, e))?;
    Ok((entities, diags))
}

/// The whole text of an export file, naming it in every error.
fn read_file(path: &Path) -> Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)
        .with_context(|| format!("could not open '{}'", path.display()))?;
    shipyard::read_text(&mut file).map_err(|e| file_error(path, e.into()))
}

/// A parse error of the export `path`, with its line when known.
fn file_error(path: &Path, e: expost_formats::ParseError) -> anyhow::Error {
    match e.line() {
        Some(line) => anyhow::anyhow!("{}:{line}: {e}", path.display()),
        None => anyhow::anyhow!("{}: {e}", path.display()),
    }
}

fn write_export<E: Entity>(path: &Path, entities: &[E]) -> Result<()> {
    expost_render::atomic::write_atomic_with(path, |out| match ExportFormat::from_path(path) {
        ExportFormat::Csv => shipyard::write_csv(entities, out),
        ExportFormat::JsonLines => shipyard::write_jsonl(entities, out),
    })
    .with_context(|| format!("could not write the export '{}'", path.display()))
}

/// A table to read or write, and the client for it.
struct Target {
    client: TableClient,
    table: String,
    partition: Option<String>,
}

/// The table and credentials the arguments name; `None` when they name none.
fn remote_target(args: &Args) -> Result<Option<Target>> {
    let shipyard_files = [&args.configdir, &args.credentials, &args.config, &args.pool]
        .iter()
        .any(|a| a.is_some());
    let (creds, table, partition) = if shipyard_files {
        let pick = |given: &Option<PathBuf>, name: &str| -> Result<PathBuf> {
            match (given, &args.configdir) {
                (Some(p), _) => Ok(p.clone()),
                (None, Some(dir)) => Ok(dir.join(name)),
                (None, None) => bail!(
                    "{name} not given (use --configdir, or --{})",
                    name.trim_end_matches(".json")
                ),
            }
        };
        let target = credentials::from_shipyard_files(
            &pick(&args.credentials, "credentials.json")?,
            &pick(&args.config, "config.json")?,
            &pick(&args.pool, "pool.json")?,
        )?;
        let creds = match &args.endpoint {
            Some(e) => Credentials::new(
                &target.credentials.account,
                target.credentials.key.clone(),
                Some(e),
                None,
            ),
            None => target.credentials,
        };
        (creds, Some(target.table), Some(target.partition))
    } else if let Some(account) = &args.account {
        let key = std::env::var(&args.key_env).with_context(|| {
            format!(
                "--account {account} needs its key in the environment variable {}",
                args.key_env
            )
        })?;
        let key =
            AccountKey::from_base64(&key).map_err(|e| anyhow::anyhow!("{}: {e}", args.key_env))?;
        (
            Credentials::new(account, key, args.endpoint.as_deref(), None),
            None,
            None,
        )
    } else if let Ok(text) = std::env::var("AZURE_STORAGE_CONNECTION_STRING") {
        let mut creds = Credentials::from_connection_string(&text)
            .context("AZURE_STORAGE_CONNECTION_STRING")?;
        if let Some(e) = &args.endpoint {
            creds = Credentials::new(&creds.account, creds.key.clone(), Some(e), None);
        }
        (creds, None, None)
    } else {
        return Ok(None);
    };
    let timeout = Duration::from_secs_f64(args.timeout);
    let options = ClientOptions {
        connect_timeout: timeout,
        read_timeout: timeout,
        attempts: args.attempts,
        scheme: if args.shared_key_lite {
            Scheme::SharedKeyLite
        } else {
            Scheme::SharedKey
        },
        ..ClientOptions::default()
    };
    Ok(Some(Target {
        client: TableClient::new(creds, options)?,
        table: args
            .table
            .clone()
            .or(table)
            .unwrap_or_else(|| "shipyardperf".into()),
        partition: args.partition.clone().or(partition),
    }))
}

/// Every entity of the partition, converted; entities without keys are reported.
fn fetch(args: &Args, target: &Target, partition: &str) -> Result<(Vec<PerfEntity>, Diagnostics)> {
    let bar = spinner(args.quiet || args.json);
    let on_page = |n: usize| bar.set_position(n as u64);
    let raw = if args.concurrency > 1 {
        target
            .client
            .query_partition_ranges(&target.table, partition, args.concurrency, &on_page)
    } else {
        target
            .client
            .query_partition(&target.table, partition, &on_page)
    }
    .with_context(|| {
        format!(
            "could not read partition '{partition}' of table '{}'",
            target.table
        )
    })?;
    bar.finish_and_clear();
    if raw.is_empty() {
        bail!(
            "partition '{partition}' not found in table '{}' of account '{}' (no entity)",
            target.table,
            target.client.account()
        );
    }
    let mut diags = Diagnostics::for_file(format!("table {}", target.table));
    let mut entities = Vec::with_capacity(raw.len());
    for (i, object) in raw.iter().enumerate() {
        match shipyard::entity_from_json(object, i as u64 + 1) {
            Some(e) => entities.push(e),
            None => diags.warn(
                Some(i as u64 + 1),
                "entity without a text PartitionKey or RowKey; skipped",
            ),
        }
    }
    Ok((entities, diags))
}

/// `--load FILE`: writes an export's entities into the table.
fn load(args: &Args, file: &Path) -> Result<ExitCode> {
    let Some(target) = remote_target(args)? else {
        return usage(
            "--load needs credentials (--configdir, --account, or AZURE_STORAGE_CONNECTION_STRING)",
        );
    };
    let (entities, diags) = read_export(file)?;
    for d in diags.items() {
        eprintln!("{d}");
    }
    let objects: Vec<_> = entities
        .iter()
        .map(|e| match serde_json::to_value(e) {
            Ok(serde_json::Value::Object(o)) => Ok(o),
            _ => Err(anyhow::anyhow!(
                "entity of line {} cannot be serialised",
                e.line
            )),
        })
        .collect::<Result<_>>()?;
    let created = target
        .client
        .create_table(&target.table)
        .with_context(|| format!("could not create table '{}'", target.table))?;
    let bar = progress::bar(objects.len() as u64, "entities", args.quiet);
    target
        .client
        .insert_all(&target.table, &objects, &|n| bar.set_position(n as u64))
        .with_context(|| {
            format!(
                "could not load '{}' into table '{}'",
                file.display(),
                target.table
            )
        })?;
    bar.finish_and_clear();
    if !args.quiet {
        eprintln!(
            "loaded {} entities into table '{}'{} of account '{}'",
            objects.len(),
            target.table,
            if created { " (created)" } else { "" },
            target.client.account()
        );
    }
    Ok(if diags.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A counter of entities fetched, on stderr when it is a terminal.
fn spinner(quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message("entities");
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {pos} {msg} {elapsed}") {
        bar.set_style(style);
    }
    bar
}

fn secs(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or("-".into(), |x| format!("{x:.1}"))
}

/// Percentiles per phase, the spread, the critical path and the stragglers.
fn terminal_summary(p: &Provision) -> String {
    let s = &p.summary;
    let mut out = format!(
        "pool {} ({} {}): {} nodes, {} ready, {} events, {} images\n",
        p.partition,
        p.offer.as_deref().unwrap_or("?"),
        p.sku.as_deref().unwrap_or("?"),
        s.nodes,
        s.ready_nodes,
        s.events,
        s.images
    );
    out.push_str(&format!(
        "node prep starts spread over {} s; ready times over {} s\n\n",
        secs(s.start_spread_s),
        secs(s.ready_spread_s)
    ));
    let header = [
        ("phase (s)", Align::Left),
        ("nodes", Align::Right),
        ("mean", Align::Right),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
        ("max", Align::Right),
    ];
    let mut names: Vec<&str> = Phase::ALL.iter().map(|p| p.key()).collect();
    names.push("time_to_ready");
    let rows: Vec<Vec<String>> = names
        .iter()
        .filter_map(|name| s.phases.get(*name).map(|st| (name, st)))
        .map(|(name, st)| {
            vec![
                name.to_string(),
                st.count.to_string(),
                secs(Some(st.mean)),
                secs(Some(st.p50)),
                secs(Some(st.p90)),
                secs(Some(st.p99)),
                secs(Some(st.max)),
            ]
        })
        .collect();
    out.push_str(&render(&header, &rows));
    if let Some(cp) = &s.critical_path {
        out.push_str(&format!(
            "\npool ready {} s after the first node prep start; last node {}",
            secs(Some(cp.pool_ready_after_s)),
            cp.node_id
        ));
        if let Some(step) = &cp.slowest {
            let image = step
                .image
                .as_deref()
                .map(|i| format!(" of {i}"))
                .unwrap_or_default();
            out.push_str(&format!(
                ", slowest phase {}{image}: {} s",
                step.phase,
                secs(Some(step.duration))
            ));
        }
        out.push('\n');
    }
    let st = &s.stragglers;
    out.push_str(&format!(
        "stragglers (time to ready > median {} s + {} x MAD {} s): {}\n",
        secs(Some(st.median_s)),
        st.k,
        secs(Some(st.mad_s)),
        if st.nodes.is_empty() {
            "none".to_string()
        } else {
            st.nodes
                .iter()
                .take(10)
                .map(|n| format!("{} ({} s)", n.node_id, secs(Some(n.time_to_ready_s))))
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    if !s.unfinished_nodes.is_empty() {
        out.push_str(&format!("never ready: {}\n", s.unfinished_nodes.join(", ")));
    }
    out
}

/// Warnings and errors on stderr (at most 40 lines), then a count.
fn print_diagnostics(p: &Provision) {
    crate::output::print_serious(&p.diagnostics, "diagnostics.csv");
    if !p.diagnostics.is_empty() {
        eprintln!(
            "{} diagnostics: {}",
            p.diagnostics.len(),
            crate::output::counts_in_words(&p.diagnostics)
        );
    }
}

impl super::run::SavedArgs for Args {
    fn visit_paths(&mut self, visit: &mut dyn FnMut(&mut PathBuf)) {
        for path in [
            &mut self.from,
            &mut self.configdir,
            &mut self.credentials,
            &mut self.config,
            &mut self.pool,
            &mut self.output,
        ] {
            super::run::visit_opt(path, visit);
        }
    }

    fn set_output_flags(&mut self, json: bool, quiet: bool) {
        self.json = json;
        self.quiet = quiet;
    }

    fn run(self) -> Result<ExitCode> {
        run(self)
    }
}
