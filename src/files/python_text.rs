//! The few Python string rules botocore's reading depends on: `str.strip`, `str.splitlines`
//! and `shlex.split`, reproduced exactly so keyrack reads files as the AWS CLI does.

/// Python's `str.isspace()`: Unicode White_Space plus the ASCII separators 0x1C..=0x1F.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `is_space` for one ASCII byte (0x09..=0x0D, 0x1C..=0x1F and the space).
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | 0x09..=0x0d | 0x1c..=0x1f)
}

/// Python's `str.strip()` with no arguments.
#[inline]
pub fn strip(s: &str) -> &str {
    rstrip(lstrip(s))
}

/// Python's `str.lstrip()` with no arguments.
#[inline]
pub fn lstrip(s: &str) -> &str {
    let bytes = s.as_bytes();
    if matches!(bytes.first(), Some(b'!'..=b'~')) {
        return s; // the common case: printable ASCII is never whitespace
    }
    let ascii_run = bytes.iter().take_while(|b| is_ascii_space(**b)).count();
    // Past the ASCII whitespace, only a non-ASCII character can still be (Unicode) whitespace.
    match bytes.get(ascii_run) {
        Some(b) if !b.is_ascii() => s[ascii_run..].trim_start_matches(is_space),
        _ => &s[ascii_run..],
    }
}

/// Python's `str.rstrip()` with no arguments.
#[inline]
pub fn rstrip(s: &str) -> &str {
    let bytes = s.as_bytes();
    if matches!(bytes.last(), Some(b'!'..=b'~')) {
        return s; // the common case: printable ASCII is never whitespace
    }
    let ascii_run = bytes
        .iter()
        .rev()
        .take_while(|b| is_ascii_space(**b))
        .count();
    let end = bytes.len() - ascii_run;
    match end.checked_sub(1).map(|i| bytes[i]) {
        Some(b) if !b.is_ascii() => s[..end].trim_end_matches(is_space),
        _ => &s[..end],
    }
}

/// Python's `str.splitlines()` (without keepends), as an iterator.
pub fn splitlines(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let line = match find_line_break(rest) {
            Some((at, width)) => {
                let line = &rest[..at];
                rest = &rest[at + width..];
                line
            }
            None => std::mem::take(&mut rest),
        };
        Some(line)
    })
}

/// The bytes a line break can start with: the ASCII breaks, and the first byte of the UTF-8 of
/// U+0085 (0xC2) and of U+2028 and U+2029 (0xE2).
static MAY_START_A_BREAK: [bool; 256] = {
    let mut table = [false; 256];
    let starts: [u8; 9] = [b'\n', b'\r', 0x0b, 0x0c, 0x1c, 0x1d, 0x1e, 0xc2, 0xe2];
    let mut i = 0;
    while i < starts.len() {
        table[starts[i] as usize] = true;
        i += 1;
    }
    table
};

/// Where the first line break `str.splitlines` splits at is, and how many bytes it takes
/// (`\r\n` counts as one break).
fn find_line_break(s: &str) -> Option<(usize, usize)> {
    let bytes = s.as_bytes();
    let mut from = 0;
    loop {
        let at = from
            + bytes[from..]
                .iter()
                .position(|&b| MAY_START_A_BREAK[b as usize])?;
        let c = s[at..]
            .chars()
            .next()
            .expect("a character starts at a byte found above");
        let width = match c {
            '\r' if bytes.get(at + 1) == Some(&b'\n') => 2,
            '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}'
            | '\u{2028}' | '\u{2029}' => c.len_utf8(),
            _ => {
                from = at + c.len_utf8();
                continue;
            }
        };
        return Some((at, width));
    }
}

/// The words of a string with no quotes or backslashes as `shlex.split` gives them: split at
/// its four whitespace characters.
pub fn shlex_plain_words(s: &str) -> impl Iterator<Item = &str> {
    let is_separator = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let mut rest = s;
    std::iter::from_fn(move || {
        let start = rest.bytes().position(|b| !is_separator(b))?;
        let word = &rest[start..];
        let end = word.bytes().position(is_separator).unwrap_or(word.len());
        rest = &word[end..];
        Some(&word[..end])
    })
}

/// Why `shlex.split` refused a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShlexError {
    NoClosingQuotation,
    NoEscapedCharacter,
}

