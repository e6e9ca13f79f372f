//! The AWS CLI's cache of assumed-role sessions, `~/.aws/cli/cache/<key>.json`, read the way the
//! AWS CLI reads it: after `aws --profile P` assumed P's role (and asked for its MFA code), keyrack
//! uses that session until 15 minutes before it expires instead of assuming the role again.
//!
//! The file name is botocore's: the SHA-1 of the AssumeRole arguments fixed by the profile
//! (`RoleArn`, and `RoleSessionName`, `ExternalId`, `SerialNumber`, `DurationSeconds` when set),
//! serialised as Python's `json.dumps(args, sort_keys=True)` does. The file holds STS's answer;
//! only its `Credentials` are used.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha1::{Digest, Sha1};
use time::OffsetDateTime;

use super::source::RoleSettings;
use crate::aws::{AssumedRole, Credentials};
use crate::secret::Secret;

/// A cached session is used while more than this is left of it (botocore's 15 minutes: the AWS
/// tools refresh credentials that expire sooner).
const STILL_GOOD_FOR: time::Duration = time::Duration::seconds(15 * 60);

/// The folder the AWS CLI caches assumed-role sessions in: `~/.aws/cli/cache` (the home folder
/// as botocore finds it, whatever `AWS_CONFIG_FILE` says).
pub fn cache_dir(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    aws_dir(env).map(|aws| aws.join("cli").join("cache"))
}

/// `~/.aws`, the home folder as botocore finds it (Python's `expanduser`: `USERPROFILE` on
/// Windows, where `HOME` is ignored; `HOME` elsewhere).
pub fn aws_dir(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let home = if cfg!(windows) {
        env("USERPROFILE")
    } else {
        env("HOME")
    };
    home.filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".aws"))
}

/// The name (without `.json`) of the file the AWS CLI caches `role`'s sessions in.
pub fn cache_key(role: &RoleSettings) -> String {
    // Sorted by key, as `sort_keys=True` sorts them.
    let mut members: Vec<(&str, String)> = vec![("RoleArn", python_string(&role.role_arn))];
    if let Some(name) = &role.session_name {
        members.push(("RoleSessionName", python_string(name)));
    }
    if let Some(id) = &role.external_id {
        members.push(("ExternalId", python_string(id)));
    }
    if let Some(serial) = &role.mfa_serial {
        members.push(("SerialNumber", python_string(serial)));
    }
    if let Some(seconds) = role.duration_seconds {
        members.push(("DurationSeconds", seconds.to_string()));
    }
    members.sort_by(|a, b| a.0.cmp(b.0));
    let body: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{}: {v}", python_string(k)))
        .collect();
    let text = format!("{{{}}}", body.join(", "));
    let digest = Sha1::digest(text.as_bytes());
    let hex = crate::hex::hex(&digest);
    // botocore also replaces ':', '/' and the path separator by '_'; a hex digest has none.
    hex
}

/// A string as Python's `json.dumps` writes it (`ensure_ascii=True`): every character outside
/// ASCII, and every control character, as `\uXXXX` (UTF-16, surrogate pairs above U+FFFF).
fn python_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Keep `session`, just assumed for `role`, in `dir` as the AWS CLI keeps its own sessions, so
/// that `aws --profile P` (and every SDK with the CLI's cache) uses it instead of asking for
/// another MFA code: the file the AWS CLI reads, 0600, written whole or not at all, in a folder
/// created 0700 when missing.
pub fn store_session(
    dir: &Path,
    role: &RoleSettings,
    session: &AssumedRole,
) -> std::io::Result<()> {
    use time::format_description::well_known::Rfc3339;
    let expiration = session
        .expiration
        .format(&Rfc3339)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer<'a> {
        credentials: Issued<'a>,
        assumed_role_user: RoleUser<'a>,
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Issued<'a> {
        access_key_id: &'a str,
        secret_access_key: &'a str,
        session_token: &'a str,
        expiration: &'a str,
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct RoleUser<'a> {
        assumed_role_id: &'a str,
        arn: &'a str,
    }
    let c = &session.credentials;
    let answer = Answer {
        credentials: Issued {
            access_key_id: &c.access_key_id,
            secret_access_key: c.secret_access_key.expose(),
            session_token: c
                .session_token
                .as_ref()
                .map(|t| t.expose())
                .unwrap_or_default(),
            expiration: &expiration,
        },
        assumed_role_user: RoleUser {
            assumed_role_id: &session.assumed_role_id,
            arn: &session.assumed_role_arn,
        },
    };
    write_entry(dir, &cache_key(role), &answer)
}

