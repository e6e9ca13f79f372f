//! A lossless, line-based model of one AWS file: saving an untouched document gives back its exact bytes.

use std::ops::Range;

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

/// One physical line: its bytes without the ending, and the ending.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Line {
    pub text: Vec<u8>,
    pub ending: LineEnding,
}

impl Line {
    pub fn new(text: impl Into<Vec<u8>>, ending: LineEnding) -> Self {
        Line { text: text.into(), ending }
    }

    /// The text as UTF-8, or `None` when the bytes are not valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.text).ok()
    }

    /// The text as UTF-8 with invalid bytes replaced, for showing what can be shown.
    pub fn lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.text)
    }
}

/// The UTF-8 byte order mark, which the AWS CLI rejects.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One file as a list of lines. Lines break at `\n`, `\r\n` and a lone `\r`, as Python's
/// universal newlines (and so the AWS CLI) read them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Document {
    lines: Vec<Line>,
}

impl Document {
    /// Split bytes into lines. Never fails: any input whatsoever is representable.
    pub fn parse(bytes: &[u8]) -> Self {
        let mut lines = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => {
                    lines.push(Line::new(&bytes[start..i], LineEnding::Lf));
                    i += 1;
                    start = i;
                }
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    lines.push(Line::new(&bytes[start..i], LineEnding::CrLf));
                    i += 2;
                    start = i;
                }
                b'\r' => {
                    lines.push(Line::new(&bytes[start..i], LineEnding::Cr));
                    i += 1;
                    start = i;
                }
                _ => i += 1,
            }
        }
        if start < bytes.len() {
            lines.push(Line::new(&bytes[start..], LineEnding::None));
        }
        Document { lines }
    }

    /// The exact bytes of the document.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.lines.iter().map(|l| l.text.len() + 2).sum());
        for line in &self.lines {
            out.extend_from_slice(&line.text);
            out.extend_from_slice(line.ending.as_bytes());
        }
        out
    }

    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// A fingerprint of the content, to tell whether a cached reading still applies.
    /// Word-at-a-time multiply-rotate (FxHash style): every step is a bijection of the state,
    /// so a change confined to one 8-byte word always changes the fingerprint.
    pub fn fingerprint(&self) -> u64 {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h: u64 = self.lines.len() as u64;
        let mut add = |word: u64| h = (h.rotate_left(5) ^ word).wrapping_mul(K);
        for line in &self.lines {
            let chunks = line.text.chunks_exact(8);
            let tail = chunks.remainder();
            for chunk in chunks {
                add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
            }
            let mut last = [0u8; 8];
            last[..tail.len()].copy_from_slice(tail);
            add(u64::from_le_bytes(last));
            add(((line.text.len() as u64) << 8) | line.ending as u64);
        }
        h
    }

    pub fn starts_with_bom(&self) -> bool {
        self.lines.first().is_some_and(|l| l.text.starts_with(BOM))
    }

    /// The ending most lines use, for new lines (`\n` for an empty or one-line file).
    pub fn dominant_ending(&self) -> LineEnding {
        let count = |e| self.lines.iter().filter(|l| l.ending == e).count();
        let (lf, crlf, cr) = (count(LineEnding::Lf), count(LineEnding::CrLf), count(LineEnding::Cr));
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
        let at_end = range.end == self.lines.len();
        let last_had_no_ending = self.lines.last().is_some_and(|l| l.ending == LineEnding::None);
        let ending = self.dominant_ending();
        if at_end && last_had_no_ending {
            // The old last line (if kept) now needs an ending; the new last line gets none.
            if range.start > 0 && range.start == range.end && !new_lines.is_empty() {
                self.lines[range.start - 1].ending = ending;
            }
            if let Some(last) = new_lines.last_mut() {
                last.ending = LineEnding::None;
            }
        }
        self.lines.splice(range.clone(), new_lines);
        if at_end && last_had_no_ending {
            if let Some(last) = self.lines.last_mut() {
                if last.ending != LineEnding::None && range.end > range.start {
                    last.ending = LineEnding::None;
                }
            }
        }
        // Any line that is not last must end; a line with no ending can only be last.
        let n = self.lines.len();
        for (i, line) in self.lines.iter_mut().enumerate() {
            if i + 1 < n && line.ending == LineEnding::None {
                line.ending = ending;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_every_kind_of_line_ending() {
        let doc = Document::parse(b"a\nb\r\nc\rd");
        let endings: Vec<_> = doc.lines().iter().map(|l| l.ending).collect();
        assert_eq!(endings, [LineEnding::Lf, LineEnding::CrLf, LineEnding::Cr, LineEnding::None]);
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
