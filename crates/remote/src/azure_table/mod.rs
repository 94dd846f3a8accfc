//! A blocking client of the Azure Table service REST API (version
//! `2019-02-02`), tested against Azurite.
//!
//! - *Query Entities*: `GET <endpoint>/<table>()?$filter=…` with
//!   `Accept: application/json;odata=nometadata`; the service returns at most
//!   1,000 entities per page and the headers `x-ms-continuation-NextPartitionKey`
//!   / `x-ms-continuation-NextRowKey` while more remain, which the next
//!   request passes back as `NextPartitionKey` / `NextRowKey`. Every page is
//!   followed. [`TableClient::query_partition_ranges`] splits a partition
//!   into disjoint `RowKey` ranges queried concurrently.
//! - *Create Table*: `POST <endpoint>/Tables`; *Insert Entity*: `POST
//!   <endpoint>/<table>`; entity group transactions (`POST <endpoint>/$batch`,
//!   up to 100 entities of one partition, all or none).
//!
//! Every request is signed (SharedKey by default, or SharedKeyLite), has a
//! connect and a read timeout, and is retried with exponential backoff on
//! 5xx answers, 408, broken connections, timeouts and bodies cut short.
//! Errors name the account, table and partition, never the key.

pub mod auth;
pub mod credentials;

pub use auth::{AccountKey, Scheme};
pub use credentials::{Credentials, ShipyardTarget};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use thiserror::Error;

/// The REST API version sent in `x-ms-version`.
pub const API_VERSION: &str = "2019-02-02";

/// An entity as the service returns it (`odata=nometadata`): property name → value.
pub type Entity = Map<String, Value>;

/// Query-string characters left as they are (RFC 3986 unreserved).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Why a request failed (after its retries).
#[derive(Debug, Error)]
pub enum TableError {
    /// 403: the signature was refused.
    #[error("access to storage account '{account}' denied ({status} {code}): the account key is wrong, or this machine's clock is off by more than 15 minutes")]
    Denied {
        /// The account.
        account: String,
        /// HTTP status.
        status: u16,
        /// The service's error code.
        code: String,
    },
    /// 404 on a table.
    #[error("table '{table}' not found in storage account '{account}' ({code})")]
    TableNotFound {
        /// The account.
        account: String,
        /// The table.
        table: String,
        /// The service's error code.
        code: String,
    },
    /// 409 on an insert.
    #[error("entity already exists in table '{table}' ({code}): {message}")]
    Conflict {
        /// The table.
        table: String,
        /// The service's error code.
        code: String,
        /// The service's message.
        message: String,
    },
    /// Any other error status.
    #[error("{what}: HTTP {status} {code}: {message}")]
    Status {
        /// The operation.
        what: String,
        /// HTTP status.
        status: u16,
        /// The service's error code.
        code: String,
        /// The service's message.
        message: String,
    },
    /// No answer in time, or no connection, after every retry.
    #[error("{what}: {endpoint} did not answer after {attempts} attempts: {message}")]
    Unreachable {
        /// The operation.
        what: String,
        /// The endpoint.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// The last transport error (a timeout, a refused connection…).
        message: String,
    },
    /// A body that is cut short or not the expected JSON, after every retry.
    #[error("{what}: bad response body after {attempts} attempts: {message}")]
    Body {
        /// The operation.
        what: String,
        /// Attempts made.
        attempts: u32,
        /// What was wrong.
        message: String,
    },
    /// A request that cannot be made (bad endpoint, too many entities…).
    #[error("{0}")]
    Invalid(String),
    /// The service handed back a continuation it had already given: following
    /// it would loop for ever.
    #[error("{what}: the service repeated the continuation NextPartitionKey='{partition_key}'{}; stopped instead of looping", next_row_key.as_deref().map(|rk| format!(", NextRowKey='{rk}'")).unwrap_or_default())]
    RepeatedContinuation {
        /// The operation (names the table and page).
        what: String,
        /// The repeated `NextPartitionKey` (sanitised, shortened).
        partition_key: String,
        /// The repeated `NextRowKey`, if any (sanitised, shortened).
        next_row_key: Option<String>,
    },
    /// A response body larger than [`ClientOptions::max_body`].
    #[error("{what}: response body larger than the limit of {limit} bytes")]
    TooLarge {
        /// The operation.
        what: String,
        /// The limit, in bytes.
        limit: u64,
    },
}

