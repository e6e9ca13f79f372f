//! The `credential_process` command line that serves a keychain-held key:
//! `<absolute path of keyrack> credential-process --profile NAME`. Built quoted so that botocore
//! (which splits it with `shlex.split`, or its own Windows splitter), the SDKs (which hand it to
//! `sh -c` / `cmd.exe /C`) and Terraform all run the same program; and recognised again in a
//! profile, which is how keyrack knows that a profile's secret is in the keychain.

use std::path::{Path, PathBuf};

use crate::files::python_text::shlex_split;

/// The subcommand keyrack serves keys with.
pub const SUBCOMMAND: &str = "credential-process";

/// A `credential_process` value that runs keyrack for one keychain entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyrackCommand {
    /// The keyrack program the AWS tools run.
    pub program: PathBuf,
    /// The keychain account (profile name) it serves.
    pub account: String,
}

/// Why keyrack cannot write a command line that every tool splits back the same way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("the path of the keyrack program is not absolute: {0}")]
    NotAbsolute(PathBuf),
    #[error("the path of the keyrack program is not valid UTF-8: {0}")]
    NotUtf8(PathBuf),
    #[error("{0:?} contains a character that cannot be quoted for every AWS tool (a quote or a line break); move keyrack to a plainer path")]
    Unquotable(String),
}

impl KeyrackCommand {
    /// The value of `credential_process`, each word quoted only when it must be.
    pub fn to_line(&self) -> Result<String, CommandError> {
        if !self.program.is_absolute() {
            return Err(CommandError::NotAbsolute(self.program.clone()));
        }
        let program = self.program.to_str().ok_or_else(|| CommandError::NotUtf8(self.program.clone()))?;
        Ok(format!("{} {SUBCOMMAND} --profile {}", quote(program)?, quote(&self.account)?))
    }

    /// Recognise a `credential_process` value that keyrack wrote (any keyrack program path).
    pub fn parse(line: &str) -> Option<KeyrackCommand> {
        let words = shlex_split(line).ok()?;
        let [program, subcommand, flag, account] = words.as_slice() else {
            return None;
        };
        let program = PathBuf::from(program);
        let is_keyrack = program.file_stem().and_then(|s| s.to_str()) == Some("keyrack");
        (is_keyrack && subcommand == SUBCOMMAND && flag == "--profile" && !account.is_empty())
            .then(|| KeyrackCommand { program, account: account.clone() })
    }

    /// This command, serving another account (after a rename or copy of its profile).
    pub fn for_account(&self, account: &str) -> KeyrackCommand {
        KeyrackCommand { program: self.program.clone(), account: account.to_string() }
    }

    pub fn new(program: &Path, account: &str) -> KeyrackCommand {
        KeyrackCommand { program: program.to_path_buf(), account: account.to_string() }
    }
}

/// Characters that no splitter treats specially.
fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-./:+@%,=".contains(c)
}

/// Quote one word for a command line (also used to show commands to type). POSIX: bare when plain, in double quotes when that is enough (the usual
/// `"/opt/My Tools/keyrack"`), else in single quotes. Windows: bare or in double quotes.
pub fn quote(word: &str) -> Result<String, CommandError> {
    if word.contains(['\n', '\r', '\0']) {
        return Err(CommandError::Unquotable(word.to_string()));
    }
    if !word.is_empty() && word.chars().all(is_plain) {
        return Ok(word.to_string());
    }
    if cfg!(windows) {
        // botocore's Windows splitter and cmd.exe: backslashes are literal unless before a quote.
        if word.contains('"') || word.ends_with('\\') {
            return Err(CommandError::Unquotable(word.to_string()));
        }
        return Ok(format!("\"{word}\""));
    }
    if !word.contains(['"', '\\', '$', '`']) {
        return Ok(format!("\"{word}\""));
    }
    if word.contains('\'') {
        return Err(CommandError::Unquotable(word.to_string()));
    }
    Ok(format!("'{word}'"))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn line(program: &str, account: &str) -> String {
        KeyrackCommand::new(Path::new(program), account).to_line().unwrap()
    }

    #[test]
    fn plain_paths_are_not_quoted() {
        assert_eq!(line("/usr/local/bin/keyrack", "dev"), "/usr/local/bin/keyrack credential-process --profile dev");
    }

    #[test]
    fn paths_with_spaces_are_double_quoted() {
        assert_eq!(
            line("/opt/My Tools/keyrack", "dev"),
            "\"/opt/My Tools/keyrack\" credential-process --profile dev"
        );
    }

    #[test]
    fn paths_with_shell_characters_are_single_quoted() {
        assert_eq!(line("/opt/$HOME \"x\"/keyrack", "dev"), "'/opt/$HOME \"x\"/keyrack' credential-process --profile dev");
    }

    #[test]
    fn every_written_line_is_recognised_with_its_program_and_account() {
        for program in ["/usr/bin/keyrack", "/opt/My Tools/keyrack", "/o p/$x\"y\\z/keyrack", "/a/it's here/keyrack"] {
            for account in ["dev", "team/prod@corp:1", "a b"] {
                let text = KeyrackCommand::new(Path::new(program), account).to_line().unwrap();
                let parsed = KeyrackCommand::parse(&text).unwrap_or_else(|| panic!("not recognised: {text}"));
                assert_eq!(parsed, KeyrackCommand::new(Path::new(program), account), "{text}");
            }
        }
    }

    #[test]
    fn other_commands_are_not_keyrack_commands() {
        for text in [
            "aws-vault exec dev --json",
            "/usr/bin/keyrack credential-process",
            "/usr/bin/keyrack credential-process --profile",
            "/usr/bin/keyrack whoami --profile dev",
            "/usr/bin/notkeyrack credential-process --profile dev",
            "\"/usr/bin/keyrack credential-process --profile dev",
        ] {
            assert_eq!(KeyrackCommand::parse(text), None, "{text}");
        }
    }

    #[test]
    fn relative_programs_and_line_breaks_are_refused() {
        assert!(matches!(KeyrackCommand::new(Path::new("keyrack"), "dev").to_line(), Err(CommandError::NotAbsolute(_))));
        assert!(matches!(KeyrackCommand::new(Path::new("/a\nb/keyrack"), "dev").to_line(), Err(CommandError::Unquotable(_))));
    }
}
