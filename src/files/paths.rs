//! Where the two files are: `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/...`,
//! with `~` and `$VAR` expanded as botocore expands them.

use std::path::PathBuf;

/// The paths of the config and credentials files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilePaths {
    pub config: PathBuf,
    pub credentials: PathBuf,
}

impl FilePaths {
    /// Resolve from an environment lookup (the process environment in production).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Self {
        let home = env("HOME").unwrap_or_default();
        let pick = |var: &str, default: &str| match env(var).filter(|v| !v.is_empty()) {
            Some(path) => PathBuf::from(expand(&path, &env, &home)),
            None => PathBuf::from(&home).join(".aws").join(default),
        };
        FilePaths { config: pick("AWS_CONFIG_FILE", "config"), credentials: pick("AWS_SHARED_CREDENTIALS_FILE", "credentials") }
    }

    pub fn from_process_env() -> Self {
        Self::from_env(|k| std::env::var(k).ok())
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
            let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn defaults_to_dot_aws_in_home() {
        let paths = FilePaths::from_env(env(&[("HOME", "/home/u")]));
        assert_eq!(paths.config, PathBuf::from("/home/u/.aws/config"));
        assert_eq!(paths.credentials, PathBuf::from("/home/u/.aws/credentials"));
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
