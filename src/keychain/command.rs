//! The `credential_process` command line that serves a keychain-held key:
//! `<absolute path of keyrack> credential-process --profile NAME --file-set SETID`, where SETID
//! is the id of the file set the profile is in ([`crate::files::FilePaths::set_id`]): together
//! they name the keychain entry, so that keyrack knows it without reading any file. A key behind an
//! MFA device adds `--mfa-serial DEVICE [--duration-seconds N]`: that device's session is served
//! instead of the key. Lines written
//! before entries were per file set have no `--file-set` and name the (legacy) entry `NAME`;
//! they are still recognised and still run. Built quoted so that botocore
//! (which splits it with `shlex.split`, or its own Windows splitter), the SDKs (which hand it to
//! `sh -c` / `cmd.exe /C`) and Terraform all run the same program; and recognised again in a
//! profile, which is how keyrack knows that a profile's secret is in the keychain.

use std::path::{Path, PathBuf};

use crate::files::python_text::shlex_split;
use crate::identity::MfaSessionSettings;

/// The subcommand keyrack serves keys with.
pub const SUBCOMMAND: &str = "credential-process";

/// The flag that names the file set of the entry.
pub const FILE_SET_FLAG: &str = "--file-set";

/// A `credential_process` value that runs keyrack for one keychain entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyrackCommand {
    /// The keyrack program the AWS tools run.
    pub program: PathBuf,
    /// The profile whose entry it serves (`--profile`).
    pub profile: String,
    /// The file set that entry belongs to (`--file-set`); `None` on a line written before entries
    /// were per file set, which serves the legacy entry named by the profile alone.
    pub file_set: Option<String>,
    /// The MFA device whose session it serves instead of the key (`--mfa-serial`, written for a
    /// profile with `mfa_serial`), and the session's length (`--duration-seconds`).
    pub mfa: Option<MfaSessionSettings>,
}

