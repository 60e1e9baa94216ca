//! Text from outside on its way to a terminal (CONTRACT §9): control characters (an ESC that
//! would clear the screen, a newline that would forge a line) and the invisible characters that
//! reorder text (bidirectional overrides) are shown escaped, never acted on.

use std::borrow::Cow;

/// `text` with every control or bidirectional-override character written as `\u{…}`.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_reordering_characters_are_shown_not_obeyed() {
        assert!(matches!(visible("Zoë O'Neil"), Cow::Borrowed(_)));
        assert_eq!(visible("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(visible("x\ny"), "x\\u{a}y");
        assert_eq!(visible("chef\u{202e}1"), "chef\\u{202e}1");
    }
}
