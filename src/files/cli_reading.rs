//! The AWS CLI's reading of one file: Python's `configparser` line rules followed by botocore's
//! section and nested-block rules, reproduced line for line, but lenient: where the AWS CLI
//! would stop at the first error, this records the problem and goes on, so everything that
//! can be shown is shown.

use super::document::{Document, BOM};
use super::model::{FileKind, OrderedMap, Origin, Problem, Settings, Setting, Value};
use super::python_text::{is_space, rstrip, splitlines, strip};
use rustc_hash::FxHashMap;

/// The section configparser treats as defaults for every other section of the same file.
pub const DEFAULT_SECTION: &str = "DEFAULT";

/// One `[header]` occurrence and the options written under it.
#[derive(Clone, Debug)]
pub struct Block {
    /// The raw section name between the brackets, as configparser keeps it.
    pub name: String,
    /// 0-based index of the header line.
    pub header_line: usize,
    pub options: Vec<OptionLine>,
}

/// One option: its key line and the continuation lines that belong to its value.
#[derive(Clone, Debug)]
pub struct OptionLine {
    /// The key as configparser stores it: lower-cased.
    pub key: String,
    /// 0-based index of the key line.
    pub key_line: usize,
    /// 0-based index of the last line holding part of the value (the key line if none).
    pub last_line: usize,
    /// The value on the key line.
    first: String,
    /// Each continuation part (empty for a blank line inside the value) with its line.
    more: Vec<(String, usize)>,
}

impl OptionLine {
    /// The value as configparser gives it: parts joined by `\n`, trailing whitespace removed.
    pub fn joined_value(&self) -> String {
        if self.more.is_empty() {
            return rstrip(&self.first).to_string();
        }
        let joined: Vec<&str> = std::iter::once(self.first.as_str()).chain(self.more.iter().map(|(p, _)| p.as_str())).collect();
        rstrip(&joined.join("\n")).to_string()
    }

    /// Whether botocore reads this value as a nested block: the joined value starts with a
    /// newline, that is, nothing on the key line and some text on a continuation line (parts
    /// are stripped, so a part that is not empty holds text).
    pub fn is_nested(&self) -> bool {
        self.first.is_empty() && self.more.iter().any(|(part, _)| !part.is_empty())
    }

    /// The 0-based lines of the value's continuation parts that hold text.
    pub fn continuation_lines(&self) -> impl Iterator<Item = (usize, &str)> {
        self.more.iter().filter(|(p, _)| !p.is_empty()).map(|(p, l)| (*l, p.as_str()))
    }
}

/// A whole file as configparser sees it: its blocks in order and the problems found.
#[derive(Clone, Debug, Default)]
pub struct CliSyntax {
    pub blocks: Vec<Block>,
    pub problems: Vec<(usize, String)>,
}