/// Timeouts and retries.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Time to open a connection.
    pub connect_timeout: Duration,
    /// Time to wait for each read (and write) on the connection.
    pub read_timeout: Duration,
    /// Attempts per request (1 = no retry).
    pub attempts: u32,
    /// First backoff; doubled after each failed attempt, at most 8 s.
    pub backoff: Duration,
    /// Signing scheme.
    pub scheme: Scheme,
    /// The largest response body read, in bytes (default 256 MiB); a larger
    /// one is [`TableError::TooLarge`].
    pub max_body: u64,
}

/// The default of [`ClientOptions::max_body`]: 256 MiB.
pub const DEFAULT_MAX_BODY: u64 = 256 << 20;

/// The characters of an unexpected body quoted in an error.
const EXCERPT_CHARS: usize = 200;

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            attempts: 5,
            backoff: Duration::from_millis(250),
            scheme: Scheme::SharedKey,
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

/// A client of one account's Table service.
#[derive(Debug, Clone)]
pub struct TableClient {
    agent: ureq::Agent,
    creds: Credentials,
    options: ClientOptions,
    /// The endpoint's path (`/devstoreaccount1` for Azurite, empty on Azure).
    base_path: String,
}

/// An answer worth reading: status, continuation headers and body.
struct Answer {
    status: u16,
    next_pk: Option<String>,
    next_rk: Option<String>,
    body: Vec<u8>,
}

/// A continuation: `NextPartitionKey` and, if any, `NextRowKey`.
type Continuation = (String, Option<String>);

/// The outcome of one range of a concurrent query, once done.
type RangeSlot = Mutex<Option<Result<Vec<Entity>, TableError>>>;

/// One failed attempt, and whether to try again.
enum Failure {
    Retry(Retry),
    Final(TableError),
}

/// What a retried failure was, to report once the attempts run out.
enum Retry {
    /// No connection, or no answer in time.
    Transport(String),
    /// A body cut short or unreadable.
    Body(String),
    /// An error status worth retrying (408, 5xx): status, code, message.
    Status(u16, String, String),
}

/// A request to make.
struct Request<'a> {
    what: &'a str,
    verb: &'static str,
    /// Path below the endpoint, e.g. `/perf()`; query after `?`, already encoded.
    path: &'a str,
    query: &'a str,
    content_type: &'a str,
    body: &'a [u8],
    table: &'a str,
}

impl TableClient {
    /// A client for `creds`.
    pub fn new(creds: Credentials, options: ClientOptions) -> Result<TableClient, TableError> {
        let base_path = endpoint_path(&creds.endpoint)?;
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(options.connect_timeout)
            .timeout_read(options.read_timeout)
            .timeout_write(options.read_timeout)
            .build();
        Ok(TableClient {
            agent,
            creds,
            options,
            base_path,
        })
    }

    /// The account name.
    pub fn account(&self) -> &str {
        &self.creds.account
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.creds.endpoint
    }

