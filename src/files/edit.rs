//! Edits to the files that touch only the lines they must: set and unset settings (nested ones
//! too), add, copy, rename and delete profiles and sso-sessions. Every edit is re-read and
//! verified to mean exactly what was asked before it can be saved.

use super::cli_reading::{self, CliSyntax, OptionLine};
use super::document::{Document, Line};
use super::model::{Dialect, FileKind, Origin, Reading, Value};
use super::names::{self, NameError};
use super::AwsFiles;
use std::collections::BTreeMap;

/// The four keys `aws configure set` writes to the credentials file; all others go to config.
pub const CREDENTIAL_KEYS: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
];

/// A section that edits address: a profile or an sso-session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Section {
    Profile(String),
    SsoSession(String),
}

impl Section {
    pub fn name(&self) -> &str {
        match self {
            Section::Profile(n) | Section::SsoSession(n) => n,
        }
    }

    fn noun(&self) -> &'static str {
        match self {
            Section::Profile(_) => "profile",
            Section::SsoSession(_) => "sso-session",
        }
    }

    fn renamed(&self, name: &str) -> Section {
        match self {
            Section::Profile(_) => Section::Profile(name.to_string()),
            Section::SsoSession(_) => Section::SsoSession(name.to_string()),
        }
    }

    /// The header keyrack writes for this section in a file.
    fn header(&self, kind: FileKind) -> String {
        match (self, kind) {
            (Section::Profile(n), FileKind::Config) if n == "default" => "[default]".into(),
            (Section::Profile(n), FileKind::Config) => format!("[profile {n}]"),
            (Section::Profile(n), FileKind::Credentials) => format!("[{n}]"),
            (Section::SsoSession(n), _) => format!("[sso-session {n}]"),
        }
    }

    /// Whether a raw section name in a file means this section to the AWS CLI.
    fn is_named_by(&self, raw: &str, kind: FileKind) -> bool {
        match (self, kind) {
            (Section::Profile(n), FileKind::Config) => cli_reading::names_profile(raw, n),
            (Section::Profile(n), FileKind::Credentials) => raw == n,
            (Section::SsoSession(n), FileKind::Config) => cli_reading::names_sso_session(raw, n),
            (Section::SsoSession(_), FileKind::Credentials) => false,
        }
    }

    fn settings<'r>(&self, reading: &'r Reading) -> Option<&'r super::Settings> {
        match self {
            Section::Profile(n) => reading.profiles.get(n),
            Section::SsoSession(n) => reading.sso_sessions.get(n),
        }
    }
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} '{}'", self.noun(), self.name())
    }
}

/// A setting name, possibly nested: `region` or `s3.max_concurrent_requests`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPath {
    /// The top-level key, lower-cased as the AWS CLI reads it.
    pub key: String,
    /// The nested sub-key, case kept as botocore keeps it.
    pub sub: Option<String>,
}

impl KeyPath {
    pub fn parse(text: &str) -> Result<Self, EditError> {
        let (key, sub) = match text.split_once('.') {
            Some((k, s)) => (k, Some(s)),
            None => (text, None),
        };
        names::check_key(key).map_err(|reason| EditError::BadKey {
            key: text.to_string(),
            reason,
        })?;
        if let Some(sub) = sub {
            names::check_key(sub).map_err(|reason| EditError::BadKey {
                key: text.to_string(),
                reason,
            })?;
        }
        Ok(KeyPath {
            key: key.to_lowercase(),
            sub: sub.map(str::to_string),
        })
    }

    /// The file `aws configure set` writes this key to.
    pub fn home_file(&self) -> FileKind {
        if self.sub.is_none() && CREDENTIAL_KEYS.contains(&self.key.as_str()) {
            FileKind::Credentials
        } else {
            FileKind::Config
        }
    }
}

impl std::fmt::Display for KeyPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.sub {
            Some(sub) => write!(f, "{}.{}", self.key, sub),
            None => f.write_str(&self.key),
        }
    }
}