/// Parse a document the way `configparser.RawConfigParser().read()` does.
pub fn parse(doc: &Document) -> CliSyntax {
    let mut syntax = CliSyntax::default();
    // (block index, option index) of the option that continuation lines extend.
    let mut current_block: Option<usize> = None;
    let mut current_option: Option<(usize, usize)> = None;
    let mut indent_level: usize = 0;
    // Section names seen so far (each with a number), and (section number, key) pairs seen.
    let mut section_ids: FxHashMap<String, usize> = FxHashMap::default();
    let mut current_section_id = 0;
    // The blocks of each section number (more than one only for a repeated section).
    let mut blocks_of_section: Vec<Vec<usize>> = Vec::new();

    for (index, line) in doc.iter().enumerate() {
        let lineno = index + 1;
        let mut bytes: &[u8] = line.text;
        if index == 0 && bytes.starts_with(BOM) {
            syntax.problems.push((
                lineno,
                "the file starts with a UTF-8 byte order mark (BOM); the AWS CLI rejects the whole file. Save it as UTF-8 without BOM".into(),
            ));
            bytes = &bytes[BOM.len()..];
        }
        let text: std::borrow::Cow<str> = match std::str::from_utf8(bytes) {
            Ok(s) => s.into(),
            Err(_) => {
                syntax.problems.push((
                    lineno,
                    "this line is not valid UTF-8; the AWS CLI rejects the whole file. Re-save the file as UTF-8".into(),
                ));
                String::from_utf8_lossy(bytes)
            }
        };
        let stripped = strip(&text);
        let is_comment = stripped.starts_with('#') || stripped.starts_with(';');
        if stripped.is_empty() || is_comment {
            // configparser keeps an empty line inside a value (not a comment line).
            if !is_comment {
                if let Some((b, o)) = current_option {
                    syntax.blocks[b].options[o].more.push((String::new(), index));
                }
            }
            continue;
        }
        let indent = text.char_indices().find(|(_, c)| !is_space(*c)).map(|(i, _)| text[..i].chars().count()).unwrap_or(0);
        if let (Some(_), Some((b, o))) = (current_block, current_option) {
            if indent > indent_level {
                let option = &mut syntax.blocks[b].options[o];
                option.more.push((stripped.to_string(), index));
                option.last_line = index;
                continue;
            }
        }
        indent_level = indent;
        if let Some(name) = section_header(stripped) {
            let name = name.to_string();
            let next_id = section_ids.len();
            match section_ids.get(&name) {
                Some(&id) => {
                    if name != DEFAULT_SECTION {
                        syntax.problems.push((
                            lineno,
                            format!("section [{name}] appears more than once in this file; the AWS CLI rejects the whole file. Merge the two sections into one"),
                        ));
                    }
                    current_section_id = id;
                }
                None => {
                    section_ids.insert(name.clone(), next_id);
                    blocks_of_section.push(Vec::new());
                    current_section_id = next_id;
                }
            }
            blocks_of_section[current_section_id].push(syntax.blocks.len());
            syntax.blocks.push(Block { name, header_line: index, options: Vec::with_capacity(4) });
            current_block = Some(syntax.blocks.len() - 1);
            current_option = None;
            continue;
        }
        let Some(block) = current_block else {
            syntax.problems.push((
                lineno,
                "a setting before any [section] header; the AWS CLI rejects the whole file. Put it under a [profile NAME] (or remove it)".into(),
            ));
            continue;
        };
        match stripped.find(['=', ':']) {
            Some(pos) => {
                let key = rstrip(&stripped[..pos]);
                let value = strip(&stripped[pos + 1..]);
                if key.is_empty() {
                    syntax.problems.push((lineno, "a setting with no name before its '='; the AWS CLI rejects the whole file".into()));
                }
                let key = if key.chars().any(|c| !c.is_ascii() || c.is_ascii_uppercase()) { key.to_lowercase() } else { key.to_string() };
                // Sections hold a handful of keys: a scan is cheaper than hashing every key.
                let repeated = blocks_of_section[current_section_id]
                    .iter()
                    .any(|&b| syntax.blocks[b].options.iter().any(|o| o.key == key));
                if repeated {
                    let section = &syntax.blocks[block].name;
                    syntax.problems.push((
                        lineno,
                        format!("setting '{key}' appears twice in section [{section}] (keys ignore case); the AWS CLI rejects the whole file. Keep only one"),
                    ));
                }
                let has_name = !key.is_empty();
                let options = &mut syntax.blocks[block].options;
                options.push(OptionLine { key, key_line: index, last_line: index, first: value.to_string(), more: Vec::new() });
                // configparser continues only a named option (`optname` must be truthy).
                current_option = has_name.then(|| (block, options.len() - 1));
            }
            None => {
                syntax.problems.push((
                    lineno,
                    "this line is neither a [section], a 'key = value' setting nor a comment; the AWS CLI rejects the whole file. Add '= value', indent it under a setting, or start it with '#'".into(),
                ));
            }
        }
    }
    syntax
}

/// configparser's section regex `\[(?P<header>.+)\]`, matched at the start of the stripped line.
fn section_header(stripped: &str) -> Option<&str> {
    let rest = stripped.strip_prefix('[')?;
    let close = rest.rfind(']')?;
    let name = &rest[..close];
    (!name.is_empty() && !name.contains('\n')).then_some(name)
}

/// botocore's `_parse_nested`: split a value that starts with a newline into sub-settings.
/// Returns the sub-settings and the continuation lines that have no `=` (which botocore rejects).
pub fn parse_nested(option: &OptionLine) -> (OrderedMap<String>, Vec<usize>) {
    let mut map = OrderedMap::default();
    let mut bad = Vec::new();
    for (line_index, part) in option.continuation_lines() {
        for piece in splitlines(part) {
            let piece = strip(piece);
            if piece.is_empty() {
                continue;
            }
            match piece.split_once('=') {
                Some((k, v)) => {
                    map.insert(strip(k).to_string(), strip(v).to_string());
                }
                None => bad.push(line_index),
            }
        }
    }
    (map, bad)
}