    fn attempt(&self, r: &Request<'_>) -> Result<Answer, Failure> {
        let date = httpdate::fmt_http_date(SystemTime::now());
        let path = format!("{}{}", self.base_path, r.path);
        let signed = auth::Signed {
            verb: r.verb,
            content_md5: "",
            content_type: r.content_type,
            date: &date,
            path: &path,
            comp: None,
        };
        let authorization = auth::authorization(
            self.options.scheme,
            &self.creds.account,
            &self.creds.key,
            &signed,
        );
        let mut url = format!("{}{}", self.creds.endpoint, r.path);
        if !r.query.is_empty() {
            url.push('?');
            url.push_str(r.query);
        }
        let mut req = self
            .agent
            .request(r.verb, &url)
            .set("x-ms-date", &date)
            .set("x-ms-version", API_VERSION)
            .set("Accept", "application/json;odata=nometadata")
            .set("DataServiceVersion", "3.0;NetFx")
            .set("MaxDataServiceVersion", "3.0;NetFx")
            .set("Authorization", &authorization);
        if !r.content_type.is_empty() {
            req = req.set("Content-Type", r.content_type);
        }
        let result = if r.verb == "GET" {
            req.call()
        } else {
            req.send_bytes(r.body)
        };
        let response = match result {
            Ok(resp) => resp,
            Err(ureq::Error::Status(status, resp)) => {
                return Err(self.status_failure(r, status, resp))
            }
            Err(ureq::Error::Transport(t)) => {
                return Err(Failure::Retry(Retry::Transport(t.to_string())))
            }
        };
        let status = response.status();
        let header = |name: &str| response.header(name).map(str::to_owned);
        let (next_pk, next_rk) = (
            header("x-ms-continuation-NextPartitionKey"),
            header("x-ms-continuation-NextRowKey"),
        );
        let limit = self.options.max_body;
        let mut body = Vec::new();
        if let Err(e) = response
            .into_reader()
            .take(limit.saturating_add(1))
            .read_to_end(&mut body)
        {
            return Err(Failure::Retry(Retry::Body(format!(
                "body cut short after {} bytes: {e}",
                body.len()
            ))));
        }
        if body.len() as u64 > limit {
            return Err(Failure::Final(TableError::TooLarge {
                what: r.what.to_string(),
                limit,
            }));
        }
        Ok(Answer {
            status,
            next_pk,
            next_rk,
            body,
        })
    }

    fn status_failure(&self, r: &Request<'_>, status: u16, resp: ureq::Response) -> Failure {
        // An error body is short; only its start is read, whatever its size.
        let mut bytes = Vec::new();
        let _ = resp
            .into_reader()
            .take(self.options.max_body.min(1 << 20))
            .read_to_end(&mut bytes);
        let text = String::from_utf8_lossy(&bytes);
        let (code, mut message) = service_error(&text);
        if code.is_empty() && message.is_empty() {
            message = crate::redact::excerpt(&text, EXCERPT_CHARS);
        }
        match status {
            403 => Failure::Final(TableError::Denied {
                account: self.creds.account.clone(),
                status,
                code,
            }),
            404 if code == "TableNotFound" || code == "ResourceNotFound" => {
                Failure::Final(TableError::TableNotFound {
                    account: self.creds.account.clone(),
                    table: r.table.to_string(),
                    code,
                })
            }
            409 if r.verb == "POST" && code != "TableAlreadyExists" => {
                Failure::Final(TableError::Conflict {
                    table: r.table.to_string(),
                    code,
                    message,
                })
            }
            408 | 500..=599 => Failure::Retry(Retry::Status(status, code, message)),
            _ => Failure::Final(TableError::Status {
                what: r.what.to_string(),
                status,
                code,
                message,
            }),
        }
    }