/// Why an edit was refused. Nothing is changed when an edit fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error(
        "a profile needs both halves of an access key, as `aws configure` asks for both: add \
         its {missing} (the AWS CLI fails with PartialCredentialsError without it), or leave \
         both empty"
    )]
    HalfKey { missing: &'static str },
    #[error("cannot use the name {name:?}: {reason}")]
    BadName { name: String, reason: NameError },
    #[error("cannot use the setting name {key:?}: {reason}")]
    BadKey { key: String, reason: NameError },
    #[error("cannot set {key} to that value: {reason}")]
    BadValue { key: String, reason: NameError },
    #[error("there is no {0}")]
    NotFound(Section),
    #[error("{section} has no setting '{key}'")]
    NoSetting { section: Section, key: String },
    #[error("{0} already exists; pick another name or delete it first")]
    AlreadyExists(Section),
    #[error("'{key}' of {section} is a plain setting, not a block of sub-settings; unset it first to make it a block")]
    NotABlock { section: Section, key: String },
    #[error("'{key}' of {section} is a block of sub-settings; set '{key}.NAME' to change one, or unset '{key}' first")]
    IsABlock { section: Section, key: String },
    #[error("'{key}' of {section} comes from the [DEFAULT] section, which applies to every section of the file; edit [DEFAULT] by hand or set the value instead")]
    Inherited { section: Section, key: String },
    #[error("'{key}' of {section} would still be set after removing it: the [DEFAULT] section of the {file} file gives it to every section there; edit [DEFAULT] by hand, or set the value instead")]
    ShadowsDefault {
        section: Section,
        key: String,
        file: &'static str,
    },
    #[error("{section} has no section in the {file} file, and cannot get one: the AWS CLI would read {header} as another name. Rename it (keyrack rename) to letters, digits and _-/.%@:+ first")]
    CannotName {
        section: Section,
        file: &'static str,
        header: String,
    },
    #[error("the edit did not read back as asked ({0}); nothing was written. This is a keyrack bug: please report it")]
    Unverified(String),
}

// ---------------------------------------------------------------- line-level helpers

fn text(doc: &Document, index: usize) -> String {
    doc.line(index).lossy().into_owned()
}

fn leading_ws(s: &str) -> &str {
    &s[..s.len() - s.trim_start_matches([' ', '\t']).len()]
}

fn new_line(doc: &Document, text: String) -> Line {
    Line::new(text, doc.dominant_ending())
}

fn is_blank(doc: &Document, index: usize) -> bool {
    super::python_text::strip(&doc.line(index).lossy()).is_empty()
}

fn is_comment(doc: &Document, index: usize) -> bool {
    let t = doc.line(index).lossy();
    let s = super::python_text::strip(&t);
    s.starts_with('#') || s.starts_with(';')
}

/// A key line with a new value, keeping its indentation, key and spacing. The key is written
/// lower-case (as the AWS CLI reads it); a `:` separator, which only the AWS CLI accepts,
/// becomes ` = ` so that every tool reads the line.
fn rewrite_key_line(line: &str, separators: &[char], value: &str, lowercase_key: bool) -> String {
    let pos = line.find(separators).unwrap_or(line.len());
    let (head, after) = (&line[..pos], line.get(pos + 1..).unwrap_or(""));
    let indent = leading_ws(head);
    let key_and_space = &head[indent.len()..];
    let key_and_space = if lowercase_key {
        key_and_space.to_lowercase()
    } else {
        key_and_space.to_string()
    };
    if line[pos..].starts_with(':') {
        return format!("{indent}{} = {value}", key_and_space.trim_end());
    }
    let space_after = leading_ws(after);
    format!("{indent}{key_and_space}={space_after}{value}")
}

/// The text between key and value in existing `key = value` lines of a block (`" = "` when
/// there is no such line to copy).
fn separator_style(doc: &Document, syntax: &CliSyntax, block: usize) -> String {
    for option in syntax.block_options(block).rev() {
        let line = text(doc, option.key_line);
        let Some(pos) = line.find(['=', ':']) else {
            continue;
        };
        let (before, after) = (&line[..pos], &line[pos + 1..]);
        if line[pos..].starts_with(':') || after.trim().is_empty() {
            continue;
        }
        let left = &before[before.trim_end_matches([' ', '\t']).len()..];
        return format!("{left}={}", leading_ws(after));
    }
    " = ".into()
}

fn content_end(syntax: &CliSyntax, block: usize) -> usize {
    let b = &syntax.blocks[block];
    syntax
        .block_options(block)
        .map(|o| o.last_line)
        .max()
        .unwrap_or(b.header_line)
        .max(b.header_line)
}

/// Blocks that mean `section` in this file.
fn all_blocks(syntax: &CliSyntax, section: &Section, kind: FileKind) -> Vec<usize> {
    (0..syntax.blocks.len())
        .filter(|&i| section.is_named_by(&syntax.blocks[i].name, kind))
        .collect()
}

