//! Where a pool's perf events come from: an export file (JSON lines, or CSV
//! when its name ends in `.csv`), or the pool's partition of an Azure Table,
//! fetched with `expost-remote`'s client (SharedKey or SharedKeyLite
//! signing, every continuation followed, optionally as concurrent queries
//! over disjoint `RowKey` ranges). The storage account's key comes from
//! Batch Shipyard's configuration files or from the environment, and no
//! error ever shows it.

use expost_formats::shipyard::{self, Entity, ExportFormat, PerfEntity};
use expost_formats::ParseError;
use expost_model::Diagnostics;
use expost_remote::azure_table::{
    credentials::{self, ConfigError},
    AccountKey, ClientOptions, Credentials, TableClient, TableError,
};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The environment variable holding a storage connection string.
pub const CONNECTION_STRING_VAR: &str = "AZURE_STORAGE_CONNECTION_STRING";

/// The perf table when nothing names one (Batch Shipyard's default prefix).
pub const DEFAULT_TABLE: &str = "shipyardperf";

/// Where the events come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// An export file: JSON lines, or CSV when its name ends in `.csv`.
    Export(PathBuf),
    /// A pool's partition of an Azure Table.
    Table(TableSource),
}

/// Batch Shipyard's configuration files, merged in this order.
#[derive(Debug, Clone, PartialEq)]
pub struct ShipyardFiles {
    /// `credentials.json`.
    pub credentials: PathBuf,
    /// `config.json`.
    pub config: PathBuf,
    /// `pool.json`.
    pub pool: PathBuf,
}

/// Where the storage account and its key come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Account {
    /// Batch Shipyard's files: they also name the table and the partition.
    Shipyard(ShipyardFiles),
    /// An account whose key (base64) is in an environment variable.
    KeyInEnvironment {
        /// The storage account.
        account: String,
        /// The variable holding its key.
        variable: String,
    },
    /// A storage connection string in an environment variable.
    ConnectionString {
        /// The variable holding it.
        variable: String,
    },
}

impl Account {
    /// The connection string of the environment
    /// ([`CONNECTION_STRING_VAR`]), when it is set.
    pub fn from_environment() -> Option<Account> {
        std::env::var(CONNECTION_STRING_VAR)
            .is_ok()
            .then(|| Account::ConnectionString {
                variable: CONNECTION_STRING_VAR.into(),
            })
    }

    /// Whether it names the pool's partition (Batch Shipyard's files do).
    pub fn names_partition(&self) -> bool {
        matches!(self, Account::Shipyard(_))
    }
}

/// A pool's partition of an Azure Table, and how to reach it.
#[derive(Debug, Clone)]
pub struct TableSource {
    /// The account and its key.
    pub account: Account,
    /// The Table service endpoint (default: the account's, or the
    /// connection string's).
    pub endpoint: Option<String>,
    /// The table (default: Batch Shipyard's configuration's, else
    /// [`DEFAULT_TABLE`]).
    pub table: Option<String>,
    /// `<batch account>$<pool id>` (default: Batch Shipyard's configuration's).
    pub partition: Option<String>,
    /// Timeouts, retries and signing scheme.
    pub client: ClientOptions,
    /// Concurrent queries over disjoint `RowKey` ranges (1: one query
    /// following its pages).
    pub concurrency: usize,
}

/// Told how a table query is going.
pub trait FetchProgress: Send + Sync {
    /// `entities` have been fetched so far.
    fn fetched(&self, entities: usize);
    /// The query is over.
    fn done(&self) {}
}

/// Tells nothing.
impl FetchProgress for () {
    fn fetched(&self, _: usize) {}
}