    /// Makes a request, retrying with backoff; `check` may reject a body
    /// (e.g. JSON cut short), which is retried too.
    fn send<T>(
        &self,
        r: &Request<'_>,
        check: impl Fn(&Answer) -> Result<T, String>,
    ) -> Result<(Answer, T), TableError> {
        let attempts = self.options.attempts.max(1);
        let mut backoff = self.options.backoff;
        let mut last = Retry::Body(String::new());
        for attempt in 1..=attempts {
            match self.attempt(r) {
                Ok(answer) => match check(&answer) {
                    Ok(value) => return Ok((answer, value)),
                    Err(message) => last = Retry::Body(message),
                },
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Retry(retry)) => last = retry,
            }
            if attempt < attempts {
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(8));
            }
        }
        let what = r.what.to_string();
        Err(match last {
            Retry::Transport(message) => TableError::Unreachable {
                what,
                endpoint: self.creds.endpoint.clone(),
                attempts,
                message,
            },
            Retry::Body(message) => TableError::Body {
                what,
                attempts,
                message,
            },
            Retry::Status(status, code, message) => TableError::Status {
                what: format!("{what} (after {attempts} attempts)"),
                status,
                code,
                message,
            },
        })
    }

    /// One page of a query: its entities and the continuation, if any.
    fn page(
        &self,
        table: &str,
        query: &str,
        what: &str,
    ) -> Result<(Vec<Entity>, Option<Continuation>), TableError> {
        let path = format!("/{table}()");
        let request = Request {
            what,
            verb: "GET",
            path: &path,
            query,
            content_type: "",
            body: &[],
            table,
        };
        let (answer, entities) = self.send(&request, |a| parse_page(&a.body))?;
        let next = answer.next_pk.map(|pk| (pk, answer.next_rk));
        Ok((entities, next))
    }

    /// Every entity matching `filter` (an OData `$filter`), following every
    /// continuation. `top` limits each page. `on_page` gets the running count.
    pub fn query(
        &self,
        table: &str,
        filter: &str,
        top: Option<usize>,
        on_page: &dyn Fn(usize),
    ) -> Result<Vec<Entity>, TableError> {
        let mut out = Vec::new();
        let mut next: Option<Continuation> = None;
        let mut seen = HashSet::new();
        let mut pages = 0usize;
        loop {
            let mut query = format!("$filter={}", encode(filter));
            if let Some(n) = top {
                query.push_str(&format!("&$top={n}"));
            }
            if let Some((pk, rk)) = &next {
                query.push_str(&format!("&NextPartitionKey={}", encode(pk)));
                if let Some(rk) = rk {
                    query.push_str(&format!("&NextRowKey={}", encode(rk)));
                }
            }
            pages += 1;
            let what = format!("query of table '{table}' (page {pages})");
            let (entities, continuation) = self.page(table, &query, &what)?;
            out.extend(entities);
            on_page(out.len());
            match continuation {
                Some(c) => next = Some(fresh(&mut seen, c, &what)?),
                None => return Ok(out),
            }
        }
    }

    /// Every entity of partition `pk`, in `RowKey` order.
    pub fn query_partition(
        &self,
        table: &str,
        pk: &str,
        on_page: &dyn Fn(usize),
    ) -> Result<Vec<Entity>, TableError> {
        self.query(table, &partition_filter(pk), None, on_page)
    }

    /// The first entity matching `filter`, if any (follows empty pages).
    fn first(&self, table: &str, filter: &str) -> Result<Option<Entity>, TableError> {
        let mut next: Option<Continuation> = None;
        let mut seen = HashSet::new();
        loop {
            let mut query = format!("$filter={}&$top=1", encode(filter));
            if let Some((pk, rk)) = &next {
                query.push_str(&format!("&NextPartitionKey={}", encode(pk)));
                if let Some(rk) = rk {
                    query.push_str(&format!("&NextRowKey={}", encode(rk)));
                }
            }
            let what = format!("probe of table '{table}'");
            let (mut entities, continuation) = self.page(table, &query, &what)?;
            if !entities.is_empty() {
                return Ok(Some(entities.swap_remove(0)));
            }
            match continuation {
                Some(c) => next = Some(fresh(&mut seen, c, &what)?),
                None => return Ok(None),
            }
        }
    }

    /// Every entity of partition `pk` whose `RowKey` is an epoch time in
    /// seconds, fetched as disjoint `RowKey` ranges by `workers` concurrent
    /// requests, returned in `RowKey` order. Finds the first `RowKey`, then
    /// the end of the partition by doubling probes, and cuts that span into
    /// whole-second ranges (compared as text, which is numeric order while
    /// every key has as many integer digits). Falls back to one sequential
    /// query when the keys are not such times.
    pub fn query_partition_ranges(
        &self,
        table: &str,
        pk: &str,
        workers: usize,
        on_page: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<Entity>, TableError> {
        let base = partition_filter(pk);
        let Some(first) = self.first(table, &base)? else {
            return Ok(Vec::new());
        };
        let first_key = first.get("RowKey").and_then(Value::as_str).unwrap_or("");
        let Some(low) = integer_seconds(first_key) else {
            return self.query(table, &base, None, on_page);
        };
        let digits = low.to_string().len();
        // Double the span until no key lies beyond it.
        let mut span: u64 = 64;
        loop {
            let edge = low + span;
            if edge.to_string().len() != digits {
                return self.query(table, &base, None, on_page);
            }
            let beyond = format!("{base} and RowKey ge '{edge}'");
            if self.first(table, &beyond)?.is_none() {
                break;
            }
            span *= 2;
        }
        let pieces = (workers.max(1) * 4) as u64;
        let step = span.div_ceil(pieces).max(1);
        let bounds: Vec<u64> = (0..pieces)
            .map(|i| low + i * step)
            .take_while(|b| *b < low + span)
            .collect();
        let ranges: Vec<String> = bounds
            .iter()
            .enumerate()
            .map(|(i, b)| {
                // The first range starts at the partition's start: keys below
                // `low` cannot exist, but a key "low" itself sorts before "low.x".
                let lower = if i == 0 {
                    String::new()
                } else {
                    format!(" and RowKey ge '{b}'")
                };
                match bounds.get(i + 1) {
                    Some(next) => format!("{base}{lower} and RowKey lt '{next}'"),
                    None => format!("{base}{lower}"),
                }
            })
            .collect();
        self.run_ranges(table, &ranges, workers, on_page)
    }

    fn run_ranges(
        &self,
        table: &str,
        ranges: &[String],
        workers: usize,
        on_page: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<Entity>, TableError> {
        let results: Vec<RangeSlot> = ranges.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let total = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..workers.max(1).min(ranges.len()) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(filter) = ranges.get(i) else { break };
                    let done = AtomicUsize::new(0);
                    let result = self.query(table, filter, None, &|n| {
                        let before = done.swap(n, Ordering::Relaxed);
                        let all = total.fetch_add(n - before, Ordering::Relaxed) + n - before;
                        on_page(all);
                    });
                    let failed = result.is_err();
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(result);
                    }
                    if failed {
                        next.store(ranges.len(), Ordering::Relaxed);
                    }
                });
            }
        });
        let mut out = Vec::new();
        for slot in results {
            match slot.into_inner().ok().flatten() {
                Some(Ok(entities)) => out.extend(entities),
                Some(Err(e)) => return Err(e),
                // Left undone because another range failed: that error is returned above.
                None => {}
            }
        }
        Ok(out)
    }

    /// Creates `table`; `Ok(false)` when it already exists.
    pub fn create_table(&self, table: &str) -> Result<bool, TableError> {
        let body = serde_json::json!({ "TableName": table }).to_string();
        let request = Request {
            what: &format!("creation of table '{table}'"),
            verb: "POST",
            path: "/Tables",
            query: "",
            content_type: "application/json",
            body: body.as_bytes(),
            table,
        };
        match self.send(&request, |_| Ok(())) {
            Ok((answer, ())) => Ok(answer.status == 201 || answer.status == 204),
            Err(TableError::Status { status: 409, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Inserts one entity (it must have `PartitionKey` and `RowKey`).
    pub fn insert(&self, table: &str, entity: &Entity) -> Result<(), TableError> {
        let body = serde_json::to_vec(entity).map_err(|e| TableError::Invalid(e.to_string()))?;
        let path = format!("/{table}");
        let request = Request {
            what: &format!("insert into table '{table}'"),
            verb: "POST",
            path: &path,
            query: "",
            content_type: "application/json",
            body: &body,
            table,
        };
        self.send(&request, |_| Ok(())).map(|_| ())
    }

    /// Inserts up to 100 entities of one partition in one entity group
    /// transaction: all are inserted, or none.
    pub fn insert_batch(&self, table: &str, entities: &[Entity]) -> Result<(), TableError> {
        if entities.len() > 100 {
            return Err(TableError::Invalid(format!(
                "an entity group transaction holds at most 100 entities, not {}",
                entities.len()
            )));
        }
        let boundary = format!("batch_{:016x}", fastrand_like(entities.len()));
        let body = batch_body(&self.creds.endpoint, table, entities, &boundary)?;
        let content_type = format!("multipart/mixed; boundary={boundary}");
        let request = Request {
            what: &format!("batch insert into table '{table}'"),
            verb: "POST",
            path: "/$batch",
            query: "",
            content_type: &content_type,
            body: body.as_bytes(),
            table,
        };
        let (_, outcome) = self.send(&request, |a| Ok(batch_outcome(&a.body)))?;
        match outcome {
            Ok(()) => Ok(()),
            Err((409, message)) => Err(TableError::Conflict {
                table: table.to_string(),
                code: "EntityAlreadyExists".into(),
                message,
            }),
            Err((status, message)) => Err(TableError::Status {
                what: format!("batch insert into table '{table}'"),
                status,
                code: String::new(),
                message,
            }),
        }
    }

    /// Inserts entities, in transactions of up to 100 per partition.
    /// `on_progress` gets the count written so far.
    pub fn insert_all(
        &self,
        table: &str,
        entities: &[Entity],
        on_progress: &dyn Fn(usize),
    ) -> Result<(), TableError> {
        let mut done = 0;
        let mut start = 0;
        while start < entities.len() {
            let pk = entities[start].get("PartitionKey");
            let mut end = start + 1;
            while end < entities.len()
                && end - start < 100
                && entities[end].get("PartitionKey") == pk
            {
                end += 1;
            }
            self.insert_batch(table, &entities[start..end])?;
            done += end - start;
            on_progress(done);
            start = end;
        }
        Ok(())
    }
}

/// `c`, checked to be a continuation not given before in this query.
fn fresh(
    seen: &mut HashSet<Continuation>,
    c: Continuation,
    what: &str,
) -> Result<Continuation, TableError> {
    if seen.insert(c.clone()) {
        return Ok(c);
    }
    Err(TableError::RepeatedContinuation {
        what: what.to_string(),
        partition_key: crate::redact::excerpt(&c.0, EXCERPT_CHARS),
        next_row_key: c
            .1
            .as_deref()
            .map(|rk| crate::redact::excerpt(rk, EXCERPT_CHARS)),
    })
}

/// A boundary suffix unique enough for one request (no randomness needed:
/// the boundary only has to be absent from the body, which is JSON).
fn fastrand_like(salt: usize) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (salt as u64).rotate_left(32)
}

/// `PartitionKey eq '<pk>'`, quotes doubled as OData wants.
pub fn partition_filter(pk: &str) -> String {
    format!("PartitionKey eq '{}'", pk.replace('\'', "''"))
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY).to_string()
}

/// The whole seconds of an epoch `RowKey` (`"1700000000.25"` → 1700000000).
fn integer_seconds(key: &str) -> Option<u64> {
    let int = key.split('.').next()?;
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    int.parse().ok()
}

/// The endpoint's path, checked: `http(s)://host[:port][/path]`.
fn endpoint_path(endpoint: &str) -> Result<String, TableError> {
    let rest = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .ok_or_else(|| {
            TableError::Invalid(format!("endpoint '{endpoint}' is not an http(s) URL"))
        })?;
    Ok(match rest.find('/') {
        Some(i) => rest[i..].trim_end_matches('/').to_string(),
        None => String::new(),
    })
}

/// The entities of a query page (`{"value": [...]}`).
fn parse_page(body: &[u8]) -> Result<Vec<Entity>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        if e.is_eof() {
            format!("page cut mid-body after {} bytes ({e})", body.len())
        } else {
            format!("page is not JSON ({e})")
        }
    })?;
    let Value::Object(mut object) = value else {
        return Err("page is not a JSON object".into());
    };
    match object.remove("value") {
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::Object(o) => Ok(o),
                _ => Err("an entity of the page is not an object".to_string()),
            })
            .collect(),
        _ => Err("page has no \"value\" list of entities".into()),
    }
}

