//! The AWS CLI's reading of one file: Python's `configparser` line rules followed by botocore's
//! section and nested-block rules, reproduced line for line, but lenient: where the AWS CLI
//! would stop at the first error, this records the problem and goes on, so everything that
//! can be shown is shown.

use super::document::{Document, BOM};
use super::model::{
    is_secret_key, FileKind, OrderedMap, Origin, Problem, Redacted, Setting, Settings, Value,
};
use super::python_text::{lstrip, rstrip, splitlines, strip};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// The section configparser treats as defaults for every other section of the same file.
pub const DEFAULT_SECTION: &str = "DEFAULT";

/// One `[header]` occurrence and the options written under it. Text is borrowed from the
/// document (copied only from a line that is not valid UTF-8).
#[derive(Clone, Debug)]
pub struct Block<'a> {
    /// The raw section name between the brackets, as configparser keeps it.
    pub name: Cow<'a, str>,
    /// 0-based index of the header line.
    pub header_line: usize,
    /// The number of the section this block belongs to, in order of first appearance: the
    /// blocks of a repeated section share it.
    section: usize,
    /// Where this block's options are in [`CliSyntax::options`] (a block's options follow one
    /// another, so one list holds those of every block).
    options: Range<usize>,
}

/// One option as parsed: its key line, and where its continuation parts are.
#[derive(Clone)]
struct ParsedOption<'a> {
    key: Cow<'a, str>,
    key_line: usize,
    last_line: usize,
    first: Cow<'a, str>,
    /// Where this option's continuation parts are in [`CliSyntax::parts`].
    parts: Range<usize>,
}

/// One option of a parsed file: its key line and the continuation lines that belong to its value.
/// Its `Debug` redacts the value of a secret key.
#[derive(Clone, Copy)]
pub struct OptionLine<'s> {
    /// The key as configparser stores it: lower-cased.
    pub key: &'s str,
    /// 0-based index of the key line.
    pub key_line: usize,
    /// 0-based index of the last line holding part of the value (the key line if none).
    pub last_line: usize,
    /// The value on the key line.
    first: &'s str,
    /// Each continuation part (empty for a blank line inside the value) with its line. Blank
    /// lines after the last part are not kept: they add nothing to the value.
    parts: &'s [(Cow<'s, str>, usize)],
}

impl fmt::Debug for OptionLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("OptionLine");
        out.field("key", &self.key)
            .field("key_line", &self.key_line)
            .field("last_line", &self.last_line);
        if is_secret_key(self.key) {
            out.field("value", &Redacted);
        } else {
            out.field("first", &self.first).field("parts", &self.parts);
        }
        out.finish()
    }
}

impl<'s> OptionLine<'s> {
    /// The value as configparser gives it: parts joined by `\n`, trailing whitespace removed.
    pub fn joined_value(&self) -> String {
        let mut joined = String::from(self.first);
        for (part, _) in self.parts {
            joined.push('\n');
            joined.push_str(part);
        }
        joined.truncate(rstrip(&joined).len());
        joined
    }

    /// Whether botocore reads this value as a nested block: the joined value starts with a
    /// newline, that is, nothing on the key line and some text on a continuation line (parts
    /// are stripped, so a part that is not empty holds text).
    pub fn is_nested(&self) -> bool {
        self.first.is_empty() && self.parts.iter().any(|(part, _)| !part.is_empty())
    }

    /// The 0-based lines of the value's continuation parts that hold text.
    pub fn continuation_lines(&self) -> impl Iterator<Item = (usize, &'s str)> {
        self.parts
            .iter()
            .filter(|(p, _)| !p.is_empty())
            .map(|(p, l)| (*l, &**p))
    }
}

/// A whole file as configparser sees it: its blocks in order and the problems found. Its
/// `Debug` redacts the values of secret keys.
#[derive(Clone, Default)]
pub struct CliSyntax<'a> {
    pub blocks: Vec<Block<'a>>,
    /// The options of every block, block after block.
    options: Vec<ParsedOption<'a>>,
    /// The continuation parts of every option, option after option.
    parts: Vec<(Cow<'a, str>, usize)>,
    pub problems: Vec<(usize, String)>,
    /// How many different section names there are (`[DEFAULT]` included).
    sections: usize,
}