/// Why events could not be read, fetched, loaded or exported. No message
/// ever holds an account key.
#[derive(Debug, Error)]
pub enum SourceError {
    /// An export file could not be opened.
    #[error("could not open '{}': {error}", .path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// An export file could not be read or parsed at all.
    #[error("{}{}: {error}", .path.display(), .error.line().map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        error: ParseError,
    },
    /// The entities read could not be written to an export file.
    #[error("could not write the export '{}': {error}", .path.display())]
    Export {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// Batch Shipyard's configuration files could not be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The variable that should hold an account's key is not set.
    #[error("storage account '{account}' needs its key in the environment variable {variable}")]
    KeyMissing {
        /// The storage account.
        account: String,
        /// The variable.
        variable: String,
    },
    /// The key in the environment is not one (the message never quotes it).
    #[error("{variable}: {message}")]
    BadKey {
        /// The variable.
        variable: String,
        /// What is wrong with it.
        message: String,
    },
    /// The variable that should hold a connection string is not set.
    #[error("the environment variable {variable} holds no connection string")]
    NoConnectionString {
        /// The variable.
        variable: String,
    },
    /// The connection string in the environment cannot be used.
    #[error("{variable}: {error}")]
    ConnectionString {
        /// The variable.
        variable: String,
        /// What is wrong with it (never its key).
        error: ConfigError,
    },
    /// No partition to read: nothing named one.
    #[error("no partition ('<batch account>$<pool id>') named to read from table '{table}'")]
    NoPartition {
        /// The table.
        table: String,
    },
    /// The client could not be made (a bad endpoint).
    #[error(transparent)]
    Client(Box<TableError>),
    /// The partition could not be read.
    #[error("could not read partition '{partition}' of table '{table}': {error}")]
    Fetch {
        /// The table.
        table: String,
        /// The partition.
        partition: String,
        /// Why.
        error: Box<TableError>,
    },
    /// The partition holds no entity.
    #[error(
        "partition '{partition}' not found in table '{table}' of account '{account}' (no entity)"
    )]
    EmptyPartition {
        /// The partition.
        partition: String,
        /// The table.
        table: String,
        /// The storage account.
        account: String,
    },
    /// The table could not be created.
    #[error("could not create table '{table}': {error}")]
    CreateTable {
        /// The table.
        table: String,
        /// Why.
        error: Box<TableError>,
    },
    /// An entity cannot be written as a table entity.
    #[error("entity of line {line} cannot be serialised")]
    Serialise {
        /// Its line.
        line: u64,
    },
    /// Entities could not be written into the table.
    #[error("could not load {entities} entities into table '{table}': {error}")]
    Load {
        /// How many.
        entities: usize,
        /// The table.
        table: String,
        /// Why.
        error: Box<TableError>,
    },
}

/// A table reached with its account's credentials.
#[derive(Debug)]
pub struct Table {
    client: TableClient,
    /// The table's name.
    pub name: String,
    /// The partition to read, if named.
    pub partition: Option<String>,
    concurrency: usize,
}

impl TableSource {
    /// The account's credentials (read from Batch Shipyard's files or the
    /// environment), and a client of its table.
    ///
    /// # Errors
    /// When the credentials cannot be read or the endpoint is not a URL.
    pub fn connect(&self) -> Result<Table, SourceError> {
        let endpoint = self.endpoint.as_deref();
        let with_endpoint = |creds: Credentials| match endpoint {
            Some(e) => Credentials::new(&creds.account, creds.key, Some(e), None),
            None => creds,
        };
        let (creds, table, partition) = match &self.account {
            Account::Shipyard(files) => {
                let target = credentials::from_shipyard_files(
                    &files.credentials,
                    &files.config,
                    &files.pool,
                )?;
                (
                    with_endpoint(target.credentials),
                    Some(target.table),
                    Some(target.partition),
                )
            }
            Account::KeyInEnvironment { account, variable } => {
                let key = std::env::var(variable).map_err(|_| SourceError::KeyMissing {
                    account: account.clone(),
                    variable: variable.clone(),
                })?;
                let key = AccountKey::from_base64(&key).map_err(|message| SourceError::BadKey {
                    variable: variable.clone(),
                    message,
                })?;
                (Credentials::new(account, key, endpoint, None), None, None)
            }
            Account::ConnectionString { variable } => {
                let text =
                    std::env::var(variable).map_err(|_| SourceError::NoConnectionString {
                        variable: variable.clone(),
                    })?;
                let creds = Credentials::from_connection_string(&text).map_err(|error| {
                    SourceError::ConnectionString {
                        variable: variable.clone(),
                        error,
                    }
                })?;
                (with_endpoint(creds), None, None)
            }
        };
        Ok(Table {
            client: TableClient::new(creds, self.client.clone())
                .map_err(|e| SourceError::Client(Box::new(e)))?,
            name: self
                .table
                .clone()
                .or(table)
                .unwrap_or_else(|| DEFAULT_TABLE.into()),
            partition: self.partition.clone().or(partition),
            concurrency: self.concurrency.max(1),
        })
    }
}