/// `answer` as `dir/KEY.json` ([`crate::files::private::write_json`]).
fn write_entry(dir: &Path, key: &str, answer: &impl serde::Serialize) -> std::io::Result<()> {
    crate::files::private::write_json(&dir.join(format!("{key}.json")), answer)
}

#[derive(Deserialize)]
struct CachedAnswer {
    #[serde(rename = "Credentials")]
    credentials: CachedCredentials,
}

#[derive(Deserialize)]
struct CachedCredentials {
    #[serde(rename = "AccessKeyId")]
    access_key_id: String,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: Secret,
    #[serde(rename = "SessionToken")]
    session_token: Secret,
    #[serde(rename = "Expiration")]
    expiration: String,
}

/// The file the AWS CLI caches `role`'s sessions in, under `dir`.
pub fn session_file(dir: &Path, role: &RoleSettings) -> PathBuf {
    dir.join(format!("{}.json", cache_key(role)))
}

/// When the session cached for `role` in `dir` expires, if one is cached and can be read.
pub fn cached_expiration(dir: &Path, role: &RoleSettings) -> Option<OffsetDateTime> {
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(session_file(dir, role)).ok()?);
    let answer: CachedAnswer = serde_json::from_str(&text).ok()?;
    parse_expiration(&answer.credentials.expiration)
}

/// The session the AWS CLI cached for `role` in `dir`, if there is one with more than 15 minutes
/// left at `now`. A file that cannot be read or understood is no session (the AWS CLI then
/// assumes the role again, and so does keyrack).
pub fn cached_session(
    dir: &Path,
    role: &RoleSettings,
    now: OffsetDateTime,
) -> Option<(Credentials, OffsetDateTime)> {
    cached_by_key(dir, &cache_key(role), now)
}

/// The credentials cached in `dir` under `key` (`KEY.json`), if they have more than 15 minutes
/// left at `now`: an assumed role's, or an SSO role's ([`sso_cache_key`]).
pub fn cached_by_key(
    dir: &Path,
    key: &str,
    now: OffsetDateTime,
) -> Option<(Credentials, OffsetDateTime)> {
    let file = dir.join(format!("{key}.json"));
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(file).ok()?);
    let answer: CachedAnswer = serde_json::from_str(&text).ok()?;
    let expires = parse_expiration(&answer.credentials.expiration)?;
    if expires - now <= STILL_GOOD_FOR {
        return None;
    }
    let c = answer.credentials;
    let credentials = Credentials::new(c.access_key_id, c.secret_access_key, Some(c.session_token));
    Some((credentials, expires))
}

/// The name (without `.json`) botocore caches an SSO role's credentials under: the SHA-1 of
/// `{"accountId":…,"roleName":…,"sessionName":…}` (or `"startUrl"` for a profile without an
/// sso-session), sorted and without spaces.
pub fn sso_cache_key(account_id: &str, role_name: &str, session: Result<&str, &str>) -> String {
    let mut members = vec![
        ("accountId", python_string(account_id)),
        ("roleName", python_string(role_name)),
    ];
    match session {
        Ok(name) => members.push(("sessionName", python_string(name))),
        Err(start_url) => members.push(("startUrl", python_string(start_url))),
    }
    members.sort_by(|a, b| a.0.cmp(b.0));
    let body: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{}:{v}", python_string(k)))
        .collect();
    let digest = Sha1::digest(format!("{{{}}}", body.join(",")).as_bytes());
    crate::hex::hex(&digest)
}

