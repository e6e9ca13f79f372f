//! A lossless, line-based model of one AWS file: saving an untouched document gives back its exact bytes.

use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::redact;

/// How one line ends. Every line keeps its own ending, so mixed files survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LineEnding {
    Lf,
    CrLf,
    Cr,
    /// The last line of a file with no final newline.
    None,
}

impl LineEnding {
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            LineEnding::Lf => b"\n",
            LineEnding::CrLf => b"\r\n",
            LineEnding::Cr => b"\r",
            LineEnding::None => b"",
        }
    }
}

/// A line to put into a document: its bytes without the ending, and the ending. Its `Debug`
/// redacts the value of a secret key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Line {
    pub text: Vec<u8>,
    pub ending: LineEnding,
}

impl Line {
    pub fn new(text: impl Into<Vec<u8>>, ending: LineEnding) -> Self {
        Line {
            text: text.into(),
            ending,
        }
    }
}

/// One line of a document, borrowed from it. Two lines are equal when their bytes and
/// endings are. Its `Debug` redacts the value of a secret key.
#[derive(Clone, Copy)]
pub struct LineRef<'a> {
    pub text: &'a [u8],
    pub ending: LineEnding,
    /// The text as UTF-8 when the document already knows it is valid (checked once per load).
    known_str: Option<&'a str>,
}

impl PartialEq for LineRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.ending == other.ending
    }
}

impl Eq for LineRef<'_> {}

impl fmt::Debug for LineRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(
            &redact::LineText {
                text: self.text,
                ending: self.ending.as_bytes(),
            },
            f,
        )
    }
}

impl fmt::Debug for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(
            &redact::LineText {
                text: &self.text,
                ending: self.ending.as_bytes(),
            },
            f,
        )
    }
}

impl<'a> LineRef<'a> {
    /// The text as UTF-8, or `None` when the bytes are not valid UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        self.known_str
            .or_else(|| std::str::from_utf8(self.text).ok())
    }

    /// The text as UTF-8 with invalid bytes replaced, for showing what can be shown.
    pub fn lossy(&self) -> std::borrow::Cow<'a, str> {
        String::from_utf8_lossy(self.text)
    }

    pub fn to_line(&self) -> Line {
        Line::new(self.text, self.ending)
    }
}

/// The UTF-8 byte order mark, which the AWS CLI rejects.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where one line's bytes are: in the bytes as loaded, or in the text added by edits.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: usize,
    len: usize,
    ending: LineEnding,
    added: bool,
}

/// The bytes as loaded, kept as text when they are valid UTF-8 (as nearly every file is), so
/// that reading a line as text needs no check of its own.
#[derive(Clone)]
enum Loaded {
    Text(Arc<str>),
    Bytes(Arc<[u8]>),
}

/// One file as a list of lines. Lines break at `\n`, `\r\n` and a lone `\r`, as Python's
/// universal newlines (and so the AWS CLI) read them. The lines point into the bytes as loaded
/// (shared by every copy of the document, so a draft copy for an edit costs little) and into
/// the text of lines that edits added.
///
/// Its `Debug` shows the lines with every secret value redacted (see [`redact`]).
#[derive(Clone)]
pub struct Document {
    loaded: Loaded,
    added: Vec<u8>,
    spans: Vec<Span>,
    /// Names this content: see [`Document::version`].
    version: u64,
}

/// The source of document versions: every parse and every splice takes the next number.
static NEXT_VERSION: AtomicU64 = AtomicU64::new(1);

fn new_version() -> u64 {
    NEXT_VERSION.fetch_add(1, Ordering::Relaxed)
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = redact::lines(self.iter().map(|l| (l.text, l.ending.as_bytes())));
        f.debug_struct("Document")
            .field("version", &self.version)
            .field("lines", &lines)
            .finish()
    }
}

impl Default for Document {
    fn default() -> Self {
        Document::parse(b"")
    }
}

