//! `expost provision`: the cluster provisioning study (Batch Shipyard's perf
//! graph). Reads a pool's performance events from an export file
//! (`--from`) or from its Azure Table, pairs them into spans per node and
//! per image, and reports the script's timings, their percentiles across
//! nodes, the critical path to "pool ready" and the stragglers.

use super::failover::SizeArg;
use super::run::SavedStudy;
use crate::driver::{usage_error, StudyCommand};
use crate::progress;
use anyhow::Result;
use expost_remote::azure_table::{ClientOptions, Scheme};
use expost_studies::choice::FigureChoice;
use expost_studies::provision::{
    source, Account, Error, Options, ProvisionError, ProvisionStudy, ShipyardFiles, Source,
    SourceError, TableSource,
};
use expost_studies::study::StudyError;
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
ui.perfetto.dev: one track per node), manifest.json (what the folder holds).

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
    #[arg(
        long,
        default_value_t = 4,
        value_name = "N",
        allow_hyphen_values = true
    )]
    #[serde(default = "defaults::concurrency")]
    pub concurrency: usize,
    /// Seconds to wait for a connection and for each read.
    #[arg(
        long,
        default_value_t = 30.0,
        value_name = "SECONDS",
        allow_hyphen_values = true
    )]
    #[serde(default = "defaults::timeout")]
    pub timeout: f64,
    /// Attempts per request (retried with backoff on 5xx, timeouts and broken connections).
    #[arg(
        long,
        default_value_t = 5,
        value_name = "N",
        allow_hyphen_values = true
    )]
    #[serde(default = "defaults::attempts")]
    pub attempts: u32,
    /// A straggler's time to ready exceeds the median by more than this many MADs.
    #[arg(
        long,
        default_value_t = 3.0,
        value_name = "K",
        allow_hyphen_values = true
    )]
    #[serde(default = "defaults::straggler_mads")]
    pub straggler_mads: f64,
    /// Chart size (the timeline's width; the Gantt chart grows with the nodes).
    #[arg(long, value_enum, default_value_t = SizeArg::Page)]
    #[serde(default = "defaults::size")]
    pub size: SizeArg,
    /// Write tables, figures, trace.json and provision.json into this folder
    /// (created if needed); `-o -` writes only nodes.csv, to stdout, for pipes.
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
    /// Write only these figures and charts, by name (their files' names
    /// without extension, e.g. loss,loss_zoom); tables and the rest are all
    /// written. Default: every figure.
    #[arg(long, value_name = "NAME,…", value_delimiter = ',')]
    #[serde(default)]
    pub figures: Vec<String>,
    /// Set a line figure's y axis: NAME=MIN:MAX (e.g. loss=0:100),
    /// repeatable. The report's interactive chart keeps its own axes.
    #[arg(long, value_name = "NAME=MIN:MAX", allow_hyphen_values = true)]
    #[serde(default)]
    pub ylim: Vec<String>,
    /// Where line figures put their legend: top (above the plot, the
    /// default), bottom (under the x axis label), inside (in the plot's
    /// emptiest corner) or none. Charts (bars, Gantt) and the report's
    /// interactive charts keep theirs.
    #[arg(long, value_enum, value_name = "PLACE")]
    #[serde(default)]
    pub legend: Option<crate::driver::LegendArg>,
    /// Draw only these phases in the timeline and Gantt charts:
    /// phase=KEY1,KEY2, by the keys of phases.csv (e.g.
    /// phase=docker_install,pull). Tables keep every phase.
    #[arg(long, value_name = "phase=KEY1,KEY2")]
    #[serde(default)]
    pub only: Vec<String>,
    /// Legend text of a phase: phase=KEY:TEXT (e.g. phase=pull:"Image
    /// pull"); repeatable.
    #[arg(long, value_name = "phase=KEY:TEXT")]
    #[serde(default)]
    pub label: Vec<String>,
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
    pub fn size() -> super::SizeArg {
        super::SizeArg::Page
    }
}

impl Args {
    /// The analysis options, checked.
    fn options(&self) -> Result<Options, String> {
        use super::check::{real, whole, whole_usize};
        real(
            "--straggler-mads",
            self.straggler_mads,
            0.0,
            true,
            1000.0,
            "MADs",
        )?;
        real("--timeout", self.timeout, 0.0, true, 86_400.0, "seconds")?;
        whole("--attempts", self.attempts, 1, 100, "attempts")?;
        whole_usize("--concurrency", self.concurrency, 1, 1024, "requests")?;
        if !(self.straggler_mads.is_finite() && self.straggler_mads > 0.0) {
            return Err("--straggler-mads must be a positive number".into());
        }
        if !(self.timeout.is_finite() && self.timeout > 0.0)
            || self.attempts == 0
            || self.concurrency == 0
        {
            return Err("--timeout, --attempts and --concurrency must be positive".into());
        }
        Ok(Options {
            partition: self.partition.clone(),
            straggler_mads: self.straggler_mads,
        })
    }