/// The service's error code and message from an error body (JSON
/// `odata.error`, or XML `<Code>`/`<Message>`).
fn service_error(text: &str) -> (String, String) {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        let e = &v["odata.error"];
        let code = e["code"].as_str().unwrap_or("").to_string();
        let message = e["message"]["value"].as_str().unwrap_or("").to_string();
        if !code.is_empty() {
            return (code, first_line(&message));
        }
    }
    let tag = |name: &str| -> String {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        text.find(&open)
            .and_then(|i| {
                let rest = &text[i + open.len()..];
                rest.find(&close).map(|j| rest[..j].to_string())
            })
            .unwrap_or_default()
    };
    (tag("Code"), first_line(&tag("Message")))
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}

/// The multipart body of an entity group transaction of inserts.
fn batch_body(
    endpoint: &str,
    table: &str,
    entities: &[Entity],
    boundary: &str,
) -> Result<String, TableError> {
    let changeset = boundary.replacen("batch_", "changeset_", 1);
    let mut body =
        format!("--{boundary}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n");
    for (i, entity) in entities.iter().enumerate() {
        let json = serde_json::to_string(entity).map_err(|e| TableError::Invalid(e.to_string()))?;
        body.push_str(&format!(
            "--{changeset}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
             POST {endpoint}/{table} HTTP/1.1\r\nContent-ID: {}\r\nContent-Type: application/json\r\n\
             Accept: application/json;odata=nometadata\r\nPrefer: return-no-content\r\n\
             DataServiceVersion: 3.0\r\n\r\n{json}\r\n",
            i + 1
        ));
    }
    body.push_str(&format!("--{changeset}--\r\n--{boundary}--\r\n"));
    Ok(body)
}

