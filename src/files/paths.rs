//! Where the two files are: `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/...`,
//! with `~` and `$VAR` expanded as botocore expands them; and which file set they form.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The paths of the config and credentials files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilePaths {
    pub config: PathBuf,
    pub credentials: PathBuf,
}

impl FilePaths {
    /// Resolve from an environment lookup (the process environment in production).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Self {
        let home = home_dir(&env);
        let pick = |var: &str, default: &str| match env(var).filter(|v| !v.is_empty()) {
            Some(path) => PathBuf::from(expand(&path, &env, &home)),
            None => PathBuf::from(&home).join(".aws").join(default),
        };
        FilePaths {
            config: pick("AWS_CONFIG_FILE", "config"),
            credentials: pick("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        }
    }

    pub fn from_process_env() -> Self {
        Self::from_env(|k| std::env::var(k).ok())
    }

    /// A short, stable name of this file set: the first 12 hex digits of a SHA-256 of both
    /// files' real absolute paths (symlinks followed, `.` and `..` gone). Two spellings of the
    /// same files give the same id; two projects' file sets (`AWS_CONFIG_FILE`, direnv) never
    /// do. It keys what keyrack keeps per file set: the writers' lock, keychain entries.
    pub fn set_id(&self) -> String {
        let mut hash = Sha256::new();
        for path in [&self.config, &self.credentials] {
            hash.update(real_path(path).as_os_str().as_encoded_bytes());
            hash.update([0]);
        }
        crate::hex::hex(&hash.finalize()[..6])
    }
}

impl FilePaths {
    /// The same files by their real absolute paths (see [`FilePaths::set_id`]): what a record
    /// that outlives this process and its working folder (a rotation journal) names.
    pub fn real(&self) -> FilePaths {
        FilePaths {
            config: real_path(&self.config),
            credentials: real_path(&self.credentials),
        }
    }
}

/// The absolute path a file is really at, whether or not it exists yet: symlinks followed
/// (as a save follows them), then the nearest existing folder canonicalised.
fn real_path(path: &Path) -> PathBuf {
    let target = crate::files::save::resolve(path);
    let absolute = if target.is_absolute() {
        target
    } else {
        std::env::current_dir().unwrap_or_default().join(target)
    };
    let mut missing = Vec::new();
    let mut existing = absolute.as_path();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return missing
                .iter()
                .rev()
                .fold(real, |p: PathBuf, part| p.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_os_string());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// The home folder as Python's `os.path.expanduser` finds it (botocore's `~`): `HOME` on Unix;
/// on Windows `USERPROFILE`, else `HOMEDRIVE` + `HOMEPATH` (Python 3.8 and later ignore `HOME`
/// there).
fn home_dir(env: &impl Fn(&str) -> Option<String>) -> String {
    if cfg!(windows) {
        env("USERPROFILE")
            .or_else(|| Some(format!("{}{}", env("HOMEDRIVE")?, env("HOMEPATH")?)))
            .unwrap_or_default()
    } else {
        env("HOME").unwrap_or_default()
    }
}

/// `os.path.expandvars` then `os.path.expanduser`: `$VAR` / `${VAR}` (unknown ones left as they
/// are), then a leading `~` or `~/`.
fn expand(path: &str, env: &impl Fn(&str) -> Option<String>, home: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        match (name.is_empty(), env(name)) {
            (false, Some(value)) => out.push_str(&value),
            _ => out.push_str(&rest[pos..pos + 1 + consumed]),
        }
        rest = &rest[pos + 1 + consumed..];
    }
    out.push_str(rest);
    if out == "~" {
        return home.to_string();
    }
    if let Some(tail) = out.strip_prefix("~/") {
        return format!("{}/{}", home.trim_end_matches('/'), tail);
    }
    // Windows paths also separate with a backslash, which expanduser accepts after `~` there.
    if let Some(tail) = out.strip_prefix("~\\").filter(|_| cfg!(windows)) {
        return format!("{}\\{}", home.trim_end_matches(['/', '\\']), tail);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn defaults_to_dot_aws_in_home() {
        let paths = FilePaths::from_env(env(&[("HOME", "/home/u")]));
        assert_eq!(paths.config, PathBuf::from("/home/u/.aws/config"));
        assert_eq!(paths.credentials, PathBuf::from("/home/u/.aws/credentials"));
    }

    #[cfg(unix)]
    #[test]
    fn the_set_id_names_the_real_files_not_their_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let aws = dir.path().join("aws");
        std::fs::create_dir(&aws).unwrap();
        std::fs::write(aws.join("config"), "").unwrap();
        let set = |config: PathBuf, credentials: PathBuf| {
            FilePaths {
                config,
                credentials,
            }
            .set_id()
        };
        let plain = set(aws.join("config"), aws.join("credentials"));
        assert_eq!(plain.len(), 12);
        assert_eq!(
            plain,
            set(aws.join("../aws/./config"), aws.join("credentials"))
        );
        std::os::unix::fs::symlink(&aws, dir.path().join("link")).unwrap();
        assert_eq!(
            plain,
            set(
                dir.path().join("link/config"),
                dir.path().join("link/credentials")
            )
        );
        let other = dir.path().join("other");
        assert_ne!(plain, set(other.join("config"), other.join("credentials")));
        assert_ne!(plain, set(aws.join("credentials"), aws.join("config")));
    }

    #[test]
    fn honours_the_environment_variables_with_tilde_and_vars() {
        let paths = FilePaths::from_env(env(&[
            ("HOME", "/home/u"),
            ("AWS_CONFIG_FILE", "~/work/cfg"),
            ("AWS_SHARED_CREDENTIALS_FILE", "${XDG}/aws/$NAME-$MISSING"),
            ("XDG", "/x"),
            ("NAME", "creds"),
        ]));
        assert_eq!(paths.config, PathBuf::from("/home/u/work/cfg"));
        assert_eq!(paths.credentials, PathBuf::from("/x/aws/creds-$MISSING"));
    }
}
