//! Text from inputs (folder names, labels, node ids, messages) made safe to
//! show: control characters, which a terminal would obey (ESC sequences),
//! XML refuses and a figure cannot draw, are written as visible `\u{1b}`
//! escapes. Line feeds and tabs stay.

use std::borrow::Cow;

/// `text` with every control character but `\n` and `\t` written as
/// `\u{…}`; borrowed when there is none.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_escapes() {
        assert!(matches!(printable("plain ü\tx\n"), Cow::Borrowed(_)));
        assert_eq!(
            printable("a\u{1b}[31mb\u{7}\u{9b}"),
            "a\\u{1b}[31mb\\u{7}\\u{9b}"
        );
    }
}
