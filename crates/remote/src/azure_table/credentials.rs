//! Where the account, its key and the Table endpoint come from: a storage
//! connection string (`AZURE_STORAGE_CONNECTION_STRING`, including
//! `UseDevelopmentStorage=true` for Azurite), explicit values, or Batch
//! Shipyard's configuration files (`credentials.json`, `config.json`,
//! `pool.json`, merged in that order as its perf graph script does).

use super::auth::AccountKey;
use serde_json::{Map, Value};
use std::path::Path;
use thiserror::Error;

/// The development account of the storage emulators (Azurite). Its key is
/// public, documented with the emulator; it guards nothing.
pub const DEV_ACCOUNT: &str = "devstoreaccount1";
const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const DEV_TABLE_ENDPOINT: &str = "http://127.0.0.1:10002/devstoreaccount1";

/// An account, its key and its Table service endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Credentials {
    /// The storage account name.
    pub account: String,
    /// Its key (never shown).
    pub key: AccountKey,
    /// The Table service endpoint, without a trailing slash: e.g.
    /// `https://<account>.table.core.windows.net`, or Azurite's path-style
    /// `http://127.0.0.1:10002/devstoreaccount1`.
    pub endpoint: String,
}

/// Why credentials could not be read.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// A connection string lacks something.
    #[error("connection string: {0}")]
    ConnectionString(String),
    /// A configuration file could not be read or parsed.
    #[error("cannot read '{path}': {message}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The merged Batch Shipyard configuration lacks a setting.
    #[error("Batch Shipyard configuration: {0}")]
    Shipyard(String),
}

impl Credentials {
    /// Credentials from explicit values; `endpoint` defaults to
    /// `https://<account>.table.<suffix>` (suffix `core.windows.net`).
    pub fn new(
        account: &str,
        key: AccountKey,
        endpoint: Option<&str>,
        suffix: Option<&str>,
    ) -> Self {
        let endpoint = match endpoint {
            Some(e) => e.trim_end_matches('/').to_string(),
            None => format!(
                "https://{account}.table.{}",
                suffix.unwrap_or("core.windows.net")
            ),
        };
        Credentials {
            account: account.to_string(),
            key,
            endpoint,
        }
    }

    /// The emulator's development account at `endpoint` (default
    /// `http://127.0.0.1:10002/devstoreaccount1`).
    pub fn development(endpoint: Option<&str>) -> Self {
        let key = AccountKey::from_base64(DEV_KEY).expect("the development key is valid base64");
        Credentials::new(
            DEV_ACCOUNT,
            key,
            Some(endpoint.unwrap_or(DEV_TABLE_ENDPOINT)),
            None,
        )
    }

    /// Parses a storage connection string: `UseDevelopmentStorage=true`, or
    /// `AccountName`, `AccountKey` and `TableEndpoint` or
    /// `DefaultEndpointsProtocol` + `EndpointSuffix`. Errors never quote
    /// a part's text: a part that is not `Name=value` with a known name
    /// (a key pasted without `AccountKey=`, `AccountKey:…`) is named by its
    /// position only.
    pub fn from_connection_string(text: &str) -> Result<Credentials, ConfigError> {
        let mut parts = Map::new();
        for (i, part) in text.split(';').enumerate() {
            if part.trim().is_empty() {
                continue;
            }
            let position = i + 1;
            let Some((k, v)) = part.split_once('=') else {
                return Err(ConfigError::ConnectionString(format!(
                    "part {position} has no '=' (expected Name=value; recognised parts: {})",
                    names(text)
                )));
            };
            let name = k.trim().to_ascii_lowercase();
            if !KNOWN_NAMES.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
                return Err(ConfigError::ConnectionString(format!(
                    "part {position} is not a known Name=value setting (recognised parts: {})",
                    names(text)
                )));
            }
            parts.insert(name, Value::String(v.trim().to_string()));
        }
        let get = |k: &str| parts.get(k).and_then(Value::as_str);
        if get("usedevelopmentstorage").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Ok(Credentials::development(get("tableendpoint")));
        }
        let account = get("accountname").ok_or_else(|| {
            ConfigError::ConnectionString(format!("no AccountName (parts: {})", names(text)))
        })?;
        let key = get("accountkey").ok_or_else(|| {
            ConfigError::ConnectionString(format!("no AccountKey (parts: {})", names(text)))
        })?;
        let key = AccountKey::from_base64(key).map_err(ConfigError::ConnectionString)?;
        let endpoint = match get("tableendpoint") {
            Some(e) => e.to_string(),
            None => format!(
                "{}://{account}.table.{}",
                get("defaultendpointsprotocol").unwrap_or("https"),
                get("endpointsuffix").unwrap_or("core.windows.net")
            ),
        };
        Ok(Credentials::new(account, key, Some(&endpoint), None))
    }
}