    /// The table the options name, first found: Batch Shipyard's files,
    /// --account, the connection string of the environment; `None` without
    /// credentials.
    fn table_source(&self) -> Result<Option<TableSource>, String> {
        let shipyard = [&self.configdir, &self.credentials, &self.config, &self.pool];
        let account = if shipyard.iter().any(|a| a.is_some()) {
            let pick = |given: &Option<PathBuf>, name: &str| match (given, &self.configdir) {
                (Some(p), _) => Ok(p.clone()),
                (None, Some(dir)) => Ok(dir.join(name)),
                (None, None) => Err(format!(
                    "{name} not given (use --configdir, or --{})",
                    name.trim_end_matches(".json")
                )),
            };
            Account::Shipyard(ShipyardFiles {
                credentials: pick(&self.credentials, "credentials.json")?,
                config: pick(&self.config, "config.json")?,
                pool: pick(&self.pool, "pool.json")?,
            })
        } else if let Some(account) = &self.account {
            Account::KeyInEnvironment {
                account: account.clone(),
                variable: self.key_env.clone(),
            }
        } else {
            match Account::from_environment() {
                Some(account) => account,
                None => return Ok(None),
            }
        };
        let timeout = Duration::from_secs_f64(self.timeout);
        Ok(Some(TableSource {
            account,
            endpoint: self.endpoint.clone(),
            table: self.table.clone(),
            partition: self.partition.clone(),
            client: ClientOptions {
                connect_timeout: timeout,
                read_timeout: timeout,
                attempts: self.attempts,
                scheme: if self.shared_key_lite {
                    Scheme::SharedKeyLite
                } else {
                    Scheme::SharedKey
                },
                ..ClientOptions::default()
            },
            concurrency: self.concurrency,
        }))
    }
}

impl StudyCommand for Args {
    const NAME: &'static str = "provision";
    type Study = ProvisionStudy;

    crate::driver::common_options!();

    fn study(&self) -> Result<ProvisionStudy, String> {
        let options = self.options()?;
        let source = match &self.from {
            Some(path) => Source::Export(path.clone()),
            None => {
                let table = self.table_source()?.ok_or(
                    "no input: give --from FILE, or credentials (--configdir, --account, or AZURE_STORAGE_CONNECTION_STRING)",
                )?;
                if table.partition.is_none() && !table.account.names_partition() {
                    return Err("reading a table needs --partition '<batch account>$<pool id>' (or --configdir)".into());
                }
                Source::Table(table)
            }
        };
        let to_stdout = self.output.as_deref() == Some(Path::new("-"));
        let study = ProvisionStudy {
            source,
            options,
            export: self.export.clone(),
            progress: Box::new(progress::Counter::new(
                "entities",
                self.quiet || self.json || to_stdout,
            )),
            size: self.size.into(),
            choice: FigureChoice::default(),
        };
        study.with_choice(FigureChoice::parse(
            &self.only,
            &self.label,
            &ProvisionStudy::CHOICE_PARAMS,
        )?)
    }

    fn saved(&self) -> SavedStudy {
        SavedStudy::Provision(self.clone())
    }

    fn describe(&self, error: &StudyError) -> String {
        match error.downcast_ref::<Error>() {
            Some(Error::Source(e)) => describe_source(e),
            Some(Error::Analysis {
                input,
                error: ProvisionError::SeveralPartitions(found),
            }) => format!(
                "{input}: the input holds {} partitions ({}); choose one with --partition",
                found.len(),
                found.join(", ")
            ),
            _ => error.to_string(),
        }
    }
}

/// A source error, naming the option that changes it.
fn describe_source(error: &SourceError) -> String {
    match error {
        SourceError::KeyMissing { account, variable } => {
            format!("--account {account} needs its key in the environment variable {variable}")
        }
        other => other.to_string(),
    }
}

/// Runs the provisioning study, or `--load`.
pub fn run(args: Args) -> Result<ExitCode> {
    match &args.load {
        Some(file) => load(&args, file),
        None => crate::driver::run(args),
    }
}

/// `--load FILE`: writes an export's entities into the table.
fn load(args: &Args, file: &Path) -> Result<ExitCode> {
    let source = match args.options().and_then(|_| args.table_source()) {
        Ok(Some(source)) => source,
        Ok(None) => return Ok(usage_error(
            Args::NAME,
            "--load needs credentials (--configdir, --account, or AZURE_STORAGE_CONNECTION_STRING)",
        )),
        Err(message) => return Ok(usage_error(Args::NAME, &message)),
    };
    let fail = |e: SourceError| anyhow::anyhow!(describe_source(&e));
    let table = source.connect().map_err(fail)?;
    let (entities, diags) = source::read_export(file).map_err(fail)?;
    for d in diags.items() {
        eprintln!("{}", expost_render::printable::printable(&d.to_string()));
    }
    let bar = progress::bar(entities.len() as u64, "entities", args.quiet);
    let created = table
        .load(&entities, &|n| bar.set_position(n as u64))
        .map_err(fail)?;
    bar.finish_and_clear();
    if !args.quiet {
        eprintln!(
            "loaded {} entities into table '{}'{} of account '{}'",
            entities.len(),
            table.name,
            if created { " (created)" } else { "" },
            table.account()
        );
    }
    Ok(if diags.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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

    crate::driver::saved_flags_and_run!();
}
