//! `keyrack credential-process --profile NAME --file-set SETID`: what the AWS tools run (through the profile's
//! `credential_process`) for a profile whose key is in the keychain. It prints exactly the JSON
//! of the credential_process contract on stdout:
//!
//! ```json
//! {"Version":1,"AccessKeyId":"…","SecretAccessKey":"…","SessionToken":"…","Expiration":"…"}
//! ```
//!
//! (`SessionToken` and `Expiration` only when the entry has them). On failure it exits non-zero
//! with one line on stderr, which the AWS CLI shows as is: never a secret there.
//!
//! It runs before every AWS call a user makes, so it does the least possible: it reads no file,
//! starts no async runtime, and makes one keychain lookup: the entry `SETID:NAME`, or `NAME` for
//! a line from before entries were per file set (no `--file-set`).

use std::io::Write;
use std::process::ExitCode;

use keyrack::keychain::{self, Keychain, StoredKey};

pub fn run(profile: &str, file_set: Option<&str>) -> ExitCode {
    let account = match file_set {
        Some(set) if keychain::is_file_set_id(set) => keychain::account(set, profile),
        Some(_) => {
            eprintln!("keyrack: the --file-set of profile '{profile}' is not a file set id (12 hex digits, as `keyrack vault move` writes it)");
            return ExitCode::FAILURE;
        }
        None => profile.to_string(),
    };
    let answer = Keychain::open().and_then(|keychain| keychain.get(&account));
    let key = match answer {
        Ok(key) => key,
        Err(error) => {
            eprintln!("keyrack: cannot give the AWS tools the key of profile '{profile}': {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(process_json(&key).as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("keyrack: could not write the credentials of profile '{profile}' to standard output: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The credential_process JSON, one line. It holds the secret: it goes to stdout only.
fn process_json(key: &StoredKey) -> String {
    let c = &key.credentials;
    let mut out = serde_json::Map::new();
    out.insert("Version".into(), 1.into());
    out.insert("AccessKeyId".into(), c.access_key_id.clone().into());
    out.insert(
        "SecretAccessKey".into(),
        c.secret_access_key.expose().into(),
    );
    if let Some(token) = &c.session_token {
        out.insert("SessionToken".into(), token.expose().into());
    }
    if let Some(expiration) = &key.expiration {
        out.insert("Expiration".into(), expiration.clone().into());
    }
    let mut text = serde_json::Value::Object(out).to_string();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyrack::aws::Credentials;
    use keyrack::secret::Secret;

    #[test]
    fn prints_the_contract_members_in_order_and_only_those_present() {
        let plain = StoredKey::new(Credentials::new("AKIA1", "s3cr3t", None));
        assert_eq!(
            process_json(&plain),
            "{\"Version\":1,\"AccessKeyId\":\"AKIA1\",\"SecretAccessKey\":\"s3cr3t\"}\n"
        );
        let session = StoredKey {
            credentials: Credentials::new("ASIA1", "s", Some(Secret::new("t"))),
            expiration: Some("2030-01-01T00:00:00Z".into()),
        };
        assert_eq!(
            process_json(&session),
            "{\"Version\":1,\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\",\"Expiration\":\"2030-01-01T00:00:00Z\"}\n"
        );
    }
}