impl fmt::Debug for CliSyntax<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let options: Vec<OptionLine> = self.options.iter().map(|o| o.line(&self.parts)).collect();
        f.debug_struct("CliSyntax")
            .field("blocks", &self.blocks)
            .field("options", &options)
            .field("problems", &self.problems)
            .field("sections", &self.sections)
            .finish()
    }
}

impl<'a> CliSyntax<'a> {
    /// The options of block `block`, in file order.
    pub fn block_options(
        &self,
        block: usize,
    ) -> impl DoubleEndedIterator<Item = OptionLine<'_>> + ExactSizeIterator {
        self.options[self.blocks[block].options.clone()]
            .iter()
            .map(|o| o.line(&self.parts))
    }

    /// The options of the `[DEFAULT]` blocks, which every section of the file inherits.
    pub fn default_options(&self) -> impl Iterator<Item = OptionLine<'_>> {
        (0..self.blocks.len())
            .filter(|&b| self.blocks[b].name == DEFAULT_SECTION)
            .flat_map(|b| self.block_options(b))
    }
}

impl<'a> ParsedOption<'a> {
    /// This option with its continuation parts, out of the parts of every option.
    fn line<'s>(&'s self, parts: &'s [(Cow<'a, str>, usize)]) -> OptionLine<'s> {
        OptionLine {
            key: &self.key,
            key_line: self.key_line,
            last_line: self.last_line,
            first: &self.first,
            parts: &parts[self.parts.clone()],
        }
    }
}

/// `part`, a piece of `line`'s text, kept in the syntax: borrowed from the document when
/// `line` is the document's own text, copied when the text was decoded from invalid UTF-8.
/// `part` must be a slice of the line's text (as every piece `parse` takes is).
#[inline]
fn keep<'a>(part: &str, line: Option<&'a str>) -> Cow<'a, str> {
    match line {
        Some(line) => {
            debug_assert!(
                line.as_bytes().as_ptr_range().contains(&part.as_ptr()) || part.is_empty()
            );
            let start = part.as_ptr() as usize - line.as_ptr() as usize;
            Cow::Borrowed(&line[start..start + part.len()])
        }
        None => Cow::Owned(part.to_string()),
    }
}

