//! A temporary HOME holding the two AWS files, and programs run on them as a user would.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    /// A fresh HOME whose `.aws/config` and `.aws/credentials` hold these texts.
    pub fn new(config: &str, credentials: &str) -> Home {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(".aws")).unwrap();
        fs::write(dir.path().join(".aws/config"), config).unwrap();
        fs::write(dir.path().join(".aws/credentials"), credentials).unwrap();
        Home { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join(".aws/config")
    }

    pub fn credentials(&self) -> PathBuf {
        self.dir.path().join(".aws/credentials")
    }

    /// Both files as they are now: (config, credentials).
    pub fn files(&self) -> (String, String) {
        (
            fs::read_to_string(self.config()).unwrap(),
            fs::read_to_string(self.credentials()).unwrap(),
        )
    }

    /// The id of this home's file set.
    pub fn set_id(&self) -> String {
        keyrack::files::FilePaths {
            config: self.config(),
            credentials: self.credentials(),
        }
        .set_id()
    }

    /// The account of `profile`'s keychain entry for this home's files.
    pub fn account(&self, profile: &str) -> String {
        keyrack::keychain::account(&self.set_id(), profile)
    }

    /// ` --file-set SETID`, as keyrack writes it after `--profile NAME` for this home's files.
    pub fn file_set_flag(&self) -> String {
        format!(" --file-set {}", self.set_id())
    }

    /// `program` with HOME pointing here and no AWS variables from the outside, so that it
    /// finds the files where every AWS tool looks by default.
    pub fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join(".config"))
            .env_remove("AWS_CONFIG_FILE")
            .env_remove("AWS_SHARED_CREDENTIALS_FILE")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_DEFAULT_PROFILE")
            .stdin(Stdio::null());
        command
    }
}
