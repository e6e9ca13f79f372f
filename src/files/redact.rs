//! File text shown in a `Debug` (documents, lines, loaded files) with every secret value blanked.

use std::fmt;

use super::model::is_secret_key;

/// Where the value starts in a line `KEY = VALUE` (or `KEY: VALUE`, indented or not) whose key
/// is a secret key; `None` for any other line.
fn secret_value_start(text: &[u8]) -> Option<usize> {
    let separator = text.iter().position(|b| matches!(b, b'=' | b':'))?;
    let key = std::str::from_utf8(&text[..separator])
        .ok()?
        .trim_matches([' ', '\t']);
    is_secret_key(key).then_some(separator + 1)
}

fn starts_indented_or_is_blank(text: &[u8]) -> bool {
    text.first().is_none_or(|b| matches!(b, b' ' | b'\t'))
        || text.iter().all(u8::is_ascii_whitespace)
}

/// One line for a `Debug`: its text (invalid UTF-8 replaced) and ending, with the value of a
/// secret key replaced by `<redacted>`; all of it when `continues_secret` (a continuation
/// line of a secret's value).
fn show(text: &[u8], ending: &[u8], continues_secret: bool) -> String {
    let kept = if continues_secret {
        Some(0)
    } else {
        secret_value_start(text)
    };
    let mut out = match kept {
        Some(end) => format!("{}<redacted>", String::from_utf8_lossy(&text[..end])),
        None => String::from_utf8_lossy(text).into_owned(),
    };
    out.push_str(&String::from_utf8_lossy(ending));
    out
}

/// A single line without its neighbours: the value of a secret key is redacted, and so is all
/// of an indented line, which may continue a secret's value on the line before.
pub(crate) struct LineText<'a> {
    pub text: &'a [u8],
    pub ending: &'a [u8],
}

impl fmt::Debug for LineText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let indented = self.text.first().is_some_and(|b| matches!(b, b' ' | b'\t'));
        fmt::Debug::fmt(&show(self.text, self.ending, indented), f)
    }
}

/// Lines of a file, each as `(text, ending)`: the value of every secret key is redacted, and so
/// is every line that may continue it (indented or blank lines right after it, which the AWS
/// CLI reads as more of the value).
pub(crate) fn lines<'a>(lines: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> Vec<String> {
    let mut in_secret = false;
    lines
        .map(|(text, ending)| {
            let continues = in_secret && starts_indented_or_is_blank(text);
            in_secret = continues || secret_value_start(text).is_some();
            show(text, ending, continues)
        })
        .collect()
}

/// Raw file bytes for a `Debug`: split into lines, secrets redacted.
pub(crate) struct FileBytes<'a>(pub &'a [u8]);

impl fmt::Debug for FileBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let doc = super::document::Document::parse(self.0);
        fmt::Debug::fmt(&doc, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn shown(text: &str) -> Vec<String> {
        lines(text.split_inclusive('\n').map(|l| {
            let (t, e) = l.strip_suffix('\n').map_or((l, ""), |t| (t, "\n"));
            (t.as_bytes(), e.as_bytes())
        }))
    }

    #[test]
    fn secret_values_and_their_continuations_are_redacted_and_nothing_else() {
        let text = format!(
            "[p]\nregion = eu-west-1\n  AWS_Secret_Access_Key : {SECRET}\n\n   {SECRET}\nrole_arn = x\naws_session_token={SECRET}\n"
        );
        assert_eq!(
            shown(&text),
            [
                "[p]\n",
                "region = eu-west-1\n",
                "  AWS_Secret_Access_Key :<redacted>\n",
                "<redacted>\n",
                "<redacted>\n",
                "role_arn = x\n",
                "aws_session_token=<redacted>\n"
            ]
        );
    }
}