impl PartialEq for Document {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Document {}

impl Document {
    /// Split bytes into lines. Never fails: any input whatsoever is representable.
    pub fn parse(bytes: &[u8]) -> Self {
        let mut spans = Vec::with_capacity(bytes.len() / 24 + 1);
        let mut start = 0;
        while let Some(offset) = memchr::memchr2(b'\n', b'\r', &bytes[start..]) {
            let end = start + offset;
            let (ending, width) = match (bytes[end], bytes.get(end + 1)) {
                (b'\n', _) => (LineEnding::Lf, 1),
                (_, Some(b'\n')) => (LineEnding::CrLf, 2),
                _ => (LineEnding::Cr, 1),
            };
            spans.push(Span {
                start,
                len: end - start,
                ending,
                added: false,
            });
            start = end + width;
        }
        if start < bytes.len() {
            spans.push(Span {
                start,
                len: bytes.len() - start,
                ending: LineEnding::None,
                added: false,
            });
        }
        let loaded = match std::str::from_utf8(bytes) {
            Ok(text) => Loaded::Text(Arc::from(text)),
            Err(_) => Loaded::Bytes(Arc::from(bytes)),
        };
        Document {
            loaded,
            added: Vec::new(),
            spans,
            version: new_version(),
        }
    }

    fn line_of(&self, span: &Span) -> LineRef<'_> {
        let range = span.start..span.start + span.len;
        let (text, known_str) = match (&self.loaded, span.added) {
            (_, true) => (&self.added[range], None),
            // Lines break at ASCII bytes, so every line of valid UTF-8 is valid UTF-8.
            (Loaded::Text(s), false) => {
                let line = &s[range];
                (line.as_bytes(), Some(line))
            }
            (Loaded::Bytes(b), false) => (&b[range], None),
        };
        LineRef {
            text,
            ending: span.ending,
            known_str,
        }
    }