/// The flag that names the MFA device whose session is served.
pub const MFA_SERIAL_FLAG: &str = "--mfa-serial";
/// The flag that sets how long that session lasts.
pub const DURATION_FLAG: &str = "--duration-seconds";

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
        let program = self
            .program
            .to_str()
            .ok_or_else(|| CommandError::NotUtf8(self.program.clone()))?;
        let mut line = format!(
            "{} {SUBCOMMAND} --profile {}",
            quote(program)?,
            quote(&self.profile)?
        );
        if let Some(set) = &self.file_set {
            line.push_str(&format!(" {FILE_SET_FLAG} {}", quote(set)?));
        }
        if let Some(mfa) = &self.mfa {
            line.push_str(&format!(" {MFA_SERIAL_FLAG} {}", quote(&mfa.serial)?));
            if let Some(seconds) = mfa.duration_seconds {
                line.push_str(&format!(" {DURATION_FLAG} {seconds}"));
            }
        }
        Ok(line)
    }

    /// Recognise a `credential_process` value that keyrack wrote (any keyrack program path),
    /// with or without `--file-set`.
    pub fn parse(line: &str) -> Option<KeyrackCommand> {
        let words = shlex_split(line).ok()?;
        let (program, subcommand, flags) = match words.as_slice() {
            [program, subcommand, flags @ ..] => (PathBuf::from(program), subcommand, flags),
            _ => return None,
        };
        let is_keyrack = program.file_stem().and_then(|s| s.to_str()) == Some("keyrack");
        if !is_keyrack || subcommand != SUBCOMMAND {
            return None;
        }
        let (mut profile, mut file_set, mut serial, mut duration) = (None, None, None, None);
        for pair in flags.chunks(2) {
            let [flag, value] = pair else { return None };
            let slot = match flag.as_str() {
                "--profile" => &mut profile,
                FILE_SET_FLAG => &mut file_set,
                MFA_SERIAL_FLAG => &mut serial,
                DURATION_FLAG => &mut duration,
                _ => return None,
            };
            if slot.replace(value.clone()).is_some() {
                return None;
            }
        }
        let profile = profile.filter(|p| !p.is_empty())?;
        if file_set
            .as_deref()
            .is_some_and(|s| !crate::keychain::is_file_set_id(s))
        {
            return None;
        }
        let duration_seconds = match duration {
            Some(text) => Some(text.parse().ok()?),
            None => None,
        };
        let mfa = match (serial, duration_seconds) {
            (Some(serial), duration_seconds) => Some(MfaSessionSettings {
                serial,
                duration_seconds,
            }),
            (None, Some(_)) => return None,
            (None, None) => None,
        };
        Some(KeyrackCommand {
            program,
            profile,
            file_set,
            mfa,
        })
    }

    /// The keychain account this command serves: `SETID:PROFILE`, or the bare profile name for a
    /// legacy line.
    pub fn account(&self) -> String {
        match &self.file_set {
            Some(set) => crate::keychain::account(set, &self.profile),
            None => self.profile.clone(),
        }
    }

    /// A command serving `profile`'s entry of file set `file_set`.
    pub fn new(program: &Path, profile: &str, file_set: &str) -> KeyrackCommand {
        KeyrackCommand {
            program: program.to_path_buf(),
            profile: profile.to_string(),
            file_set: Some(file_set.to_string()),
            mfa: None,
        }
    }

    /// A line as keyrack wrote it before entries were per file set (no `--file-set`).
    pub fn legacy(program: &Path, profile: &str) -> KeyrackCommand {
        KeyrackCommand {
            program: program.to_path_buf(),
            profile: profile.to_string(),
            file_set: None,
            mfa: None,
        }
    }

    /// This command's program, serving `profile`'s entry of file set `file_set` (after a rename,
    /// a copy or a migration of its profile), through the same MFA device.
    pub fn for_profile(&self, profile: &str, file_set: &str) -> KeyrackCommand {
        KeyrackCommand {
            mfa: self.mfa.clone(),
            ..KeyrackCommand::new(&self.program, profile, file_set)
        }
    }

    /// This command, serving the session of MFA device `mfa` instead of the key.
    pub fn through(self, mfa: Option<MfaSessionSettings>) -> KeyrackCommand {
        KeyrackCommand { mfa, ..self }
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

    const SET: &str = "0123456789ab";

    fn line(program: &str, profile: &str) -> String {
        KeyrackCommand::new(Path::new(program), profile, SET)
            .to_line()
            .unwrap()
    }

    #[test]
    fn plain_paths_are_not_quoted() {
        assert_eq!(
            line("/usr/local/bin/keyrack", "dev"),
            "/usr/local/bin/keyrack credential-process --profile dev --file-set 0123456789ab"
        );
    }

    #[test]
    fn paths_with_spaces_are_double_quoted() {
        assert_eq!(
            line("/opt/My Tools/keyrack", "dev"),
            "\"/opt/My Tools/keyrack\" credential-process --profile dev --file-set 0123456789ab"
        );
    }

    #[test]
    fn paths_with_shell_characters_are_single_quoted() {
        assert_eq!(
            line("/opt/$HOME \"x\"/keyrack", "dev"),
            "'/opt/$HOME \"x\"/keyrack' credential-process --profile dev --file-set 0123456789ab"
        );
    }

    #[test]
    fn every_written_line_is_recognised_with_its_program_profile_and_file_set() {
        for program in [
            "/usr/bin/keyrack",
            "/opt/My Tools/keyrack",
            "/o p/$x\"y\\z/keyrack",
            "/a/it's here/keyrack",
        ] {
            for profile in ["dev", "team/prod@corp:1", "a b"] {
                let command = KeyrackCommand::new(Path::new(program), profile, SET);
                let text = command.to_line().unwrap();
                let parsed = KeyrackCommand::parse(&text)
                    .unwrap_or_else(|| panic!("not recognised: {text}"));
                assert_eq!(parsed, command, "{text}");
                assert_eq!(parsed.account(), format!("{SET}:{profile}"), "{text}");
                // botocore splits the line with shlex.split: the same words come back.
                let words = shlex_split(&text).unwrap();
                assert_eq!(
                    words,
                    [
                        program,
                        SUBCOMMAND,
                        "--profile",
                        profile,
                        FILE_SET_FLAG,
                        SET
                    ],
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn lines_from_before_file_sets_are_recognised_and_name_the_bare_profile() {
        for text in [
            "/usr/bin/keyrack credential-process --profile dev",
            "\"/opt/My Tools/keyrack\" credential-process --profile dev",
        ] {
            let parsed =
                KeyrackCommand::parse(text).unwrap_or_else(|| panic!("not recognised: {text}"));
            assert_eq!(
                (
                    parsed.profile.as_str(),
                    parsed.file_set.as_deref(),
                    parsed.account()
                ),
                ("dev", None, "dev".to_string()),
                "{text}"
            );
            assert_eq!(
                parsed.to_line().unwrap(),
                text,
                "a legacy line is written back as it was"
            );
        }
        let reordered = KeyrackCommand::parse(
            "/usr/bin/keyrack credential-process --file-set 0123456789ab --profile dev",
        )
        .unwrap();
        assert_eq!(
            reordered,
            KeyrackCommand::new(Path::new("/usr/bin/keyrack"), "dev", SET)
        );
    }

    #[test]
    fn a_file_set_that_is_not_an_id_is_not_a_keyrack_line() {
        for text in [
            "/usr/bin/keyrack credential-process --profile dev --file-set",
            "/usr/bin/keyrack credential-process --profile dev --file-set 0123",
            "/usr/bin/keyrack credential-process --profile dev --file-set 0123456789AB",
            "/usr/bin/keyrack credential-process --profile dev --file-set 0123456789abc",
            "/usr/bin/keyrack credential-process --profile dev --file-set 0123456789ab --extra",
            "/usr/bin/keyrack credential-process --profile dev --other 0123456789ab",
        ] {
            assert_eq!(KeyrackCommand::parse(text), None, "{text}");
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
        assert!(matches!(
            KeyrackCommand::new(Path::new("keyrack"), "dev", SET).to_line(),
            Err(CommandError::NotAbsolute(_))
        ));
        assert!(matches!(
            KeyrackCommand::new(Path::new("/a\nb/keyrack"), "dev", SET).to_line(),
            Err(CommandError::Unquotable(_))
        ));
    }
}