impl Table {
    /// The storage account.
    pub fn account(&self) -> &str {
        self.client.account()
    }

    /// Where diagnostics of the table's entities point: `table <name>`.
    pub fn label(&self) -> String {
        format!("table {}", self.name)
    }

    /// Every entity of the partition; entities without keys are reported.
    ///
    /// # Errors
    /// When no partition is named, the query fails, or the partition holds
    /// no entity.
    pub fn fetch(
        &self,
        progress: &dyn FetchProgress,
    ) -> Result<(Vec<PerfEntity>, Diagnostics), SourceError> {
        let Some(partition) = self.partition.as_deref() else {
            return Err(SourceError::NoPartition {
                table: self.name.clone(),
            });
        };
        let on_page = |n: usize| progress.fetched(n);
        let raw = if self.concurrency > 1 {
            self.client
                .query_partition_ranges(&self.name, partition, self.concurrency, &on_page)
        } else {
            self.client.query_partition(&self.name, partition, &on_page)
        };
        progress.done();
        let raw = raw.map_err(|error| SourceError::Fetch {
            table: self.name.clone(),
            partition: partition.into(),
            error: Box::new(error),
        })?;
        if raw.is_empty() {
            return Err(SourceError::EmptyPartition {
                partition: partition.into(),
                table: self.name.clone(),
                account: self.account().into(),
            });
        }
        let mut diags = Diagnostics::for_file(self.label());
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

    /// Writes `entities` into the table (created if needed), in entity
    /// group transactions; `on_progress` gets the count written so far.
    /// Returns whether the table was created.
    ///
    /// # Errors
    /// When the table cannot be created or an entity cannot be written.
    pub fn load(
        &self,
        entities: &[PerfEntity],
        on_progress: &dyn Fn(usize),
    ) -> Result<bool, SourceError> {
        let objects = entities
            .iter()
            .map(|e| match serde_json::to_value(e) {
                Ok(serde_json::Value::Object(o)) => Ok(o),
                _ => Err(SourceError::Serialise { line: e.line }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let created =
            self.client
                .create_table(&self.name)
                .map_err(|error| SourceError::CreateTable {
                    table: self.name.clone(),
                    error: Box::new(error),
                })?;
        self.client
            .insert_all(&self.name, &objects, on_progress)
            .map_err(|error| SourceError::Load {
                entities: objects.len(),
                table: self.name.clone(),
                error: Box::new(error),
            })?;
        Ok(created)
    }
}

/// Reads an export file (JSON lines, or CSV when its name ends in `.csv`).
///
/// # Errors
/// When the file cannot be opened or holds no entity at all.
pub fn read_export(path: &Path) -> Result<(Vec<PerfEntity>, Diagnostics), SourceError> {
    let file = std::fs::File::open(path).map_err(|error| SourceError::Open {
        path: path.into(),
        error,
    })?;
    let mut diags = Diagnostics::for_file(path.display().to_string());
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let entities = shipyard::parse(reader, ExportFormat::from_path(path), &mut diags)
        .map_err(|error| parse_error(path, error))?;
    Ok((entities, diags))
}

/// The whole text of an export file, for entities borrowing from it.
///
/// # Errors
/// When the file cannot be opened or read.
pub fn read_text(path: &Path) -> Result<Vec<u8>, SourceError> {
    let mut file = std::fs::File::open(path).map_err(|error| SourceError::Open {
        path: path.into(),
        error,
    })?;
    shipyard::read_text(&mut file).map_err(|error| parse_error(path, error.into()))
}

/// A parse error of the export `path`.
pub fn parse_error(path: &Path, error: ParseError) -> SourceError {
    SourceError::Parse {
        path: path.into(),
        error,
    }
}

/// Writes entities as an export file (JSON lines; CSV when its name ends
/// in `.csv`), atomically.
///
/// # Errors
/// When the file cannot be written.
pub fn write_export<E: Entity>(path: &Path, entities: &[E]) -> Result<(), SourceError> {
    expost_render::atomic::write_atomic_with(path, |out| match ExportFormat::from_path(path) {
        ExportFormat::Csv => shipyard::write_csv(entities, out),
        ExportFormat::JsonLines => shipyard::write_jsonl(entities, out),
    })
    .map_err(|error| SourceError::Export {
        path: path.into(),
        error,
    })
}