/// Blocks the AWS CLI actually reads for `section`: when several raw names mean it (`[default]`
/// and `[profile default]`), the one that comes last wins wholesale.
fn effective_blocks(syntax: &CliSyntax, section: &Section, kind: FileKind) -> Vec<usize> {
    let blocks = all_blocks(syntax, section, kind);
    let mut raw_names: Vec<&str> = Vec::new();
    for &b in &blocks {
        let name = &*syntax.blocks[b].name;
        if !raw_names.contains(&name) {
            raw_names.push(name);
        }
    }
    match raw_names.last() {
        Some(winner) => blocks
            .into_iter()
            .filter(|&b| syntax.blocks[b].name == *winner)
            .collect(),
        None => Vec::new(),
    }
}

/// The last option named `key` within `blocks`.
fn find_option<'s>(syntax: &'s CliSyntax, blocks: &[usize], key: &str) -> Option<OptionLine<'s>> {
    blocks
        .iter()
        .flat_map(|&b| syntax.block_options(b))
        .rfind(|o| o.key == key)
}

/// Whether the setting on 1-based line `line` is written in a `[DEFAULT]` section, which every
/// section of the same file inherits.
fn from_defaults(doc: &Document, line: usize) -> bool {
    cli_reading::parse(doc)
        .default_options()
        .any(|o| o.key_line + 1 == line)
}

/// Append a new section at the end of the file, after a blank line.
fn append_section(doc: &mut Document, header: String, body: Vec<Line>) {
    let mut lines = Vec::new();
    if !doc.is_empty() && !is_blank(doc, doc.len() - 1) {
        lines.push(new_line(doc, String::new()));
    }
    lines.push(new_line(doc, header));
    lines.extend(body);
    let end = doc.len();
    doc.splice(end..end, lines);
}

// ---------------------------------------------------------------- one-file edits

/// Set `key` (or `key.sub`) in the section of one file, creating what is missing.
fn set_in_file(
    doc: &mut Document,
    kind: FileKind,
    section: &Section,
    key: &KeyPath,
    value: &str,
) -> Result<(), EditError> {
    let syntax = cli_reading::parse(doc);
    let blocks = effective_blocks(&syntax, section, kind);
    let Some(&last_block) = blocks.last() else {
        let header = section.header(kind);
        let raw_name = header
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(&header);
        if !section.is_named_by(raw_name, kind) {
            return Err(EditError::CannotName {
                section: section.clone(),
                file: kind.name(),
                header,
            });
        }
        let mut body = vec![new_line(
            doc,
            format!(
                "{} = {}",
                key.key,
                if key.sub.is_some() { "" } else { value }
            )
            .trim_end()
            .to_string(),
        )];
        if let Some(sub) = &key.sub {
            body.push(new_line(doc, format!("  {sub} = {value}")));
        }
        append_section(doc, header, body);
        return Ok(());
    };
    let found = find_option(&syntax, &blocks, &key.key);
    match (&key.sub, found) {
        (None, Some(option)) => {
            if option.is_nested() {
                return Err(EditError::IsABlock {
                    section: section.clone(),
                    key: key.key.clone(),
                });
            }
            let key_line = option.key_line;
            let mut remove: Vec<usize> = option.continuation_lines().map(|(l, _)| l).collect();
            remove.sort_unstable();
            for l in remove.into_iter().rev() {
                doc.splice(l..l + 1, vec![]);
            }
            let line = rewrite_key_line(&text(doc, key_line), &['=', ':'], value, true);
            let ending = doc.line(key_line).ending;
            doc.splice(key_line..key_line + 1, vec![Line::new(line, ending)]);
        }
        (None, None) => {
            let at = content_end(&syntax, last_block) + 1;
            let indent = syntax
                .block_options(last_block)
                .last()
                .map(|o| leading_ws(&text(doc, o.key_line)).to_string())
                .unwrap_or_default();
            let sep = separator_style(doc, &syntax, last_block);
            let line = new_line(doc, format!("{indent}{}{sep}{value}", key.key));
            doc.splice(at..at, vec![line]);
        }
        (Some(sub), None) => {
            let at = content_end(&syntax, last_block) + 1;
            let indent = syntax
                .block_options(last_block)
                .last()
                .map(|o| leading_ws(&text(doc, o.key_line)).to_string())
                .unwrap_or_default();
            let lines = vec![
                new_line(doc, format!("{indent}{} =", key.key)),
                new_line(doc, format!("{indent}  {sub} = {value}")),
            ];
            doc.splice(at..at, lines);
        }
        (Some(sub), Some(option)) => {
            let joined = option.joined_value();
            if !joined.is_empty() && !joined.starts_with('\n') {
                return Err(EditError::NotABlock {
                    section: section.clone(),
                    key: key.key.clone(),
                });
            }
            let sub_lines: Vec<(usize, String)> = option
                .continuation_lines()
                .map(|(l, _)| (l, text(doc, l)))
                .collect();
            let existing = sub_lines.iter().rev().find(|(_, t)| {
                t.split_once('=')
                    .is_some_and(|(k, _)| super::python_text::strip(k) == sub)
            });
            match existing {
                Some((l, t)) => {
                    let line = rewrite_key_line(t, &['='], value, false);
                    let ending = doc.line(*l).ending;
                    doc.splice(*l..*l + 1, vec![Line::new(line, ending)]);
                }
                None => {
                    let indent = match sub_lines.first() {
                        Some((_, t)) => leading_ws(t).to_string(),
                        None => format!("{}  ", leading_ws(&text(doc, option.key_line))),
                    };
                    let at = option.last_line + 1;
                    let line = new_line(doc, format!("{indent}{sub} = {value}"));
                    doc.splice(at..at, vec![line]);
                }
            }
        }
    }
    Ok(())
}