/// Parse a document the way `configparser.RawConfigParser().read()` does.
pub fn parse(doc: &Document) -> CliSyntax<'_> {
    // Every option and every part takes a line of its own: sized once, the lists are never
    // copied while they grow (a file of 2,000 profiles has some 20,000 options and parts).
    let mut syntax = CliSyntax {
        options: Vec::with_capacity(doc.len()),
        parts: Vec::with_capacity(doc.len()),
        ..CliSyntax::default()
    };
    // The block, and the option (in `syntax.options`) that continuation lines extend.
    let mut current_block: Option<usize> = None;
    let mut current_option: Option<usize> = None;
    let mut indent_level: usize = 0;
    // The number of each section name seen so far, and how many blocks each section has.
    let mut section_ids: FxHashMap<Cow<str>, usize> = FxHashMap::default();
    let mut blocks_per_section: Vec<usize> = Vec::new();
    // Blank lines since the current option's last line, which belong to its value if more of
    // it follows (even after a line configparser rejects: that does not end the option).
    let mut blanks_in_value: Vec<usize> = Vec::new();

    for (index, line) in doc.iter().enumerate() {
        let lineno = index + 1;
        if index == 0 && line.text.starts_with(BOM) {
            syntax.problems.push((
                lineno,
                "the file starts with a UTF-8 byte order mark (BOM); the AWS CLI rejects the whole file. Save it as UTF-8 without BOM".into(),
            ));
        }
        let lossy: String;
        let own_text = line.as_str();
        let mut text = match own_text {
            Some(text) => text,
            None => {
                syntax.problems.push((
                    lineno,
                    "this line is not valid UTF-8; the AWS CLI rejects the whole file. Re-save the file as UTF-8".into(),
                ));
                lossy = String::from_utf8_lossy(line.text).into_owned();
                &lossy
            }
        };
        if index == 0 {
            text = text.strip_prefix('\u{feff}').unwrap_or(text);
        }
        let from_text = lstrip(text);
        let stripped = rstrip(from_text);
        let is_comment = stripped.starts_with('#') || stripped.starts_with(';');
        if stripped.is_empty() || is_comment {
            // configparser keeps an empty line inside a value (not a comment line). It only
            // matters when more of the value follows: blank lines at its end are stripped.
            if !is_comment && current_option.is_some() {
                blanks_in_value.push(index);
            }
            continue;
        }
        // The indentation in characters: configparser compares it with the option's.
        let leading = &text[..text.len() - from_text.len()];
        let indent = if leading.is_ascii() {
            leading.len()
        } else {
            leading.chars().count()
        };
        if let Some(o) = current_option {
            if indent > indent_level {
                // Only the option pushed last continues, so its parts are the last parts.
                debug_assert!(
                    o + 1 == syntax.options.len()
                        && syntax.options[o].parts.end == syntax.parts.len()
                );
                syntax.parts.extend(
                    blanks_in_value
                        .drain(..)
                        .map(|line| (Cow::Borrowed(""), line)),
                );
                syntax.parts.push((keep(stripped, own_text), index));
                let option = &mut syntax.options[o];
                option.parts.end = syntax.parts.len();
                option.last_line = index;
                continue;
            }
        }
        indent_level = indent;
        if let Some(name) = section_header(stripped) {
            let name = keep(name, own_text);
            let section = match section_ids.get(&*name) {
                Some(&id) => {
                    if name != DEFAULT_SECTION {
                        syntax.problems.push((
                            lineno,
                            format!("section [{name}] appears more than once in this file; the AWS CLI rejects the whole file. Merge the two sections into one"),
                        ));
                    }
                    id
                }
                None => {
                    let id = section_ids.len();
                    section_ids.insert(name.clone(), id);
                    blocks_per_section.push(0);
                    id
                }
            };
            blocks_per_section[section] += 1;
            let options = syntax.options.len()..syntax.options.len();
            syntax.blocks.push(Block {
                name,
                header_line: index,
                section,
                options,
            });
            current_block = Some(syntax.blocks.len() - 1);
            current_option = None;
            blanks_in_value.clear();
            continue;
        }
        let Some(block) = current_block else {
            syntax.problems.push((
                lineno,
                "a setting before any [section] header; the AWS CLI rejects the whole file. Put it under a [profile NAME] (or remove it)".into(),
            ));
            continue;
        };
        match memchr::memchr2(b'=', b':', stripped.as_bytes()) {
            Some(pos) => {
                let key = rstrip(&stripped[..pos]);
                let value = strip(&stripped[pos + 1..]);
                if key.is_empty() {
                    syntax.problems.push((
                        lineno,
                        "a setting with no name before its '='; the AWS CLI rejects the whole file"
                            .into(),
                    ));
                }
                let key = if key.bytes().any(|b| !b.is_ascii() || b.is_ascii_uppercase()) {
                    Cow::Owned(key.to_lowercase())
                } else {
                    keep(key, own_text)
                };
                // Sections hold a handful of keys: a scan is cheaper than hashing every key.
                let section = syntax.blocks[block].section;
                let in_block = |b: &Block| {
                    syntax.options[b.options.clone()]
                        .iter()
                        .any(|o| o.key == key)
                };
                let repeated = if blocks_per_section[section] == 1 {
                    in_block(&syntax.blocks[block])
                } else {
                    syntax
                        .blocks
                        .iter()
                        .filter(|b| b.section == section)
                        .any(in_block)
                };
                if repeated {
                    let section = &syntax.blocks[block].name;
                    syntax.problems.push((
                        lineno,
                        format!("setting '{key}' appears twice in section [{section}] (keys ignore case); the AWS CLI rejects the whole file. Keep only one"),
                    ));
                }
                let has_name = !key.is_empty();
                let parts = syntax.parts.len()..syntax.parts.len();
                syntax.options.push(ParsedOption {
                    key,
                    key_line: index,
                    last_line: index,
                    first: keep(value, own_text),
                    parts,
                });
                syntax.blocks[block].options.end = syntax.options.len();
                // configparser continues only a named option (`optname` must be truthy).
                current_option = has_name.then(|| syntax.options.len() - 1);
                blanks_in_value.clear();
            }
            None => {
                syntax.problems.push((
                    lineno,
                    "this line is neither a [section], a 'key = value' setting nor a comment; the AWS CLI rejects the whole file. Add '= value', indent it under a setting, or start it with '#'".into(),
                ));
            }
        }
    }
    syntax.sections = section_ids.len();
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
    let mut map = OrderedMap::with_capacity_and_hasher(option.parts.len(), Default::default());
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

