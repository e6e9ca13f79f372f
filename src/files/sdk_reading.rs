//! The AWS SDKs' reading of the two files (the shared file format of the SDK reference guide,
//! as the Rust, Go v2, Java v2 and JS v3 SDKs implement it), lenient like the CLI reading:
//! every problem is recorded and the rest is still read.

use super::document::Document;
use super::model::{FileKind, OrderedMap, Origin, Problem, Reading, Setting, Settings, Value};
use indexmap::IndexMap;

/// The only characters the SDK format treats as whitespace.
const WHITESPACE: &[char] = &[' ', '\t'];
const COMMENT: &[char] = &['#', ';'];

/// Characters allowed in SDK profile names and property names.
pub fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c))
}

/// A raw section: its name between the brackets and its properties, each with its 1-based line.
type RawSections = IndexMap<String, (usize, IndexMap<String, (String, usize)>)>;

/// The lines as the SDKs split them (`\n` or `\r\n`; a lone `\r` stays inside the line),
/// each with the 1-based number of the document line it starts on.
fn sdk_lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut doc_line = 1;
    for line in text.lines() {
        out.push((doc_line, line));
        doc_line += 1 + line.matches('\r').count();
    }
    out
}

/// Strip surrounding whitespace and a trailing comment (`comments_need_whitespace`: a `#` or `;`
/// starts a comment only after whitespace, as in property values).
fn prepare_line(line: &str, comments_need_whitespace: bool) -> &str {
    let line = line.trim_matches(WHITESPACE);
    let mut prev_whitespace = false;
    let mut cut = line.len();
    for (i, c) in line.char_indices() {
        if COMMENT.contains(&c) && (prev_whitespace || !comments_need_whitespace) {
            cut = i;
            break;
        }
        prev_whitespace = c.is_whitespace();
    }
    line[..cut].trim_matches(WHITESPACE)
}

fn parse_property(line: &str) -> Result<(&str, &str), &'static str> {
    let line = prepare_line(line, true);
    let (k, v) = line.split_once('=').ok_or("expected an '=' sign")?;
    let (k, v) = (k.trim_matches(WHITESPACE), v.trim_matches(WHITESPACE));
    if k.is_empty() {
        return Err("the setting has no name");
    }
    Ok((k, v))
}

fn parse_file(doc: &Document, file: FileKind, problems: &mut Vec<Problem>) -> RawSections {
    let mut sections = RawSections::new();
    let bytes = doc.to_bytes();
    let Ok(text) = std::str::from_utf8(&bytes) else {
        problems.push(Problem {
            file,
            line: None,
            message: "the file is not valid UTF-8; the AWS SDKs cannot read it (the Rust SDK reads it as empty)".into(),
            rejects: true,
        });
        return sections;
    };
    let mut current: Option<String> = None;
    let mut property: Option<(String, bool)> = None; // (key, is a sub-property block)
    let mut fail = |line: usize, message: String| {
        problems.push(Problem {
            file,
            line: Some(line),
            message,
            rejects: true,
        })
    };
    for (lineno, line) in sdk_lines(text) {
        if line.trim_matches(WHITESPACE).is_empty() || line.starts_with(COMMENT) {
            continue;
        }
        if line.starts_with('[') {
            let prepared = prepare_line(line, false);
            match prepared.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                Some(name) => {
                    sections
                        .entry(name.to_string())
                        .or_insert_with(|| (lineno, IndexMap::new()));
                    current = Some(name.to_string());
                    property = None;
                }
                None => fail(
                    lineno,
                    "for the AWS SDKs this section header must end with ']'".into(),
                ),
            }
        } else if line.starts_with(WHITESPACE) {
            match (&current, &property) {
                (None, _) => fail(lineno, "for the AWS SDKs an indented line before any [section] is an error".into()),
                (Some(_), None) => fail(lineno, "for the AWS SDKs an indented line must continue a setting; there is none above it in this section".into()),
                (Some(section), Some((key, is_sub))) => {
                    if *is_sub && !line.trim_matches(WHITESPACE).is_empty() {
                        if let Err(why) = parse_property(line) {
                            fail(lineno, format!("for the AWS SDKs this nested line is invalid: {why}"));
                        }
                    }
                    if let Some((value, _)) = sections[section].1.get_mut(key) {
                        value.push('\n');
                        value.push_str(line.trim_matches(WHITESPACE));
                    }
                }
            }
        } else {
            let Some(section) = &current else {
                fail(
                    lineno,
                    "for the AWS SDKs a setting before any [section] is an error".into(),
                );
                continue;
            };
            match parse_property(line) {
                Ok((k, v)) => {
                    sections[section]
                        .1
                        .insert(k.to_string(), (v.to_string(), lineno));
                    property = Some((k.to_string(), v.is_empty()));
                }
                Err(why) => fail(lineno, format!("the AWS SDKs cannot read this line: {why}")),
            }
        }
    }
    sections
}