/// Reads the status lines of a batch response: `Ok` when every operation
/// succeeded, else the first failure's status and message.
fn batch_outcome(body: &[u8]) -> Result<(), (u16, String)> {
    let text = String::from_utf8_lossy(body);
    let mut seen = 0;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("HTTP/1.1 ") else {
            continue;
        };
        seen += 1;
        let status: u16 = rest
            .split_whitespace()
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if !(200..300).contains(&status) {
            let (_, message) = text
                .find('{')
                .map(|i| service_error(&text[i..text.rfind('}').map_or(text.len(), |j| j + 1)]))
                .unwrap_or_default();
            return Err((
                status,
                if message.is_empty() {
                    rest.to_string()
                } else {
                    message
                },
            ));
        }
    }
    if seen == 0 {
        return Err((0, "the batch response holds no operation status".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_keys() {
        assert_eq!(
            endpoint_path("http://127.0.0.1:10002/devstoreaccount1/").unwrap(),
            "/devstoreaccount1"
        );
        assert_eq!(
            endpoint_path("https://a.table.core.windows.net").unwrap(),
            ""
        );
        assert!(endpoint_path("ftp://x").is_err());
        assert_eq!(integer_seconds("1700000000.25"), Some(1_700_000_000));
        assert_eq!(integer_seconds("abc"), None);
        assert_eq!(partition_filter("a$p'q"), "PartitionKey eq 'a$p''q'");
        assert_eq!(
            encode("PartitionKey eq 'a$b'"),
            "PartitionKey%20eq%20%27a%24b%27"
        );
    }

    #[test]
    fn pages_and_errors() {
        assert_eq!(
            parse_page(br#"{"value":[{"RowKey":"1"}]}"#).unwrap().len(),
            1
        );
        assert!(parse_page(br#"{"value":[{"RowKey":"1"}"#)
            .unwrap_err()
            .contains("cut mid-body"));
        assert!(parse_page(br#"{"odata.metadata":"x"}"#).is_err());
        let (code, message) = service_error(
            r#"{"odata.error":{"code":"TableNotFound","message":{"lang":"en-US","value":"The table specified does not exist.\nRequestId:1"}}}"#,
        );
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("TableNotFound", "The table specified does not exist.")
        );
        let (code, _) = service_error(
            "<?xml?><Error><Code>AuthenticationFailed</Code><Message>m</Message></Error>",
        );
        assert_eq!(code, "AuthenticationFailed");
    }

    #[test]
    fn excerpts_are_short_and_escape_control_characters() {
        assert_eq!(
            crate::redact::excerpt("  <h1>\x1b[31mboom\r\n</h1> ", 200),
            "<h1>\\u{1b}[31mboom\\r\\n</h1>"
        );
        assert_eq!(
            crate::redact::excerpt(&"é".repeat(300), 200),
            format!("{}…", "é".repeat(200))
        );
    }

    #[test]
    fn batch_statuses() {
        assert!(batch_outcome(
            b"--b\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 204 No Content\r\n"
        )
        .is_ok());
        let err = batch_outcome(
            b"HTTP/1.1 409 Conflict\r\n\r\n{\"odata.error\":{\"code\":\"EntityAlreadyExists\",\"message\":{\"value\":\"0:The specified entity already exists.\"}}}",
        )
        .unwrap_err();
        assert_eq!(err.0, 409);
        assert!(err.1.contains("already exists"));
        assert!(batch_outcome(b"").is_err());
    }
}