/// The sections of one file in order of first appearance with their settings, as botocore's
/// `raw_config_parse` returns them (`[DEFAULT]` keys inherited by every section), plus the
/// problems found.
///
/// Each section's map has `room` places beyond its own settings, for settings merged in later.
pub fn section_list(
    syntax: CliSyntax<'_>,
    file: FileKind,
    room: usize,
) -> (Vec<(Cow<'_, str>, Settings)>, Vec<Problem>) {
    let CliSyntax {
        blocks,
        options,
        parts,
        problems,
        sections,
    } = syntax;
    let mut problems: Vec<Problem> = problems
        .into_iter()
        .map(|(line, message)| Problem {
            file,
            line: Some(line),
            message,
            rejects: true,
        })
        .collect();
    let mut list: Vec<(Cow<str>, Settings)> = Vec::with_capacity(sections);
    // Where each section number's settings are in `list` (`None`: the defaults).
    let mut slots: Vec<Option<usize>> = Vec::with_capacity(sections);
    let mut defaults = Settings::default();
    for block in blocks {
        // Section numbers are given in order of first appearance: a new one is the next slot.
        debug_assert!(block.section <= slots.len());
        if block.section == slots.len() {
            slots.push((block.name != DEFAULT_SECTION).then_some(list.len()));
            if block.name != DEFAULT_SECTION {
                let settings = Settings::with_capacity(block.options.len() + room);
                list.push((block.name, settings));
            }
        }
        let target = match slots[block.section] {
            Some(slot) => &mut list[slot].1,
            None => &mut defaults,
        };
        for option in &options[block.options] {
            let option = option.line(&parts);
            let origin = Origin {
                file,
                line: option.key_line + 1,
            };
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
                Value::Nested(Box::new(map))
            } else {
                Value::of(option.key, option.joined_value())
            };
            target.insert(option.key.to_string(), Setting { value, origin });
        }
    }
    if !defaults.is_empty() {
        for (_, settings) in &mut list {
            for (key, setting) in &defaults {
                if !settings.contains_key(key) {
                    settings.insert(key.clone(), setting.clone());
                }
            }
        }
    }
    problems.sort_by_key(|p| p.line);
    (list, problems)
}

/// [`section_list`] as a map from raw section name to settings.
pub fn sections(syntax: CliSyntax, file: FileKind) -> (OrderedMap<Settings>, Vec<Problem>) {
    let (list, problems) = section_list(syntax, file, 0);
    (
        list.into_iter()
            .map(|(name, settings)| (name.into_owned(), settings))
            .collect(),
        problems,
    )
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
    match config_section_group(name) {
        Some((Group::Profile, n)) => SectionMeaning::Profile(n.into_owned()),
        Some((Group::SsoSession, n)) => SectionMeaning::SsoSession(n.into_owned()),
        Some((Group::Services, n)) => SectionMeaning::Services(n.into_owned()),
        None => SectionMeaning::Other,
    }
}