/// The setting names a storage connection string may hold (others are
/// refused, by position, without quoting them).
const KNOWN_NAMES: &[&str] = &[
    "DefaultEndpointsProtocol",
    "AccountName",
    "AccountKey",
    "EndpointSuffix",
    "TableEndpoint",
    "BlobEndpoint",
    "QueueEndpoint",
    "FileEndpoint",
    "SharedAccessSignature",
    "UseDevelopmentStorage",
    "DevelopmentStorageProxyUri",
];

/// The known names of a connection string's parts, as spelled in
/// [`KNOWN_NAMES`] (never their values, never an unrecognised part's text:
/// that is `part N`).
fn names(text: &str) -> String {
    text.split(';')
        .enumerate()
        .filter(|(_, p)| !p.trim().is_empty())
        .map(|(i, p)| {
            p.split_once('=')
                .and_then(|(k, _)| {
                    KNOWN_NAMES
                        .iter()
                        .find(|n| n.eq_ignore_ascii_case(k.trim()))
                })
                .map_or_else(|| format!("part {}", i + 1), |n| (*n).to_string())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a Batch Shipyard pool's perf events are.
#[derive(Debug, Clone, PartialEq)]
pub struct ShipyardTarget {
    /// The storage account's credentials.
    pub credentials: Credentials,
    /// `<storage_entity_prefix>perf` (prefix default `shipyard`).
    pub table: String,
    /// `<batch account>$<pool id>`.
    pub partition: String,
}

/// Merges `b` onto `a` as Batch Shipyard's `merge_dict` does: objects are
/// merged recursively, anything else in `b` replaces `a`'s value.
pub fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(slot) if slot.is_object() => merge(slot, v),
                    _ => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (slot, b) => *slot = b,
    }
}

fn read_json(path: &Path) -> Result<Value, ConfigError> {
    let file_error = |message: String| ConfigError::File {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| file_error(format!("not JSON ({e}); YAML configurations are not read")))?;
    if !value.is_object() {
        return Err(file_error("not a JSON object".into()));
    }
    Ok(value)
}

/// Reads the three Batch Shipyard files, merged in order.
pub fn from_shipyard_files(
    credentials: &Path,
    config: &Path,
    pool: &Path,
) -> Result<ShipyardTarget, ConfigError> {
    let mut merged = read_json(credentials)?;
    merge(&mut merged, read_json(config)?);
    merge(&mut merged, read_json(pool)?);
    from_shipyard_config(&merged)
}

/// The target named by a merged Batch Shipyard configuration.
pub fn from_shipyard_config(config: &Value) -> Result<ShipyardTarget, ConfigError> {
    let text = |path: &[&str]| -> Result<String, ConfigError> {
        let mut v = config;
        for key in path {
            v = v
                .get(key)
                .ok_or_else(|| ConfigError::Shipyard(format!("no setting {}", path.join("."))))?;
        }
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| ConfigError::Shipyard(format!("{} is not text", path.join("."))))
    };
    let batch_account = text(&["credentials", "batch", "account"])?;
    let pool_id = text(&["pool_specification", "id"])?;
    let prefix = text(&["batch_shipyard", "storage_entity_prefix"])
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "shipyard".to_string());
    let link = text(&["batch_shipyard", "storage_account_settings"])?;
    let storage = ["credentials", "storage", link.as_str()];
    let account = text(&[storage[0], storage[1], storage[2], "account"])?;
    let key = text(&[storage[0], storage[1], storage[2], "account_key"]).map_err(|_| {
        ConfigError::Shipyard(format!(
            "credentials.storage.{link}.account_key is missing (keys held in Key Vault are not read)"
        ))
    })?;
    let key = AccountKey::from_base64(&key).map_err(|e| {
        ConfigError::Shipyard(format!("credentials.storage.{link}.account_key: {e}"))
    })?;
    let suffix = text(&[storage[0], storage[1], storage[2], "endpoint"]).ok();
    Ok(ShipyardTarget {
        credentials: Credentials::new(&account, key, None, suffix.as_deref()),
        table: format!("{prefix}perf"),
        partition: format!("{batch_account}${pool_id}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn connection_strings() {
        let c = Credentials::from_connection_string("UseDevelopmentStorage=true").unwrap();
        assert_eq!(c.account, DEV_ACCOUNT);
        assert_eq!(c.endpoint, DEV_TABLE_ENDPOINT);
        let c = Credentials::from_connection_string(
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0;EndpointSuffix=core.chinacloudapi.cn",
        )
        .unwrap();
        assert_eq!(c.endpoint, "https://acct.table.core.chinacloudapi.cn");
        let c = Credentials::from_connection_string(
            "AccountName=devstoreaccount1;AccountKey=c2VjcmV0;TableEndpoint=http://127.0.0.1:5/devstoreaccount1/;",
        )
        .unwrap();
        assert_eq!(c.endpoint, "http://127.0.0.1:5/devstoreaccount1");
        let err = Credentials::from_connection_string("AccountName=a;AccountKey=%%%secret%%%")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("secret"), "{err}");
        let err = Credentials::from_connection_string("AccountKey=c2VjcmV0")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no AccountName") && !err.contains("c2VjcmV0"),
            "{err}"
        );
    }

    /// Every substring of `len` characters of `secret` (and `secret` itself)
    /// that occurs in `text`.
    fn leaked(text: &str, secret: &str, len: usize) -> Option<String> {
        let chars: Vec<char> = secret.chars().collect();
        (0..chars.len().saturating_sub(len - 1))
            .map(|i| chars[i..i + len].iter().collect::<String>())
            .find(|piece| text.contains(piece.as_str()))
    }

    #[test]
    fn malformed_connection_strings_never_echo_the_key() {
        let key = "Zm9vYmFyLXNlY3JldC1rZXktdmFsdWUtMTIzNDU2Nzg5MA==";
        let bare = key.trim_end_matches('=');
        let strings = [
            format!("AccountName=acct;{key}"),
            format!("AccountName=acct;{bare}"),
            format!("AccountName=acct;AccountKey:{key}"),
            format!("AccountName=acct;AccountKey {key};EndpointSuffix=core.windows.net"),
            format!("{key};AccountName=acct"),
            format!("AccountName=acct;AccountKey=%{key}%"),
            format!("AccountName=acct;Account-Key={key}"),
            format!("AccountName=acct;\"AccountKey\"=\"{key}\""),
            format!("AccountKey={key}"),
            format!("AccountName=acct;AccountKey={key};{key}"),
        ];
        for s in &strings {
            let err = Credentials::from_connection_string(s)
                .unwrap_err()
                .to_string();
            assert_eq!(leaked(&err, key, 8), None, "{s} -> {err}");
        }
        let err = Credentials::from_connection_string(&strings[0])
            .unwrap_err()
            .to_string();
        assert!(err.contains("part 2"), "{err}");
        let err = Credentials::from_connection_string(&strings[1])
            .unwrap_err()
            .to_string();
        assert!(err.contains("part 2 has no '='"), "{err}");
        let err = Credentials::from_connection_string(&strings[2])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("part 2") && err.contains("AccountName"),
            "{err}"
        );
        // Settings of other services are accepted and ignored.
        Credentials::from_connection_string(&format!(
            "AccountName=acct;AccountKey={key};BlobEndpoint=https://acct.blob.core.windows.net"
        ))
        .unwrap();
    }

    #[test]
    fn shipyard_files_merge_like_the_script() {
        let mut merged = json!({"credentials": {"batch": {"account": "mybatch"},
            "storage": {"mystorage": {"account": "acct", "account_key": "c2VjcmV0", "endpoint": "core.windows.net"}}}});
        merge(
            &mut merged,
            json!({"batch_shipyard": {"storage_account_settings": "mystorage", "storage_entity_prefix": ""}}),
        );
        merge(
            &mut merged,
            json!({"pool_specification": {"id": "pool-7"}, "credentials": {"batch": {"other": 1}}}),
        );
        let t = from_shipyard_config(&merged).unwrap();
        assert_eq!(t.table, "shipyardperf", "an empty prefix means the default");
        assert_eq!(t.partition, "mybatch$pool-7");
        assert_eq!(
            t.credentials.endpoint,
            "https://acct.table.core.windows.net"
        );
        assert_eq!(
            merged["credentials"]["batch"]["account"], "mybatch",
            "objects merge"
        );
        let missing = from_shipyard_config(&json!({"credentials": {}}))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("credentials.batch.account"), "{missing}");
    }
}
