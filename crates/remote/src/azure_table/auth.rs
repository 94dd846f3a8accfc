//! Shared Key authorization of the Table service.
//!
//! `SharedKey`: the string to sign is `VERB\nContent-MD5\nContent-Type\nDate\nCanonicalizedResource`;
//! `SharedKeyLite`: `Date\nCanonicalizedResource`. `Date` is the value of the
//! `x-ms-date` header (RFC 1123, GMT); the canonicalized resource is
//! `/<account><URL path>` (so with an emulator's path-style URL the account
//! appears twice), plus `?comp=<value>` when the query has `comp`. The
//! signature is base64(HMAC-SHA256(decoded account key, string to sign)).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// A storage account key. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountKey(Vec<u8>);

impl AccountKey {
    /// Decodes a base64 key as the portal and connection strings show it.
    /// The error never contains the key.
    pub fn from_base64(text: &str) -> Result<AccountKey, String> {
        B64.decode(text.trim())
            .map(AccountKey)
            .map_err(|_| "the account key is not valid base64".to_string())
    }

    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccountKey(<hidden>)")
    }
}

impl fmt::Display for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

/// Which Shared Key scheme signs requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// `SharedKey` (verb, Content-MD5, Content-Type, date, resource).
    #[default]
    SharedKey,
    /// `SharedKeyLite` (date, resource).
    SharedKeyLite,
}

/// What a request's signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// HTTP method, upper case.
    pub verb: &'a str,
    /// `Content-MD5` header, or empty.
    pub content_md5: &'a str,
    /// `Content-Type` header, or empty.
    pub content_type: &'a str,
    /// `x-ms-date` header.
    pub date: &'a str,
    /// The URL path, percent-encoded as sent (e.g. `/devstoreaccount1/perf()`).
    pub path: &'a str,
    /// The `comp` query parameter, if any.
    pub comp: Option<&'a str>,
}

/// The canonicalized resource of a request.
pub fn canonicalized_resource(account: &str, path: &str, comp: Option<&str>) -> String {
    let path = if path.is_empty() { "/" } else { path };
    match comp {
        Some(c) => format!("/{account}{path}?comp={c}"),
        None => format!("/{account}{path}"),
    }
}

/// The string to sign for `scheme`.
pub fn string_to_sign(scheme: Scheme, account: &str, r: &Signed<'_>) -> String {
    let resource = canonicalized_resource(account, r.path, r.comp);
    match scheme {
        Scheme::SharedKey => format!(
            "{}\n{}\n{}\n{}\n{}",
            r.verb, r.content_md5, r.content_type, r.date, resource
        ),
        Scheme::SharedKeyLite => format!("{}\n{}", r.date, resource),
    }
}

/// The `Authorization` header value.
pub fn authorization(scheme: Scheme, account: &str, key: &AccountKey, r: &Signed<'_>) -> String {
    let text = string_to_sign(scheme, account, r);
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.bytes()).expect("HMAC-SHA256 takes keys of any length");
    mac.update(text.as_bytes());
    let signature = B64.encode(mac.finalize().into_bytes());
    let name = match scheme {
        Scheme::SharedKey => "SharedKey",
        Scheme::SharedKeyLite => "SharedKeyLite",
    };
    format!("{name} {account}:{signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_never_shown() {
        let key = AccountKey::from_base64("c2VjcmV0LWtleQ==").unwrap();
        assert_eq!(format!("{key:?}"), "AccountKey(<hidden>)");
        assert_eq!(format!("{key}"), "<hidden>");
        let err = AccountKey::from_base64("not base64!").unwrap_err();
        assert!(!err.contains("not base64!"));
    }

    #[test]
    fn strings_to_sign() {
        let r = Signed {
            verb: "GET",
            content_md5: "",
            content_type: "",
            date: "Mon, 27 Jun 2016 20:11:00 GMT",
            path: "/devstoreaccount1/perf()",
            comp: None,
        };
        assert_eq!(
            string_to_sign(Scheme::SharedKey, "devstoreaccount1", &r),
            "GET\n\n\nMon, 27 Jun 2016 20:11:00 GMT\n/devstoreaccount1/devstoreaccount1/perf()"
        );
        assert_eq!(
            string_to_sign(
                Scheme::SharedKeyLite,
                "acct",
                &Signed {
                    path: "/Tables",
                    comp: Some("acl"),
                    ..r
                }
            ),
            "Mon, 27 Jun 2016 20:11:00 GMT\n/acct/Tables?comp=acl"
        );
    }

    #[test]
    fn signature_is_hmac_sha256_of_the_string_to_sign() {
        // The primitive, pinned by RFC 4231 test case 2 (key "Jefe").
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // The header: scheme, account, and the base64 HMAC of the string to sign.
        let key = AccountKey::from_base64(&B64.encode("Jefe")).unwrap();
        let r = Signed {
            verb: "GET",
            content_md5: "",
            content_type: "",
            date: "Mon, 27 Jun 2016 20:11:00 GMT",
            path: "/t()",
            comp: None,
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"GET\n\n\nMon, 27 Jun 2016 20:11:00 GMT\n/acct/t()");
        let expected = format!("SharedKey acct:{}", B64.encode(mac.finalize().into_bytes()));
        assert_eq!(authorization(Scheme::SharedKey, "acct", &key, &r), expected);
    }
}