/// Whether a raw config-file section name means the profile `profile` to botocore.
pub fn names_profile(name: &str, profile: &str) -> bool {
    matches!(config_section_group(name), Some((Group::Profile, n)) if n == profile)
}

/// Whether a raw config-file section name means the sso-session `session` to botocore.
pub fn names_sso_session(name: &str, session: &str) -> bool {
    matches!(config_section_group(name), Some((Group::SsoSession, n)) if n == session)
}

/// The three kinds of named config sections botocore knows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Profile,
    SsoSession,
    Services,
}

/// botocore's `build_profile_map` rule: which kind of section a raw name is and its name,
/// borrowed from the raw name where no shell quoting is involved.
fn config_section_group(name: &str) -> Option<(Group, Cow<'_, str>)> {
    let second_word = || {
        if !name.contains(['"', '\'', '\\']) {
            // No quoting: shlex splits only at its four whitespace characters.
            let mut words = super::python_text::shlex_plain_words(name);
            return match (words.next(), words.next(), words.next()) {
                (Some(_), Some(second), None) => Some(Cow::Borrowed(second)),
                _ => None,
            };
        }
        match super::python_text::shlex_split(name) {
            Ok(mut words) if words.len() == 2 => words.pop().map(Cow::Owned),
            _ => None,
        }
    };
    if name.starts_with("profile") {
        Some((Group::Profile, second_word()?))
    } else if name.starts_with("sso-session") {
        Some((Group::SsoSession, second_word()?))
    } else if name.starts_with("services") {
        Some((Group::Services, second_word()?))
    } else if name == "default" {
        Some((Group::Profile, Cow::Borrowed("default")))
    } else {
        None
    }
}

/// The AWS CLI's reading of the two files, merged as botocore's `Session.full_config` does.
pub fn read(config: &Document, credentials: &Document) -> super::model::Reading {
    let mut reading = super::model::Reading::default();
    // The two files are independent until merged: read the credentials file on a second core.
    let ((config_sections, problems), (credential_sections, credential_problems)) =
        std::thread::scope(|scope| {
            let credentials =
                scope.spawn(|| section_list(parse(credentials), FileKind::Credentials, 0));
            // Room for the two settings most profiles also have in the credentials file (a key id
            // and its secret), so that merging them in below does not have to grow every map.
            let config = section_list(parse(config), FileKind::Config, 2);
            (
                config,
                credentials
                    .join()
                    .expect("reading the credentials file does not panic"),
            )
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
        let index = match reading.profiles.get_index_of(&*name) {
            Some(index) => index,
            None => {
                reading
                    .profiles
                    .insert_full(name.into_owned(), Settings::default())
                    .0
            }
        };
        let profile = &mut reading.profiles[index];
        profile.reserve(settings.len());
        for (key, setting) in settings {
            profile.insert(key, setting);
        }
    }
    reading
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(config: &str, key: &str) -> Option<String> {
        let doc = Document::parse(config.as_bytes());
        let (sections, _) = sections(parse(&doc), FileKind::Config);
        sections.get("default")?.get(key).map(|s| match &s.value {
            Value::Text(t) => t.clone(),
            Value::Secret(s) => s.expose().to_owned(),
            Value::Nested(m) => format!("{m:?}"),
        })
    }

    #[test]
    fn blank_lines_inside_a_value_are_kept_and_blank_lines_after_it_are_not() {
        assert_eq!(
            value("[default]\nk = a\n\n   b\n\n\nx = 1\n", "k").as_deref(),
            Some("a\n\nb")
        );
        assert_eq!(value("[default]\nk = a\n\n\n", "k").as_deref(), Some("a"));
    }

    #[test]
    fn a_line_configparser_rejects_does_not_end_the_value_before_it() {
        // configparser records the bad line and goes on with the same option.
        assert_eq!(
            value(
                "[default]\nregion = us-east-1\n\nbad line\n   more\n",
                "region"
            )
            .as_deref(),
            Some("us-east-1\n\nmore")
        );
    }
}