/// Remove `key` (or `key.sub`) from the section in one file. Returns whether anything was removed.
fn unset_in_file(doc: &mut Document, kind: FileKind, section: &Section, key: &KeyPath) -> bool {
    let syntax = cli_reading::parse(doc);
    let blocks = all_blocks(&syntax, section, kind);
    let mut remove: Vec<usize> = Vec::new();
    for &b in &blocks {
        for option in syntax.block_options(b).filter(|o| o.key == key.key) {
            match &key.sub {
                None => {
                    remove.push(option.key_line);
                    remove.extend(option.continuation_lines().map(|(l, _)| l));
                }
                Some(sub) if option.is_nested() => {
                    let subs: Vec<usize> = option.continuation_lines().map(|(l, _)| l).collect();
                    let matching: Vec<usize> = subs
                        .iter()
                        .copied()
                        .filter(|&l| {
                            text(doc, l)
                                .split_once('=')
                                .is_some_and(|(k, _)| super::python_text::strip(k) == sub)
                        })
                        .collect();
                    if !matching.is_empty() && matching.len() == subs.len() {
                        remove.push(option.key_line); // the block would be empty: remove it whole
                    }
                    remove.extend(matching);
                }
                Some(_) => {}
            }
        }
    }
    remove.sort_unstable();
    remove.dedup();
    for &l in remove.iter().rev() {
        doc.splice(l..l + 1, vec![]);
    }
    !remove.is_empty()
}

/// Remove every block that means `section`, with the comment lines glued above its header.
fn delete_in_file(doc: &mut Document, kind: FileKind, section: &Section) -> bool {
    let syntax = cli_reading::parse(doc);
    let blocks: Vec<(usize, usize)> = all_blocks(&syntax, section, kind)
        .into_iter()
        .map(|b| (syntax.blocks[b].header_line, content_end(&syntax, b)))
        .collect();
    for &(header_line, last_line) in blocks.iter().rev() {
        let mut start = header_line;
        while start > 0 && is_comment(doc, start - 1) {
            start -= 1;
        }
        let mut end = last_line + 1;
        while end < doc.len() && is_blank(doc, end) {
            end += 1;
        }
        if end == doc.len() {
            while start > 0 && is_blank(doc, start - 1) {
                start -= 1;
            }
        }
        doc.splice(start..end, vec![]);
    }
    !blocks.is_empty()
}

/// Rewrite the headers of every block that means `section` to name `new` instead.
fn rename_in_file(doc: &mut Document, kind: FileKind, section: &Section, new: &Section) -> bool {
    let syntax = cli_reading::parse(doc);
    let header_lines: Vec<usize> = all_blocks(&syntax, section, kind)
        .into_iter()
        .map(|b| syntax.blocks[b].header_line)
        .collect();
    for &line_index in &header_lines {
        let old = text(doc, line_index);
        let indent = leading_ws(&old).to_string();
        let tail = old
            .rfind(']')
            .map(|p| old[p + 1..].to_string())
            .unwrap_or_default();
        let ending = doc.line(line_index).ending;
        doc.splice(
            line_index..line_index + 1,
            vec![Line::new(
                format!("{indent}{}{tail}", new.header(kind)),
                ending,
            )],
        );
    }
    !header_lines.is_empty()
}