    /// Line `index` (0-based). Panics when there is no such line.
    pub fn line(&self, index: usize) -> LineRef<'_> {
        self.get(index).expect("line index within the document")
    }

    pub fn get(&self, index: usize) -> Option<LineRef<'_>> {
        self.spans.get(index).map(|span| self.line_of(span))
    }

    pub fn iter(&self) -> impl Iterator<Item = LineRef<'_>> {
        self.spans.iter().map(|span| self.line_of(span))
    }

    /// The exact bytes of the document.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.spans.iter().map(|s| s.len + 2).sum());
        // Untouched lines follow one another in the bytes as loaded: copy each run at once.
        let loaded = self.loaded_bytes();
        let mut run: Option<Range<usize>> = None;
        for span in &self.spans {
            let end = span.start + span.len + span.ending.as_bytes().len();
            // A line from the loaded bytes whose ending is still the one loaded with it.
            let untouched = !span.added
                && end <= loaded.len()
                && loaded[span.start + span.len..end] == *span.ending.as_bytes();
            if untouched {
                match &mut run {
                    Some(r) if r.end == span.start => r.end = end,
                    _ => {
                        if let Some(r) = run.replace(span.start..end) {
                            out.extend_from_slice(&loaded[r]);
                        }
                    }
                }
                continue;
            }
            if let Some(r) = run.take() {
                out.extend_from_slice(&loaded[r]);
            }
            let line = self.line_of(span);
            out.extend_from_slice(line.text);
            out.extend_from_slice(line.ending.as_bytes());
        }
        if let Some(r) = run {
            out.extend_from_slice(&loaded[r]);
        }
        out
    }

    fn loaded_bytes(&self) -> &[u8] {
        match &self.loaded {
            Loaded::Text(s) => s.as_bytes(),
            Loaded::Bytes(b) => b,
        }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// A number that names this content, to tell whether a reading of it still applies: a
    /// copy has its original's version until either changes, and every parse and every change
    /// takes a number no document had before. Equal versions therefore mean equal content (the
    /// converse need not hold: two parses of the same bytes have different versions).
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn starts_with_bom(&self) -> bool {
        self.get(0).is_some_and(|l| l.text.starts_with(BOM))
    }

    /// The ending most lines use, for new lines (`\n` for an empty or one-line file).
    pub fn dominant_ending(&self) -> LineEnding {
        let (mut lf, mut crlf, mut cr) = (0, 0, 0);
        for span in &self.spans {
            match span.ending {
                LineEnding::Lf => lf += 1,
                LineEnding::CrLf => crlf += 1,
                LineEnding::Cr => cr += 1,
                LineEnding::None => {}
            }
        }
        if crlf > lf && crlf >= cr {
            LineEnding::CrLf
        } else if cr > lf && cr > crlf {
            LineEnding::Cr
        } else {
            LineEnding::Lf
        }
    }

    /// Replace a range of lines with new ones, keeping the file's "no final newline" style:
    /// lines inserted at the very end of such a file leave the new last line without an ending.
    pub fn splice(&mut self, range: Range<usize>, mut new_lines: Vec<Line>) {
        self.version = new_version();
        let at_end = range.end == self.spans.len();
        let last_had_no_ending = self
            .spans
            .last()
            .is_some_and(|l| l.ending == LineEnding::None);
        let ending = self.dominant_ending();
        if at_end && last_had_no_ending {
            // The old last line (if kept) now needs an ending; the new last line gets none.
            if range.start > 0 && range.start == range.end && !new_lines.is_empty() {
                self.spans[range.start - 1].ending = ending;
            }
            if let Some(last) = new_lines.last_mut() {
                last.ending = LineEnding::None;
            }
        }
        let mut new_spans = Vec::with_capacity(new_lines.len());
        for line in new_lines {
            new_spans.push(Span {
                start: self.added.len(),
                len: line.text.len(),
                ending: line.ending,
                added: true,
            });
            self.added.extend_from_slice(&line.text);
        }
        self.spans.splice(range.clone(), new_spans);
        if at_end && last_had_no_ending {
            if let Some(last) = self.spans.last_mut() {
                if last.ending != LineEnding::None && range.end > range.start {
                    last.ending = LineEnding::None;
                }
            }
        }
        // Any line that is not last must end; a line with no ending can only be last.
        let n = self.spans.len();
        for (i, span) in self.spans.iter_mut().enumerate() {
            if i + 1 < n && span.ending == LineEnding::None {
                span.ending = ending;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const TOKEN: &str = "FwoGZXIvYXdzEXAMPLETOKENVALUE";

    #[test]
    fn debug_of_a_document_and_its_lines_shows_no_secret() {
        let text = format!("[default]\nregion = eu-west-1\naws_secret_access_key = {SECRET}\naws_session_token =\n  {TOKEN}\n");
        let mut doc = Document::parse(text.as_bytes());
        doc.splice(
            1..1,
            vec![Line::new(
                format!("aws_security_token = {TOKEN}"),
                LineEnding::Lf,
            )],
        );
        let line = Line::new(format!("aws_secret_access_key = {SECRET}"), LineEnding::Lf);
        let shown = format!(
            "{doc:?} {doc:#?} {:?} {line:?} {:?}",
            doc.line(3),
            doc.iter().collect::<Vec<_>>()
        );
        assert!(!shown.contains(SECRET) && !shown.contains(TOKEN), "{shown}");
        assert!(
            shown.contains("region = eu-west-1")
                && shown.contains("aws_secret_access_key =<redacted>"),
            "{shown}"
        );
    }

    #[test]
    fn splits_on_every_kind_of_line_ending() {
        let doc = Document::parse(b"a\nb\r\nc\rd");
        let endings: Vec<_> = doc.iter().map(|l| l.ending).collect();
        assert_eq!(
            endings,
            [
                LineEnding::Lf,
                LineEnding::CrLf,
                LineEnding::Cr,
                LineEnding::None
            ]
        );
        assert_eq!(doc.to_bytes(), b"a\nb\r\nc\rd");
    }

    #[test]
    fn appending_to_a_file_without_final_newline_keeps_that_style() {
        let mut doc = Document::parse(b"[a]\nx = 1");
        doc.splice(2..2, vec![Line::new("y = 2", LineEnding::Lf)]);
        assert_eq!(doc.to_bytes(), b"[a]\nx = 1\ny = 2");
    }

    #[test]
    fn removing_the_last_line_keeps_the_no_final_newline_style() {
        let mut doc = Document::parse(b"[a]\nx = 1\ny = 2");
        doc.splice(2..3, vec![]);
        assert_eq!(doc.to_bytes(), b"[a]\nx = 1");
    }

    #[test]
    fn crlf_files_get_crlf_lines() {
        let mut doc = Document::parse(b"[a]\r\nx = 1\r\n");
        doc.splice(2..2, vec![Line::new("y = 2", doc.dominant_ending())]);
        assert_eq!(doc.to_bytes(), b"[a]\r\nx = 1\r\ny = 2\r\n");
    }
}
