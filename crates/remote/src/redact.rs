//! Credentials in URLs (`http://user:password@host:8086`): split off for
//! sending, and hidden wherever a URL is shown or saved.

use percent_encoding::percent_decode_str;

/// The parts of a URL with its user information taken out.
#[derive(Clone, PartialEq, Eq)]
pub struct UrlParts {
    /// The URL without user information (`http://host:8086/path`).
    pub bare: String,
    /// The user name, percent-decoded, if the URL has user information.
    pub user: Option<String>,
    /// The password, percent-decoded, if the URL has one.
    pub password: Option<String>,
    /// The URL as it may be shown: the password, if any, as `***`.
    pub shown: String,
    /// The URL as it may be saved: without the password (`http://user@host`).
    pub saved: String,
}

impl std::fmt::Debug for UrlParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UrlParts")
            .field("shown", &self.shown)
            .finish_non_exhaustive()
    }
}

/// Where the authority of the URL at the start of `text` ends (the first
/// `/`, `?`, `#` or whitespace), as a byte offset of `text`.
fn authority_end(text: &str) -> usize {
    text.find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '\'')
        .unwrap_or(text.len())
}

/// Splits `url` (`scheme://[user[:password]@]host…`) into its parts.
pub fn split_url(url: &str) -> UrlParts {
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let whole = || UrlParts {
        bare: url.to_string(),
        user: None,
        password: None,
        shown: url.to_string(),
        saved: url.to_string(),
    };
    let Some(i) = url.find("://") else {
        return whole();
    };
    let (scheme, rest) = (&url[..i + 3], &url[i + 3..]);
    let end = authority_end(rest);
    let (authority, tail) = rest.split_at(end);
    let Some(at) = authority.rfind('@') else {
        return whole();
    };
    let (userinfo, host) = (&authority[..at], &authority[at + 1..]);
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (userinfo, None),
    };
    let with = |info: &str| format!("{scheme}{info}@{host}{tail}");
    UrlParts {
        bare: format!("{scheme}{host}{tail}"),
        user: Some(decode(user)),
        password: password.map(decode),
        shown: match password {
            Some(_) => with(&format!("{user}:***")),
            None => with(user),
        },
        saved: with(user),
    }
}

/// `text` with the password of every URL in it replaced by `***`
/// (`http://user:***@host`): for command lines and messages.
pub fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let end = authority_end(rest);
        let authority = &rest[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => out.push_str(&format!("{user}:***")),
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// At most `max` characters of `text`, control characters escaped (`\n`,
/// `\u{1b}`), `…` when cut: safe to show on a terminal.
pub fn excerpt(text: &str, max: usize) -> String {
    let text = text.trim();
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_split_off_and_hidden() {
        let p = split_url("http://user:s%40cret:pw@127.0.0.1:8086/db?x=1");
        assert_eq!(p.bare, "http://127.0.0.1:8086/db?x=1");
        assert_eq!(p.user.as_deref(), Some("user"));
        assert_eq!(p.password.as_deref(), Some("s@cret:pw"));
        assert_eq!(p.shown, "http://user:***@127.0.0.1:8086/db?x=1");
        assert_eq!(p.saved, "http://user@127.0.0.1:8086/db?x=1");
        assert!(!format!("{p:?}").contains("cret"));
        let p = split_url("http://127.0.0.1:8086");
        assert_eq!(
            (p.bare.as_str(), p.user, p.password),
            ("http://127.0.0.1:8086", None, None)
        );
        let p = split_url("http://u@h:1");
        assert_eq!((p.user.as_deref(), p.password), (Some("u"), None));
        assert_eq!(p.shown, "http://u@h:1");
    }

    #[test]
    fn every_url_of_a_text_loses_its_password() {
        assert_eq!(
            redact_urls(
                "expost ombt c --influx http://u:secretpw@127.0.0.1:9/ -o 'x' https://a@b/c?d=e@f"
            ),
            "expost ombt c --influx http://u:***@127.0.0.1:9/ -o 'x' https://a@b/c?d=e@f"
        );
        assert_eq!(redact_urls("'http://u:p@h'"), "'http://u:***@h'");
        assert_eq!(redact_urls("no url"), "no url");
    }
}
