//! keyrack's own settings (`settings.ini` in the platform's config folder, read and written with
//! rust-ini: these are keyrack's files, not the AWS tools', so no byte of them needs keeping):
//! when a key is due for rotation or counts as unused, whether the window checks every profile
//! when it opens, and how soon a copied secret leaves the clipboard.

use std::path::{Path, PathBuf};

/// The settings, each with its default when the file does not set it (or sets it wrongly).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    /// A key this many days old is due for rotation (Security Hub IAM.3 and CIS say 90).
    pub rotate_after_days: u32,
    /// A key not used for this many days counts as unused (Security Hub IAM.8 says 90).
    pub unused_after_days: u32,
    /// The window checks every profile when it opens.
    pub check_on_start: bool,
    /// A copied secret leaves the clipboard after this many seconds.
    pub clipboard_seconds: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rotate_after_days: 90,
            unused_after_days: 90,
            check_on_start: false,
            clipboard_seconds: 30,
        }
    }
}

/// Where the settings file is: `$XDG_CONFIG_HOME/keyrack/settings.ini` (else
/// `~/.config/keyrack/settings.ini`); `%APPDATA%\keyrack\settings.ini` on Windows;
/// `~/Library/Application Support/keyrack/settings.ini` on macOS.
/// `None` when neither is known as an absolute folder (no HOME): never the current folder.
pub fn settings_file(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let absolute = |name: &str| {
        env(name)
            .filter(|d| Path::new(d).is_absolute())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        absolute("APPDATA")?
    } else if cfg!(target_os = "macos") {
        absolute("XDG_CONFIG_HOME")
            .or_else(|| Some(absolute("HOME")?.join("Library/Application Support")))?
    } else {
        absolute("XDG_CONFIG_HOME").or_else(|| Some(absolute("HOME")?.join(".config")))?
    };
    Some(base.join("keyrack").join("settings.ini"))
}

/// The range each number may take (a clipboard cleared at once would make Copy useless).
pub const LIMITS: [(&str, u32, u32); 3] = [
    ("rotate_after_days", 0, 3650),
    ("unused_after_days", 0, 3650),
    ("clipboard_seconds", 1, 3600),
];

impl Settings {
    /// What is out of range, in words; `Ok` when every number is within [`LIMITS`].
    pub fn validate(&self) -> Result<(), String> {
        let values = [
            self.rotate_after_days,
            self.unused_after_days,
            self.clipboard_seconds,
        ];
        for ((name, min, max), value) in LIMITS.iter().zip(values) {
            if !(*min..=*max).contains(&value) {
                return Err(format!("{name} must be from {min} to {max}, not {value}"));
            }
        }
        Ok(())
    }
}

fn limit(name: &str) -> (u32, u32) {
    LIMITS
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, min, max)| (*min, *max))
        .expect("every number has its limits")
}

/// The settings in `file` (the defaults for what it does not set), and what in it was not
/// understood, in words (the setting then has its default).
pub fn load(file: &Path) -> (Settings, Vec<String>) {
    let mut settings = Settings::default();
    let mut notes = Vec::new();
    let ini = match ini::Ini::load_from_file(file) {
        Ok(ini) => ini,
        Err(ini::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return (settings, notes)
        }
        Err(e) => {
            notes.push(format!(
                "{} cannot be read ({e}); keyrack uses its default settings",
                file.display()
            ));
            return (settings, notes);
        }
    };
    let mut number = |section: &str, key: &str, into: &mut u32, name: &str| {
        let Some(text) = ini.get_from(Some(section), key) else {
            return;
        };
        let (min, max) = limit(name);
        match text.trim().parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => *into = n,
            _ => notes.push(format!(
                "[{section}] {key} = {text} in {} is not a whole number from {min} to {max}; \
                 keyrack uses {}",
                file.display(),
                *into
            )),
        }
    };
    let days = "rotate_after_days";
    number("keys", days, &mut settings.rotate_after_days, days);
    let unused = "unused_after_days";
    number("keys", unused, &mut settings.unused_after_days, unused);
    let clipboard = &mut settings.clipboard_seconds;
    number(
        "clipboard",
        "clear_after_seconds",
        clipboard,
        "clipboard_seconds",
    );
    if let Some(text) = ini.get_from(Some("app"), "check_on_start") {
        match text.trim() {
            "true" | "yes" | "1" => settings.check_on_start = true,
            "false" | "no" | "0" => settings.check_on_start = false,
            _ => notes.push(format!(
                "[app] check_on_start = {text} in {} is not true or false; keyrack uses false",
                file.display()
            )),
        }
    }
    (settings, notes)
}

/// Write `settings` to `file` (its folder made 0700 when missing), whole or not at all.
pub fn save(file: &Path, settings: &Settings) -> std::io::Result<()> {
    settings
        .validate()
        .map_err(|why| std::io::Error::new(std::io::ErrorKind::InvalidInput, why))?;
    let mut ini = ini::Ini::new();
    ini.with_section(Some("keys"))
        .set("rotate_after_days", settings.rotate_after_days.to_string())
        .set("unused_after_days", settings.unused_after_days.to_string());
    ini.with_section(Some("app"))
        .set("check_on_start", settings.check_on_start.to_string());
    ini.with_section(Some("clipboard")).set(
        "clear_after_seconds",
        settings.clipboard_seconds.to_string(),
    );
    let mut text = Vec::new();
    ini.write_to(&mut text)?;
    let dir = file.parent().unwrap_or(Path::new("."));
    crate::files::private::create_dir_all(dir)?;
    let tmp = crate::files::private::temporary_beside(file);
    crate::files::private::write_atomically(file, &tmp, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_a_wrong_value_keeps_its_default_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keyrack/settings.ini");
        assert_eq!(load(&file), (Settings::default(), vec![]));
        let mine = Settings {
            rotate_after_days: 30,
            unused_after_days: 45,
            check_on_start: true,
            clipboard_seconds: 10,
        };
        save(&file, &mine).unwrap();
        assert_eq!(load(&file), (mine, vec![]));
        let instant = Settings {
            clipboard_seconds: 0,
            ..Settings::default()
        };
        assert!(
            save(&file, &instant).is_err(),
            "a clipboard cleared at once"
        );
        std::fs::write(&file, "[keys]\nrotate_after_days = soon\n").unwrap();
        let (settings, notes) = load(&file);
        assert_eq!(settings.rotate_after_days, 90);
        assert!(notes[0].contains("not a whole number"), "{notes:?}");
    }

    #[test]
    fn the_file_lives_in_the_xdg_config_folder() {
        let env = |name: &str| match name {
            "XDG_CONFIG_HOME" => Some("/c".to_owned()),
            "HOME" => Some("/h".to_owned()),
            _ => None,
        };
        if cfg!(all(unix, not(target_os = "macos"))) {
            assert_eq!(
                settings_file(env).unwrap(),
                Path::new("/c/keyrack/settings.ini")
            );
            let no_xdg = |name: &str| (name == "HOME").then(|| "/h".to_owned());
            assert_eq!(
                settings_file(no_xdg).unwrap(),
                Path::new("/h/.config/keyrack/settings.ini")
            );
            assert_eq!(settings_file(|_| None), None, "never the current folder");
        }
    }
}