/// Keep an SSO role's credentials in `dir` under `key` as botocore keeps them (`ProviderType`
/// `sso`, the expiry as `%Y-%m-%dT%H:%M:%SZ`, the account): 0600, written whole or not at all.
pub fn store_sso(
    dir: &Path,
    key: &str,
    credentials: &Credentials,
    expiration: OffsetDateTime,
    account_id: &str,
) -> std::io::Result<()> {
    let format = time::format_description::parse_borrowed::<1>(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z",
    )
    .map_err(|e| std::io::Error::other(e.to_string()))?;
    let expiration = expiration
        .to_offset(time::UtcOffset::UTC)
        .format(&format)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    #[derive(serde::Serialize)]
    struct Answer<'a> {
        #[serde(rename = "ProviderType")]
        provider_type: &'a str,
        #[serde(rename = "Credentials")]
        credentials: Issued<'a>,
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Issued<'a> {
        access_key_id: &'a str,
        secret_access_key: &'a str,
        session_token: &'a str,
        expiration: &'a str,
        account_id: &'a str,
    }
    let answer = Answer {
        provider_type: "sso",
        credentials: Issued {
            access_key_id: &credentials.access_key_id,
            secret_access_key: credentials.secret_access_key.expose(),
            session_token: credentials
                .session_token
                .as_ref()
                .map(|t| t.expose())
                .unwrap_or_default(),
            expiration: &expiration,
            account_id,
        },
    };
    write_entry(dir, key, &answer)
}

/// An expiration as the AWS tools write it: RFC 3339 (`…Z`, `…+00:00`), or botocore's
/// `strftime('%Y-%m-%dT%H:%M:%S%Z')` (`2026-01-01T12:00:00UTC`).
fn parse_expiration(text: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(at);
    }
    let utc = text
        .strip_suffix("UTC")
        .or_else(|| text.strip_suffix("GMT"))?;
    OffsetDateTime::parse(&format!("{utc}Z"), &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(arn: &str) -> RoleSettings {
        RoleSettings {
            role_arn: arn.into(),
            external_id: None,
            session_name: None,
            duration_seconds: None,
            mfa_serial: None,
        }
    }

    #[test]
    fn the_key_is_the_sha1_of_the_sorted_python_json_of_the_role_arguments() {
        // Computed with Python: sha1(json.dumps(args, sort_keys=True).encode()).hexdigest().
        assert_eq!(
            cache_key(&role("arn:aws:iam::111122223333:role/admin")),
            "12ab38ff23076fbf81c6318032953bae97b76a44"
        );
        let with_mfa = RoleSettings {
            duration_seconds: Some(3600),
            mfa_serial: Some("arn:aws:iam::111122223333:mfa/alice".into()),
            ..role("arn:aws:iam::111122223333:role/admin")
        };
        assert_eq!(
            cache_key(&with_mfa),
            "96ad77e09fa1f636bf5d1bfccaab8735b7758f23"
        );
        let everything = RoleSettings {
            external_id: Some("ext-123".into()),
            session_name: Some("alice".into()),
            ..with_mfa
        };
        assert_eq!(
            cache_key(&everything),
            "6ee2ac095a011aac03fea14609a0f3d69de24add"
        );
    }

    #[test]
    fn strings_are_written_as_python_writes_them() {
        assert_eq!(python_string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(python_string("é"), r#""\u00e9""#);
        assert_eq!(python_string("𝄞"), r#""\ud834\udd1e""#);
        assert_eq!(python_string("\u{1}\t"), r#""\u0001\t""#);
    }

    #[test]
    fn expirations_in_every_form_the_tools_write_are_read() {
        let at = parse_expiration("2030-01-01T12:00:00Z").unwrap();
        assert_eq!(parse_expiration("2030-01-01T12:00:00UTC"), Some(at));
        assert_eq!(parse_expiration("2030-01-01T12:00:00+00:00"), Some(at));
        assert_eq!(parse_expiration("soon"), None);
    }

    #[test]
    fn a_session_is_used_only_while_more_than_15_minutes_are_left() {
        let dir = tempfile::tempdir().unwrap();
        let role = role("arn:aws:iam::111122223333:role/admin");
        let write = |expiration: &str| {
            let body = format!(
                r#"{{"Credentials": {{"AccessKeyId": "ASIAEXAMPLECACHE0001", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "{expiration}"}}}}"#
            );
            std::fs::write(dir.path().join(format!("{}.json", cache_key(&role))), body).unwrap();
        };
        let now = parse_expiration("2030-01-01T12:00:00Z").unwrap();
        write("2030-01-01T12:20:00UTC");
        let (found, _) = cached_session(dir.path(), &role, now).unwrap();
        assert_eq!(found.access_key_id, "ASIAEXAMPLECACHE0001");
        assert!(found.session_token.is_some());
        write("2030-01-01T12:10:00UTC");
        assert_eq!(cached_session(dir.path(), &role, now), None);
        std::fs::write(dir.path().join(format!("{}.json", cache_key(&role))), "{").unwrap();
        assert_eq!(cached_session(dir.path(), &role, now), None);
    }
}
