//! The AWS SDKs' reading, rule by rule from the SDK reference guide's file format page
//! (docs.aws.amazon.com/sdkref/latest/guide/file-format.html), and where it parts from the CLI's.

use keyrack::files::{AwsFiles, Dialect, Reading, Value};

fn sdk(config: &str, credentials: &str) -> std::sync::Arc<Reading> {
    AwsFiles::from_bytes(config.as_bytes(), credentials.as_bytes()).read(Dialect::Sdk)
}

fn value(reading: &Reading, profile: &str, key: &str) -> Option<String> {
    reading
        .profiles
        .get(profile)?
        .get(key)?
        .value
        .as_text()
        .map(str::to_string)
}

#[test]
fn an_inline_comment_needs_whitespace_before_it() {
    let r = sdk(
        "[default]\na = x # note\nb = x;y\nc = x ;note\nd = https://h/start#/\n",
        "",
    );
    assert_eq!(value(&r, "default", "a").as_deref(), Some("x"));
    assert_eq!(value(&r, "default", "b").as_deref(), Some("x;y"));
    assert_eq!(value(&r, "default", "c").as_deref(), Some("x"));
    assert_eq!(
        value(&r, "default", "d").as_deref(),
        Some("https://h/start#/")
    );
}

#[test]
fn profile_default_always_wins_over_default_in_config() {
    for config in [
        "[profile default]\nregion = a\n[default]\nregion = b\n",
        "[default]\nregion = b\n[profile default]\nregion = a\n",
    ] {
        let r = sdk(config, "");
        assert_eq!(
            value(&r, "default", "region").as_deref(),
            Some("a"),
            "{config}"
        );
    }
}

#[test]
fn a_colon_separator_is_an_error() {
    let r = sdk("[default]\nregion: us-east-1\n", "");
    assert!(r.rejection().is_some_and(|p| p.line == Some(2)));
    assert_eq!(value(&r, "default", "region"), None);
}

#[test]
fn section_names_are_trimmed_and_need_the_profile_prefix_in_config() {
    let r = sdk(
        "[ default ]\na = 1\n[profile   x ]\nb = 2\n[y]\nc = 3\n",
        "",
    );
    assert_eq!(value(&r, "default", "a").as_deref(), Some("1"));
    assert_eq!(value(&r, "x", "b").as_deref(), Some("2"));
    assert!(!r.profiles.contains_key("y"));
}

#[test]
fn the_credentials_file_has_plain_names_only() {
    let r = sdk("", "[profile x]\na = 1\n[y]\nb = 2\n");
    assert!(!r.profiles.contains_key("x") && !r.profiles.contains_key("profile x"));
    assert_eq!(value(&r, "y", "b").as_deref(), Some("2"));
}

#[test]
fn names_with_characters_outside_the_identifier_set_are_ignored() {
    let r = sdk(
        "[profile a!b]\nx = 1\n[profile ok]\nbad key = 1\ngood_key = 2\n",
        "",
    );
    assert!(!r.profiles.contains_key("a!b"));
    assert_eq!(value(&r, "ok", "bad key"), None);
    assert_eq!(value(&r, "ok", "good_key").as_deref(), Some("2"));
}

#[test]
fn indented_lines_continue_the_value_and_nested_blocks_become_sub_settings() {
    let r = sdk(
        "[default]\nmulti = a\n  b\ns3 =\n  max = 10\n  style = path\n",
        "",
    );
    assert_eq!(value(&r, "default", "multi").as_deref(), Some("a\nb"));
    let Value::Nested(s3) = &r.profiles["default"]["s3"].value else {
        panic!("s3 should be nested")
    };
    assert_eq!(s3["max"], "10");
    assert_eq!(s3["style"], "path");
}

#[test]
fn an_indented_comment_continues_a_value_for_the_sdks_but_not_for_the_cli() {
    let files = AwsFiles::from_bytes(b"[default]\nregion = us-east-1\n  # note\n", b"");
    assert_eq!(
        value(&files.read(Dialect::Sdk), "default", "region").as_deref(),
        Some("us-east-1\n# note")
    );
    assert_eq!(
        value(&files.read(Dialect::Cli), "default", "region").as_deref(),
        Some("us-east-1")
    );
    assert_eq!(files.disagreements().len(), 1);
}

#[test]
fn keys_keep_their_case() {
    let r = sdk("[default]\nREGION = us-east-1\n", "");
    assert_eq!(value(&r, "default", "REGION").as_deref(), Some("us-east-1"));
    assert_eq!(value(&r, "default", "region"), None);
}

#[test]
fn repeated_sections_merge_and_the_last_key_wins() {
    let r = sdk("[profile x]\na = 1\nb = 1\n[profile x]\nb = 2\n", "");
    assert_eq!(value(&r, "x", "a").as_deref(), Some("1"));
    assert_eq!(value(&r, "x", "b").as_deref(), Some("2"));
    assert!(r.rejection().is_none());
}

#[test]
fn the_credentials_file_wins_key_by_key() {
    let r = sdk(
        "[profile x]\nregion = a\noutput = json\n",
        "[x]\nregion = b\n",
    );
    assert_eq!(value(&r, "x", "region").as_deref(), Some("b"));
    assert_eq!(value(&r, "x", "output").as_deref(), Some("json"));
}

#[test]
fn settings_before_any_section_and_continuations_with_nothing_to_continue_are_errors() {
    assert_eq!(
        sdk("a = 1\n[default]\n", "")
            .rejection()
            .and_then(|p| p.line),
        Some(1)
    );
    assert_eq!(
        sdk("[default]\n  a = 1\n", "")
            .rejection()
            .and_then(|p| p.line),
        Some(2)
    );
    assert_eq!(
        sdk("[default\na = 1\n", "")
            .rejection()
            .and_then(|p| p.line),
        Some(1)
    );
}

#[test]
fn a_file_that_is_not_utf8_is_not_read() {
    let files = AwsFiles::from_bytes(b"[default]\nregion = caf\xe9\n", b"");
    let r = files.read(Dialect::Sdk);
    assert!(r.rejection().is_some());
    assert!(r.profiles.is_empty());
}

#[test]
fn both_defaults_present_is_reported_as_a_disagreement_with_its_line() {
    let files = AwsFiles::from_bytes(
        b"[profile default]\nregion = a\n\n[default]\nregion = b\n",
        b"",
    );
    let d = files.disagreements();
    assert!(
        d.iter().any(|p| p.line == Some(4)
            && p.message
                .contains("both [default] (line 4) and [profile default] (line 1)")),
        "{d:?}"
    );
    assert!(
        d.iter().any(|p| p.line == Some(5)
            && p.message.contains("\"b\"")
            && p.message.contains("\"a\"")),
        "{d:?}"
    );
}