/// The sections of one file with their settings, as botocore's `raw_config_parse` returns them
/// (`[DEFAULT]` keys inherited by every section), plus the problems found.
pub fn sections(syntax: CliSyntax, file: FileKind) -> (OrderedMap<Settings>, Vec<Problem>) {
    let mut problems: Vec<Problem> = syntax
        .problems
        .into_iter()
        .map(|(line, message)| Problem { file, line: Some(line), message, rejects: true })
        .collect();
    let mut raw: OrderedMap<Settings> = OrderedMap::with_capacity_and_hasher(syntax.blocks.len(), Default::default());
    let mut defaults = Settings::default();
    for block in syntax.blocks {
        let target = if block.name == DEFAULT_SECTION {
            &mut defaults
        } else {
            let capacity = block.options.len();
            raw.entry(block.name).or_insert_with(|| Settings::with_capacity_and_hasher(capacity, Default::default()))
        };
        for mut option in block.options {
            let origin = Origin { file, line: option.key_line + 1 };
            let value = if option.is_nested() {
                let (map, bad) = parse_nested(&option);
                for line in bad {
                    problems.push(Problem {
                        file,
                        line: Some(line + 1),
                        message: format!(
                            "this line inside the nested '{}' block has no '='; the AWS CLI rejects the whole file. Write it as 'name = value'",
                            option.key
                        ),
                        rejects: true,
                    });
                }
                Value::Nested(map)
            } else if option.more.is_empty() {
                // The common one-line value: reuse its string rather than copying it.
                let mut value = std::mem::take(&mut option.first);
                value.truncate(rstrip(&value).len());
                Value::Text(value)
            } else {
                Value::Text(option.joined_value())
            };
            target.insert(option.key, Setting { value, origin });
        }
    }
    if !defaults.is_empty() {
        for settings in raw.values_mut() {
            for (key, setting) in &defaults {
                if !settings.contains_key(key) {
                    settings.insert(key.clone(), setting.clone());
                }
            }
        }
    }
    problems.sort_by_key(|p| p.line);
    (raw, problems)
}

/// What a config-file section name means to botocore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SectionMeaning {
    Profile(String),
    SsoSession(String),
    Services(String),
    /// A section botocore keeps but that is none of the above (`[plugins]`, `[ default ]`...).
    Other,
}

/// botocore's `build_profile_map` rule for one raw config section name.
pub fn config_section_meaning(name: &str) -> SectionMeaning {
    let second_word = || {
        if !name.contains(['"', '\'', '\\']) {
            // No quoting: shlex splits only at its four whitespace characters.
            let mut words = name.split([' ', '\t', '\r', '\n']).filter(|w| !w.is_empty());
            return match (words.next(), words.next(), words.next()) {
                (Some(_), Some(second), None) => Some(second.to_string()),
                _ => None,
            };
        }
        match super::python_text::shlex_split(name) {
            Ok(words) if words.len() == 2 => Some(words[1].clone()),
            _ => None,
        }
    };
    if name.starts_with("profile") {
        second_word().map(SectionMeaning::Profile).unwrap_or(SectionMeaning::Other)
    } else if name.starts_with("sso-session") {
        second_word().map(SectionMeaning::SsoSession).unwrap_or(SectionMeaning::Other)
    } else if name.starts_with("services") {
        second_word().map(SectionMeaning::Services).unwrap_or(SectionMeaning::Other)
    } else if name == "default" {
        SectionMeaning::Profile("default".into())
    } else {
        SectionMeaning::Other
    }
}

/// The AWS CLI's reading of the two files, merged as botocore's `Session.full_config` does.
pub fn read(config: &Document, credentials: &Document) -> super::model::Reading {
    let mut reading = super::model::Reading::default();
    // The two files are independent until merged: read the credentials file on a second core.
    let ((config_sections, problems), (credential_sections, credential_problems)) = std::thread::scope(|scope| {
        let credentials = scope.spawn(|| sections(parse(credentials), FileKind::Credentials));
        let config = sections(parse(config), FileKind::Config);
        (config, credentials.join().expect("reading the credentials file does not panic"))
    });
    reading.problems.extend(problems);
    reading.profiles.reserve(config_sections.len());
    for (name, settings) in config_sections {
        match config_section_meaning(&name) {
            SectionMeaning::Profile(p) => {
                reading.profiles.insert(p, settings);
            }
            SectionMeaning::SsoSession(s) => {
                reading.sso_sessions.insert(s, settings);
            }
            SectionMeaning::Services(s) => {
                reading.services.insert(s, settings);
            }
            SectionMeaning::Other => {}
        }
    }
    reading.problems.extend(credential_problems);
    for (name, settings) in credential_sections {
        let profile = reading.profiles.entry(name).or_default();
        profile.reserve(settings.len());
        for (key, setting) in settings {
            profile.insert(key, setting);
        }
    }
    reading
}
