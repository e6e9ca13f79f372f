//! The access-key files the IAM console offers to download: a new key's `Access key ID,Secret
//! access key`, and the user-credentials file (`User name,Password,Access key ID,Secret access
//! key,...`) that `aws configure import` reads; headers matched as the AWS CLI matches them
//! (any case, a byte-order mark dropped), values trimmed.

use std::path::Path;

use crate::secret::Secret;

/// One key of the file, with the IAM user's name when the file has it.
pub struct KeyFileEntry {
    pub user_name: Option<String>,
    /// The user-credentials file also holds the console password (keyrack does not keep it).
    pub has_password: bool,
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

/// Why a key file cannot be used; the file is left as it is.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KeyFileError {
    #[error("cannot read {path}: {detail}")]
    Unreadable { path: String, detail: String },
    #[error(
        "{path} is not an access key file from the IAM console: its first line has no \
         \"{header}\" column (the console's file starts with \"Access key ID,Secret access \
         key\"); download the key's .csv again, or paste the two values instead"
    )]
    NoHeader { path: String, header: &'static str },
    #[error("{path} holds no access key: it has a header line and nothing else")]
    Empty { path: String },
    #[error("line {line} of {path} has no {header}; the file may be cut short: download it again")]
    MissingValue {
        path: String,
        line: usize,
        header: &'static str,
    },
    // The value is not shown: with the columns swapped it would be the secret.
    #[error(
        "line {line} of {path} does not hold an access key ID where the header says (one is AKIA \
         and 16 capital letters or digits); is it the key's .csv from the IAM console?"
    )]
    NotAKeyId { path: String, line: usize },
}

const KEY_ID: &str = "access key id";
const SECRET: &str = "secret access key";
const USER: &str = "user name";

/// The keys `text` (read from `path`) holds, in file order.
pub fn parse(text: &str, path: &str) -> Result<Vec<KeyFileEntry>, KeyFileError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .map(|(_, l)| {
            l.trim_start_matches('\u{feff}')
                .split(',')
                .map(|h| h.trim().to_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let column = |name: &'static str, shown: &'static str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or(KeyFileError::NoHeader {
                path: path.to_owned(),
                header: shown,
            })
    };
    let id_at = column(KEY_ID, "Access key ID")?;
    let secret_at = column(SECRET, "Secret access key")?;
    let user_at = header.iter().position(|h| h == USER);
    let password_at = header.iter().position(|h| h == "password");
    let mut keys = Vec::new();
    for (index, line) in lines {
        let number = index + 1;
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let cell = |at: usize, shown: &'static str| {
            cells
                .get(at)
                .filter(|v| !v.is_empty())
                .copied()
                .ok_or(KeyFileError::MissingValue {
                    path: path.to_owned(),
                    line: number,
                    header: shown,
                })
        };
        let access_key_id = cell(id_at, "Access key ID")?.to_owned();
        if !is_key_id(&access_key_id) {
            return Err(KeyFileError::NotAKeyId {
                path: path.to_owned(),
                line: number,
            });
        }
        let secret_access_key = Secret::new(cell(secret_at, "Secret access key")?.to_owned());
        let user_name = user_at
            .and_then(|at| cells.get(at))
            .filter(|v| !v.is_empty())
            .map(|v| (*v).to_owned());
        let has_password = password_at
            .and_then(|at| cells.get(at))
            .is_some_and(|v| !v.is_empty());
        keys.push(KeyFileEntry {
            user_name,
            has_password,
            access_key_id,
            secret_access_key,
        });
    }
    if keys.is_empty() {
        return Err(KeyFileError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(keys)
}

/// What a key file holds, without its secrets: what the window shows before importing it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct KeyFilePreview {
    pub path: String,
    pub keys: Vec<PreviewKey>,
}

/// One key of a [`KeyFilePreview`].
#[derive(Clone, Debug, serde::Serialize)]
pub struct PreviewKey {
    pub access_key_id: String,
    pub user_name: Option<String>,
    /// The file also holds the console password: it is not offered for deletion.
    pub has_password: bool,
}

/// The preview of the key file at `path`.
pub fn preview(path: &Path) -> Result<KeyFilePreview, KeyFileError> {
    Ok(KeyFilePreview {
        path: path.display().to_string(),
        keys: read(path)?
            .into_iter()
            .map(|k| PreviewKey {
                access_key_id: k.access_key_id,
                user_name: k.user_name,
                has_password: k.has_password,
            })
            .collect(),
    })
}

/// The keys of the file at `path`.
pub fn read(path: &Path) -> Result<Vec<KeyFileEntry>, KeyFileError> {
    let shown = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| KeyFileError::Unreadable {
        path: shown.clone(),
        detail: e.to_string(),
    })?;
    let text = zeroize::Zeroizing::new(String::from_utf8_lossy(&text).into_owned());
    parse(&text, &shown)
}

/// A long-term access key id: `AKIA` and 16 more capital letters or digits (20 in all).
fn is_key_id(id: &str) -> bool {
    id.len() == 20
        && id.starts_with("AKIA")
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consoles_new_key_file_and_its_user_credentials_file_are_both_read() {
        let new_key = "\u{feff}Access key ID,Secret access key\r\nAKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\r\n";
        let keys = parse(new_key, "k.csv").unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(
            keys[0].secret_access_key.expose(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        );
        assert_eq!(keys[0].user_name, None);
        let user = "User name,Password,Access key ID,Secret access key,Console login link\n\
                    alice,,AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY,https://1.signin.aws.amazon.com/console\n";
        let keys = parse(user, "u.csv").unwrap();
        assert_eq!(keys[0].user_name.as_deref(), Some("alice"));
    }

    #[test]
    fn a_file_that_is_not_a_key_file_is_refused_with_what_it_lacks() {
        let said = |text: &str| parse(text, "f.csv").err().unwrap().to_string();
        assert!(said("name,email\nalice,a@example.com\n").contains("no \"Access key ID\" column"));
        assert!(said("Access key ID,Secret access key\n").contains("holds no access key"));
        assert!(
            said("Access key ID,Secret access key\nAKIAIOSFODNN7EXAMPLE\n")
                .contains("line 2 of f.csv has no Secret access key")
        );
        let swapped = said("Access key ID,Secret access key\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY,AKIAIOSFODNN7EXAMPLE\n");
        assert!(
            swapped.contains("does not hold an access key ID"),
            "{swapped}"
        );
        assert!(
            !swapped.contains("wJalrXUtnFEMI"),
            "the secret is never shown"
        );
    }
}
