//! Loading and saving an untouched file gives back the identical bytes, for any input at all.

use keyrack::files::document::{Document, Line, LineEnding};
use keyrack::files::{AwsFiles, Dialect};
use proptest::prelude::*;

/// Bytes biased towards what makes INI parsing interesting: brackets, separators, comment marks,
/// every kind of line ending, whitespace, a BOM and invalid UTF-8.
fn tricky_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"[".to_vec()),
        Just(b"]".to_vec()),
        Just(b"=".to_vec()),
        Just(b":".to_vec()),
        Just(b"#".to_vec()),
        Just(b";".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\xFF".to_vec()),
        Just(b"\xC3".to_vec()),
        Just("é".as_bytes().to_vec()),
        Just(b"profile ".to_vec()),
        Just(b"default".to_vec()),
        Just(b"region".to_vec()),
        Just(b"s3".to_vec()),
        "[a-z]{1,6}".prop_map(|s| s.into_bytes()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(piece, 0..80).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_bytes_survive_a_load_and_save(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        prop_assert_eq!(Document::parse(&bytes).to_bytes(), bytes);
    }

    #[test]
    fn ini_like_bytes_survive_a_load_and_save(bytes in tricky_bytes()) {
        prop_assert_eq!(Document::parse(&bytes).to_bytes(), bytes.clone());
        // Reading never panics and never changes the document.
        let files = AwsFiles::from_bytes(&bytes, &bytes);
        let _ = files.read(Dialect::Cli);
        let _ = files.read(Dialect::Sdk);
        let _ = files.disagreements();
        prop_assert_eq!(files.config.doc.to_bytes(), bytes);
    }

    /// Edits replace ranges of lines; what is written is then exactly the lines the document
    /// holds, each with its ending, whatever mix of loaded and new lines it has.
    #[test]
    fn an_edited_document_writes_exactly_its_lines(
        bytes in tricky_bytes(),
        edits in prop::collection::vec((0..100usize, 0..3usize, prop::collection::vec("[a-z =]{0,8}", 0..3)), 0..6),
    ) {
        let mut doc = Document::parse(&bytes);
        for (at, removed, texts) in edits {
            let start = at % (doc.len() + 1);
            let end = (start + removed).min(doc.len());
            doc.splice(start..end, texts.into_iter().map(|t| Line::new(t, LineEnding::Lf)).collect());
            let lines: Vec<u8> = doc.iter().flat_map(|l| [l.text, l.ending.as_bytes()].concat()).collect();
            prop_assert_eq!(doc.to_bytes(), lines);
        }
    }
}

#[test]
fn every_line_ending_style_bom_and_missing_final_newline_survive() {
    for bytes in [
        &b""[..],
        b"\n",
        b"\r",
        b"\r\n",
        b"\xEF\xBB\xBF[default]\r\nregion = us-east-1",
        b"[a]\rk=v\r\n\n  x\r",
        b"\xFF\xFE[bad utf8]\n",
    ] {
        assert_eq!(Document::parse(bytes).to_bytes(), bytes);
    }
}