/// Append a copy of the body of the block(s) the AWS CLI reads for `section`, named `new`.
fn copy_in_file(doc: &mut Document, kind: FileKind, section: &Section, new: &Section) -> bool {
    let syntax = cli_reading::parse(doc);
    let blocks = effective_blocks(&syntax, section, kind);
    if blocks.is_empty() {
        return false;
    }
    let mut body = Vec::new();
    for &b in &blocks {
        for l in syntax.blocks[b].header_line + 1..=content_end(&syntax, b) {
            body.push(doc.line(l).to_line());
        }
    }
    let ending = doc.dominant_ending();
    for line in &mut body {
        if line.ending == super::document::LineEnding::None {
            line.ending = ending;
        }
    }
    append_section(doc, new.header(kind), body);
    true
}

// ---------------------------------------------------------------- verified edits on both files

/// The intended settings of the sections an edit touches (`None`: the section must not exist),
/// without line numbers and order: what verification compares with the re-read result.
type Meaning = BTreeMap<(u8, String), BTreeMap<String, Value>>;

fn section_id(section: &Section) -> (u8, String) {
    match section {
        Section::Profile(n) => (0, n.clone()),
        Section::SsoSession(n) => (1, n.clone()),
    }
}

fn group(reading: &Reading, tag: u8) -> &super::model::OrderedMap<super::Settings> {
    match tag {
        0 => &reading.profiles,
        1 => &reading.sso_sessions,
        _ => &reading.services,
    }
}

fn meaning_of(reading: &Reading, id: &(u8, String)) -> Option<BTreeMap<String, Value>> {
    group(reading, id.0).get(&id.1).map(|s| {
        s.iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    })
}

/// Whether two sections hold the same values (order and line numbers aside).
fn same_values(a: &super::Settings, b: &super::Settings) -> bool {
    // Unrelated sections keep their order, so a walk side by side settles almost every case.
    let in_order = || {
        a.iter()
            .zip(b.iter())
            .all(|((k, s), (l, t))| k == l && s.value == t.value)
    };
    a.len() == b.len()
        && (in_order()
            || a.iter()
                .all(|(k, s)| b.get(k).is_some_and(|t| t.value == s.value)))
}

fn rejecting_problems(reading: &Reading) -> Vec<(FileKind, String)> {
    let mut out: Vec<_> = reading
        .problems
        .iter()
        .filter(|p| p.rejects)
        .map(|p| (p.file, p.message.clone()))
        .collect();
    out.sort_by(|a, b| (a.0 as u8, &a.1).cmp(&(b.0 as u8, &b.1)));
    out
}

/// What an edit reports beyond success: things the user should know.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EditOutcome {
    pub warnings: Vec<String>,
}

impl AwsFiles {
    /// Apply `change` to copies of the documents, then re-read them as the AWS CLI does and
    /// check that the `touched` sections mean what `expected` says, that every other section
    /// is unchanged and that no new problem appeared. Only then keep the change.
    fn verified(
        &mut self,
        before: &Reading,
        touched: &[&Section],
        change: impl FnOnce(&mut AwsFiles) -> Result<(), EditError>,
        expected: impl FnOnce(&mut Meaning),
    ) -> Result<EditOutcome, EditError> {
        let ids: Vec<(u8, String)> = touched.iter().map(|s| section_id(s)).collect();
        let mut want: Meaning = ids
            .iter()
            .filter_map(|id| meaning_of(before, id).map(|m| (id.clone(), m)))
            .collect();
        expected(&mut want);
        let mut draft = self.clone();
        change(&mut draft)?;
        let after = draft.read(Dialect::Cli);
        let mut differing: Vec<String> = touched
            .iter()
            .zip(&ids)
            .filter(|(section, id)| {
                want.get(*id) != meaning_of(&after, id).as_ref()
                    && !self.reads_as_wanted(&draft, section, want.get(*id), &after)
            })
            .map(|(_, id)| id.1.clone())
            .collect();
        for tag in 0..3u8 {
            let (old, new) = (group(before, tag), group(&after, tag));
            for name in old
                .keys()
                .chain(new.keys().filter(|k| !old.contains_key(*k)))
            {
                if ids.iter().any(|id| id.0 == tag && id.1 == *name) {
                    continue;
                }
                let same = match (old.get(name), new.get(name)) {
                    (Some(a), Some(b)) => same_values(a, b),
                    _ => false,
                };
                if !same {
                    differing.push(name.clone());
                }
            }
        }
        if !differing.is_empty() {
            return Err(EditError::Unverified(format!(
                "sections that would differ: {}",
                differing.join(", ")
            )));
        }
        let old_problems = rejecting_problems(before);
        let new_problems: Vec<_> = rejecting_problems(&after)
            .into_iter()
            .filter(|p| !old_problems.contains(p))
            .collect();
        if let Some((file, message)) = new_problems.first() {
            return Err(EditError::Unverified(format!(
                "the {} file would get a new problem: {message}",
                file.name()
            )));
        }
        *self = draft;
        Ok(EditOutcome::default())
    }

