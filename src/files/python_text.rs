//! The few Python string rules botocore's reading depends on: `str.strip`, `str.splitlines`
//! and `shlex.split`, reproduced exactly so keyrack reads files as the AWS CLI does.

/// Python's `str.isspace()`: Unicode White_Space plus the ASCII separators 0x1C..=0x1F.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` with no arguments.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Python's `str.rstrip()` with no arguments.
pub fn rstrip(s: &str) -> &str {
    s.trim_end_matches(is_space)
}

/// Python's `str.splitlines()` (without keepends).
pub fn splitlines(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let is_break = matches!(
            c,
            '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        );
        if is_break {
            out.push(&s[start..i]);
            let mut next = i + c.len_utf8();
            if c == '\r' {
                if let Some(&(j, '\n')) = chars.peek() {
                    chars.next();
                    next = j + 1;
                }
            }
            start = next;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
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
        assert_eq!(shlex_split("profile \"a\\x\"").unwrap(), ["profile", "a\\x"]);
        assert_eq!(shlex_split("profile \"a\\\"\"").unwrap(), ["profile", "a\""]);
        assert_eq!(shlex_split("profile \"a").unwrap_err(), ShlexError::NoClosingQuotation);
        assert_eq!(shlex_split("profile a\\").unwrap_err(), ShlexError::NoEscapedCharacter);
        assert_eq!(shlex_split("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn splitlines_matches_python() {
        assert_eq!(splitlines("\na=b\r\nc\x0cd"), ["", "a=b", "c", "d"]);
        assert_eq!(splitlines("x\n"), ["x"]);
    }

    #[test]
    fn strip_uses_python_whitespace() {
        assert_eq!(strip("\u{1f} a\u{a0}"), "a");
        assert_eq!(strip("\u{feff}a"), "\u{feff}a");
    }
}