/// Python's `shlex.split(s)` (POSIX mode, no comments), which botocore uses on section names.
pub fn shlex_split(s: &str) -> Result<Vec<String>, ShlexError> {
    const WHITESPACE: &[char] = &[' ', '\t', '\r', '\n'];
    if !s.contains(['"', '\'', '\\']) {
        return Ok(shlex_plain_words(s).map(str::to_string).collect());
    }
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Between,
        Word,
        Quote(char),
        Escape(Option<char>),
    }
    let mut words = Vec::new();
    let mut token = String::new();
    let mut quoted = false;
    let mut state = State::Between;
    for c in s.chars() {
        match state {
            State::Between => {
                if WHITESPACE.contains(&c) {
                    continue;
                } else if c == '\\' {
                    state = State::Escape(None);
                } else if c == '"' || c == '\'' {
                    state = State::Quote(c);
                } else {
                    token.push(c);
                    state = State::Word;
                }
            }
            State::Word => {
                if WHITESPACE.contains(&c) {
                    words.push(std::mem::take(&mut token));
                    quoted = false;
                    state = State::Between;
                } else if c == '"' || c == '\'' {
                    state = State::Quote(c);
                } else if c == '\\' {
                    state = State::Escape(None);
                } else {
                    token.push(c);
                }
            }
            State::Quote(q) => {
                quoted = true;
                if c == q {
                    state = State::Word;
                } else if c == '\\' && q == '"' {
                    state = State::Escape(Some(q));
                } else {
                    token.push(c);
                }
            }
            State::Escape(in_quote) => {
                if let Some(q) = in_quote {
                    if c != q && c != '\\' {
                        token.push('\\');
                    }
                    token.push(c);
                    state = State::Quote(q);
                } else {
                    token.push(c);
                    state = State::Word;
                }
            }
        }
    }
    match state {
        State::Quote(_) => return Err(ShlexError::NoClosingQuotation),
        State::Escape(_) => return Err(ShlexError::NoEscapedCharacter),
        State::Word if !token.is_empty() || quoted => words.push(token),
        _ => {}
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shlex_matches_python() {
        assert_eq!(shlex_split("profile   x ").unwrap(), ["profile", "x"]);
        assert_eq!(shlex_split("profile \"a b\"").unwrap(), ["profile", "a b"]);
        assert_eq!(shlex_split("profile 'q'").unwrap(), ["profile", "q"]);
        assert_eq!(shlex_split("profile \"\"").unwrap(), ["profile", ""]);
        assert_eq!(shlex_split("profile a\\ b").unwrap(), ["profile", "a b"]);
        assert_eq!(
            shlex_split("profile \"a\\x\"").unwrap(),
            ["profile", "a\\x"]
        );
        assert_eq!(
            shlex_split("profile \"a\\\"\"").unwrap(),
            ["profile", "a\""]
        );
        assert_eq!(
            shlex_split("profile \"a").unwrap_err(),
            ShlexError::NoClosingQuotation
        );
        assert_eq!(
            shlex_split("profile a\\").unwrap_err(),
            ShlexError::NoEscapedCharacter
        );
        assert_eq!(shlex_split("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn splitlines_matches_python() {
        let lines = |s| splitlines(s).collect::<Vec<_>>();
        assert_eq!(lines("\na=b\r\nc\x0cd"), ["", "a=b", "c", "d"]);
        assert_eq!(lines("x\n"), ["x"]);
        assert_eq!(lines("\n\n"), ["", ""]);
        assert_eq!(lines("a\u{2028}b\u{85}"), ["a", "b"]);
        assert_eq!(lines("é\u{2029}\u{2030}\r\r\n"), ["é", "\u{2030}", ""]);
        assert!(lines("").is_empty());
    }

    #[test]
    fn strip_uses_python_whitespace() {
        assert_eq!(strip("\u{1f} a\u{a0}"), "a");
        assert_eq!(strip("\u{feff}a"), "\u{feff}a");
        assert_eq!(strip(" \u{3000} a \u{2028}\t"), "a");
        assert_eq!(strip("\u{a0}"), "");
        assert_eq!(rstrip("é "), "é");
        assert_eq!(lstrip("\x0b\x0cx"), "x");
    }
}