    /// Whether `section` reads back from `draft` as `want` says once the settings that come
    /// with a new block are allowed for: a section written into a file where it had no block
    /// inherits that file's `[DEFAULT]` settings, as every section there does.
    fn reads_as_wanted(
        &self,
        draft: &AwsFiles,
        section: &Section,
        want: Option<&BTreeMap<String, Value>>,
        after: &Reading,
    ) -> bool {
        let (Some(want), Some(got)) = (want, section.settings(after)) else {
            return false;
        };
        let newly_inherited = |origin: Origin| {
            let had_block = !all_blocks(
                &cli_reading::parse(&self.file(origin.file).doc),
                section,
                origin.file,
            )
            .is_empty();
            !had_block && from_defaults(&draft.file(origin.file).doc, origin.line)
        };
        want.iter()
            .all(|(key, value)| got.get(key).is_some_and(|s| s.value == *value))
            && got
                .iter()
                .filter(|(key, _)| !want.contains_key(*key))
                .all(|(_, s)| newly_inherited(s.origin))
    }

    fn require(&self, before: &Reading, section: &Section) -> Result<(), EditError> {
        match section.settings(before) {
            Some(_) => Ok(()),
            None => Err(EditError::NotFound(section.clone())),
        }
    }

    fn require_new_name(&self, before: &Reading, section: &Section) -> Result<(), EditError> {
        names::check_profile_name(section.name()).map_err(|reason| EditError::BadName {
            name: section.name().to_string(),
            reason,
        })?;
        if section.settings(before).is_some()
            || section.settings(&self.read(Dialect::Sdk)).is_some()
        {
            return Err(EditError::AlreadyExists(section.clone()));
        }
        // A section with no settings is still a section: look at the headers too.
        for kind in [FileKind::Config, FileKind::Credentials] {
            let syntax = cli_reading::parse(&self.file(kind).doc);
            if !all_blocks(&syntax, section, kind).is_empty() {
                return Err(EditError::AlreadyExists(section.clone()));
            }
        }
        Ok(())
    }

    /// Set a setting (creating the section if needed), as `aws configure set` does, but safely.
    /// It goes where `aws configure set` puts it, except that a setting the credentials file
    /// already holds is changed there (the AWS CLI reads it from there).
    pub fn set(
        &mut self,
        section: &Section,
        key: &KeyPath,
        value: &str,
    ) -> Result<EditOutcome, EditError> {
        names::check_value(value).map_err(|reason| EditError::BadValue {
            key: key.to_string(),
            reason,
        })?;
        let before = self.read(Dialect::Cli);
        let settings = section.settings(&before);
        if settings.is_none() {
            names::check_profile_name(section.name()).map_err(|reason| EditError::BadName {
                name: section.name().to_string(),
                reason,
            })?;
        }
        let current = settings.and_then(|s| s.get(&key.key));
        let kind = match (section, current.map(|c| c.origin.file)) {
            (Section::SsoSession(_), _) => FileKind::Config,
            (_, Some(FileKind::Credentials)) => FileKind::Credentials,
            _ => key.home_file(),
        };
        let current = current.map(|s| s.value.clone());
        self.verified(
            &before,
            &[section],
            |files| set_in_file(&mut files.file_mut(kind).doc, kind, section, key, value),
            |want| {
                let settings = want.entry(section_id(section)).or_default();
                match &key.sub {
                    None => {
                        settings.insert(key.key.clone(), Value::of(&key.key, value.to_string()));
                    }
                    Some(sub) => {
                        let mut map = match current {
                            Some(Value::Nested(m)) => m,
                            _ => Default::default(),
                        };
                        map.insert(sub.clone(), value.to_string());
                        settings.insert(key.key.clone(), Value::Nested(map));
                    }
                }
            },
        )
    }