/// How the SDKs understand a section name: an optional prefix word and a name.
fn section_key(raw: &str) -> (Option<&str>, &str) {
    let raw = raw.trim_matches(WHITESPACE);
    match raw.split_once(WHITESPACE) {
        Some((prefix, name)) => (Some(prefix.trim()), name.trim()),
        None => (None, raw.trim()),
    }
}

/// Sub-settings of a nested value, split as the SDKs do (`k = v` per line).
fn nested(value: &str) -> OrderedMap<String> {
    value
        .split('\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let mut parts = l.split('=');
            let k = parts.next()?.trim_matches(WHITESPACE);
            let v = parts.next()?.trim_matches(WHITESPACE);
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

fn settings_of(
    file: FileKind,
    properties: &IndexMap<String, (String, usize)>,
    section: &str,
    problems: &mut Vec<Problem>,
) -> Settings {
    let mut out = Settings::default();
    for (key, (value, line)) in properties {
        if !is_identifier(key) {
            problems.push(Problem {
                file,
                line: Some(*line),
                message: format!("the AWS SDKs ignore setting '{key}' in [{section}]: names may use only letters, digits and _-/.%@:+"),
                rejects: false,
            });
            continue;
        }
        let value = if value.starts_with('\n') {
            Value::Nested(Box::new(nested(value)))
        } else {
            Value::of(key, value.clone())
        };
        out.insert(
            key.clone(),
            Setting {
                value,
                origin: Origin { file, line: *line },
            },
        );
    }
    out
}

fn merge(into: &mut Settings, from: Settings) {
    for (k, v) in from {
        into.insert(k, v);
    }
}

/// The AWS SDKs' reading of the two files: config first, then credentials, key by key.
pub fn read(config: &Document, credentials: &Document) -> Reading {
    let mut reading = Reading::default();
    let mut problems = Vec::new();
    let config_sections = parse_file(config, FileKind::Config, &mut problems);
    let has_prefixed_default = config_sections
        .keys()
        .any(|raw| section_key(raw) == (Some("profile"), "default"));
    let ignored = |file: FileKind, line: usize, message: String| Problem {
        file,
        line: Some(line),
        message,
        rejects: false,
    };
    for (raw, (first_line, properties)) in &config_sections {
        let first_line = *first_line;
        let settings = settings_of(FileKind::Config, properties, raw, &mut problems);
        let (prefix, name) = section_key(raw);
        match prefix {
            None if name == "default" => {
                if !has_prefixed_default {
                    merge(reading.profiles.entry(name.to_string()).or_default(), settings);
                }
            }
            None => problems.push(ignored(FileKind::Config, first_line, format!("the AWS SDKs ignore [{raw}] in the config file: profiles there need the 'profile ' prefix"))),
            Some(_) if !is_identifier(name) => {
                problems.push(ignored(FileKind::Config, first_line, format!("the AWS SDKs ignore [{raw}]: '{name}' is not a valid name for them")))
            }
            Some("profile") => merge(reading.profiles.entry(name.to_string()).or_default(), settings),
            Some("sso-session") => merge(reading.sso_sessions.entry(name.to_string()).or_default(), settings),
            Some("services") => merge(reading.services.entry(name.to_string()).or_default(), settings),
            Some(_) => {}
        }
    }
    let credential_sections = parse_file(credentials, FileKind::Credentials, &mut problems);
    for (raw, (first_line, properties)) in &credential_sections {
        let first_line = *first_line;
        match section_key(raw) {
            (None, name) if is_identifier(name) => {
                let settings = settings_of(FileKind::Credentials, properties, raw, &mut problems);
                merge(reading.profiles.entry(name.to_string()).or_default(), settings);
            }
            _ => problems.push(ignored(
                FileKind::Credentials,
                first_line,
                format!("the AWS SDKs ignore [{raw}] in the credentials file: sections there are plain profile names"),
            )),
        }
    }
    reading.problems = problems;
    reading
}