    /// Remove a setting from both files (wherever the AWS CLI would still find it).
    pub fn unset(&mut self, section: &Section, key: &KeyPath) -> Result<EditOutcome, EditError> {
        let before = self.read(Dialect::Cli);
        self.require(&before, section)?;
        let current = section.settings(&before).and_then(|s| s.get(&key.key));
        let present = match (current.map(|s| &s.value), &key.sub) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(Value::Nested(map)), Some(sub)) => map.contains_key(sub),
            (Some(Value::Text(_) | Value::Secret(_)), Some(_)) => false,
        };
        if !present {
            return Err(EditError::NoSetting {
                section: section.clone(),
                key: key.to_string(),
            });
        }
        let origin = current.expect("present").origin;
        if from_defaults(&self.file(origin.file).doc, origin.line) {
            return Err(EditError::Inherited {
                section: section.clone(),
                key: key.key.clone(),
            });
        }
        // Removing the section's own line would only uncover the value [DEFAULT] gives it.
        for kind in [FileKind::Config, FileKind::Credentials] {
            let syntax = cli_reading::parse(&self.file(kind).doc);
            let in_defaults = syntax.default_options().any(|o| o.key == key.key);
            if key.sub.is_none() && in_defaults && !all_blocks(&syntax, section, kind).is_empty() {
                return Err(EditError::ShadowsDefault {
                    section: section.clone(),
                    key: key.key.clone(),
                    file: kind.name(),
                });
            }
        }
        self.verified(
            &before,
            &[section],
            |files| {
                for kind in [FileKind::Config, FileKind::Credentials] {
                    unset_in_file(&mut files.file_mut(kind).doc, kind, section, key);
                }
                Ok(())
            },
            |want| {
                let settings = want.entry(section_id(section)).or_default();
                match &key.sub {
                    None => {
                        settings.remove(&key.key);
                    }
                    Some(sub) => {
                        if let Some(Value::Nested(map)) = settings.get_mut(&key.key) {
                            map.shift_remove(sub);
                            if map.is_empty() {
                                settings.remove(&key.key);
                            }
                        }
                    }
                }
            },
        )
    }

    /// Create a section with the given settings (each routed to its file).
    pub fn add(
        &mut self,
        section: &Section,
        settings: &[(KeyPath, String)],
    ) -> Result<EditOutcome, EditError> {
        let before = self.read(Dialect::Cli);
        self.require_new_name(&before, section)?;
        for (key, value) in settings {
            names::check_value(value).map_err(|reason| EditError::BadValue {
                key: key.to_string(),
                reason,
            })?;
        }
        self.verified(
            &before,
            &[section],
            |files| {
                if settings.is_empty() {
                    let doc = &mut files.config.doc;
                    append_section(doc, section.header(FileKind::Config), vec![]);
                }
                for (key, value) in settings {
                    let kind = match section {
                        Section::SsoSession(_) => FileKind::Config,
                        Section::Profile(_) => key.home_file(),
                    };
                    set_in_file(&mut files.file_mut(kind).doc, kind, section, key, value)?;
                }
                Ok(())
            },
            |want| {
                let entry = want.entry(section_id(section)).or_default();
                for (key, value) in settings {
                    match &key.sub {
                        None => {
                            entry.insert(key.key.clone(), Value::of(&key.key, value.clone()));
                        }
                        Some(sub) => {
                            let slot = entry
                                .entry(key.key.clone())
                                .or_insert_with(|| Value::Nested(Default::default()));
                            if let Value::Nested(map) = slot {
                                map.insert(sub.clone(), value.clone());
                            }
                        }
                    }
                }
            },
        )
    }

    /// Copy a section under a new name, in every file that holds it.
    pub fn copy(&mut self, section: &Section, new_name: &str) -> Result<EditOutcome, EditError> {
        let before = self.read(Dialect::Cli);
        self.require(&before, section)?;
        let new = section.renamed(new_name);
        self.require_new_name(&before, &new)?;
        self.verified(
            &before,
            &[section, &new],
            |files| {
                for kind in [FileKind::Config, FileKind::Credentials] {
                    copy_in_file(&mut files.file_mut(kind).doc, kind, section, &new);
                }
                Ok(())
            },
            |want| {
                let settings = want.get(&section_id(section)).cloned().unwrap_or_default();
                want.insert(section_id(&new), settings);
            },
        )
    }

    /// Rename a section in every file that holds it (every header that means it).
    pub fn rename(&mut self, section: &Section, new_name: &str) -> Result<EditOutcome, EditError> {
        let before = self.read(Dialect::Cli);
        self.require(&before, section)?;
        let new = section.renamed(new_name);
        self.require_new_name(&before, &new)?;
        let mut outcome = self.verified(
            &before,
            &[section, &new],
            |files| {
                for kind in [FileKind::Config, FileKind::Credentials] {
                    rename_in_file(&mut files.file_mut(kind).doc, kind, section, &new);
                }
                Ok(())
            },
            |want| {
                let settings = want.remove(&section_id(section)).unwrap_or_default();
                want.insert(section_id(&new), settings);
            },
        )?;
        let referrers: Vec<String> = self
            .read(Dialect::Cli)
            .profiles
            .iter()
            .filter(|(_, s)| {
                s.get("source_profile").and_then(|v| v.value.as_text()) == Some(section.name())
            })
            .map(|(n, _)| n.clone())
            .collect();
        if matches!(section, Section::Profile(_)) && !referrers.is_empty() {
            outcome.warnings.push(format!(
                "profiles {} still use source_profile = {}; change them to {} if they should follow the rename",
                referrers.join(", "),
                section.name(),
                new_name
            ));
        }
        Ok(outcome)
    }

    /// Delete a section from every file, with the comment lines glued above its headers.
    pub fn delete(&mut self, section: &Section) -> Result<EditOutcome, EditError> {
        let before = self.read(Dialect::Cli);
        let exists = self.require(&before, section).is_ok()
            || [FileKind::Config, FileKind::Credentials].iter().any(|&k| {
                !all_blocks(&cli_reading::parse(&self.file(k).doc), section, k).is_empty()
            });
        if !exists {
            return Err(EditError::NotFound(section.clone()));
        }
        self.verified(
            &before,
            &[section],
            |files| {
                for kind in [FileKind::Config, FileKind::Credentials] {
                    delete_in_file(&mut files.file_mut(kind).doc, kind, section);
                }
                Ok(())
            },
            |want| {
                want.remove(&section_id(section));
            },
        )
    }
}

impl AwsFiles {
    /// Set a setting in `kind`'s copy of `section` (which must exist in that file), even where
    /// the other file overrides it: for changes that must reach every copy of a value, such as
    /// a rotated access key. Verified like every edit: that file reads back as before except
    /// for this one setting, the other file is untouched, and no new problem appears.
    pub fn set_in(
        &mut self,
        kind: FileKind,
        section: &Section,
        key: &KeyPath,
        value: &str,
    ) -> Result<EditOutcome, EditError> {
        names::check_value(value).map_err(|reason| EditError::BadValue {
            key: key.to_string(),
            reason,
        })?;
        let syntax = cli_reading::parse(&self.file(kind).doc);
        let Some(&winner) = effective_blocks(&syntax, section, kind).last() else {
            return Err(EditError::NotFound(section.clone()));
        };
        let raw_name = syntax.blocks[winner].name.clone();
        let file_meaning = |files: &AwsFiles| -> BTreeMap<String, BTreeMap<String, Value>> {
            let (sections, _) =
                cli_reading::sections(cli_reading::parse(&files.file(kind).doc), kind);
            sections
                .into_iter()
                .map(|(name, s)| (name, s.into_iter().map(|(k, v)| (k, v.value)).collect()))
                .collect()
        };
        let mut want = file_meaning(self);
        let settings = want.entry(raw_name.into_owned()).or_default();
        let new_value = match (&key.sub, settings.get(&key.key)) {
            (None, _) => Value::of(&key.key, value.to_string()),
            (Some(sub), current) => {
                let mut map = match current {
                    Some(Value::Nested(m)) => m.clone(),
                    _ => Default::default(),
                };
                map.insert(sub.clone(), value.to_string());
                Value::Nested(map)
            }
        };
        settings.insert(key.key.clone(), new_value);
        let mut draft = self.clone();
        set_in_file(&mut draft.file_mut(kind).doc, kind, section, key, value)?;
        if file_meaning(&draft) != want {
            return Err(EditError::Unverified(format!(
                "the {} file would not read back as asked",
                kind.name()
            )));
        }
        let old_problems = rejecting_problems(&self.read(Dialect::Cli));
        if let Some((file, message)) = rejecting_problems(&draft.read(Dialect::Cli))
            .into_iter()
            .find(|p| !old_problems.contains(p))
        {
            return Err(EditError::Unverified(format!(
                "the {} file would get a new problem: {message}",
                file.name()
            )));
        }
        *self = draft;
        Ok(EditOutcome::default())
    }
}
