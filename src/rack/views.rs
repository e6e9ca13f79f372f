//! The views the [`Rack`](super::Rack) returns besides the listing ([`crate::profiles::Listing`]):
//! one type per answer, serialised the same for `--json` and for the app's window.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::Error;
use crate::files::Settings;
use crate::identity::ProfileIdentity;
use crate::keychain::places::{secret_store, SecretStore, VaultListing};
use crate::keychain::StoredKey;

/// How one profile's identity check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityStatus {
    Ok,
    Failed,
    /// A profile with settings only and no credentials of its own, when every profile was
    /// checked: shown neutrally, not as a failure.
    SettingsOnly,
    /// AWS answered for it, but the AWS CLI and SDKs cannot read the files (a line they reject):
    /// keyrack can use it, no AWS tool can until that line is fixed.
    AwsToolsCannotRead,
}

/// One profile's identity: who AWS says it is, or why that could not be asked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IdentityView {
    pub profile: String,
    pub status: IdentityStatus,
    pub arn: Option<String>,
    pub account: Option<String>,
    pub user_id: Option<String>,
    /// Why it failed (or, for `settings_only`, what it holds instead).
    pub error: Option<Error>,
    /// Where its secret lives; `None` for a profile that does not exist.
    pub secret_store: Option<SecretStore>,
    /// Milliseconds since the epoch.
    pub checked_at: u64,
    /// For a profile answered with a session (a role's, an MFA device's): the whole minutes it
    /// has left.
    pub session_minutes_left: Option<i64>,
    /// The MFA device the profile signs in with (its role's, its key's, or its source's), if
    /// any: the window offers to sign in with it.
    pub mfa_device: Option<String>,
    /// The account's name, for an IAM Identity Center profile (as its portal lists it).
    pub account_name: Option<String>,
    /// A long-term key's age and last use, and what they call for.
    pub key_health: Option<super::KeyHealth>,
    /// It needs the person: it fails, the AWS tools cannot read it, or its key is due for
    /// rotation or unused (the window's "Needs attention").
    pub needs_attention: bool,
}

impl IdentityView {
    pub(super) fn of(outcome: &ProfileIdentity, settings: Option<&Settings>, every: bool) -> Self {
        let checked_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut view = IdentityView {
            profile: outcome.profile.clone(),
            status: IdentityStatus::Ok,
            arn: None,
            account: None,
            user_id: None,
            error: None,
            secret_store: settings.map(secret_store),
            checked_at,
            session_minutes_left: None,
            mfa_device: None,
            account_name: None,
            key_health: None,
            needs_attention: false,
        };
        match &outcome.result {
            Ok(identity) => {
                view.arn = Some(identity.arn.clone());
                view.account = Some(identity.account.clone());
                view.user_id = Some(identity.user_id.clone());
            }
            Err(error) => {
                view.status = if every && error.is_settings_only() {
                    IdentityStatus::SettingsOnly
                } else {
                    IdentityStatus::Failed
                };
                view.error = Some(Error::from(error.clone()));
            }
        }
        view
    }

    /// Whether this counts as a failure (exit status 1 of `whoami`): AWS refused it, or no AWS
    /// tool can read the files it is in.
    pub fn failed(&self) -> bool {
        matches!(
            self.status,
            IdentityStatus::Failed | IdentityStatus::AwsToolsCannotRead
        )
    }

    /// Set [`IdentityView::needs_attention`] from what the view holds now.
    pub(super) fn weigh_attention(&mut self) {
        let key = self
            .key_health
            .as_ref()
            .is_some_and(|h| h.rotate_due || h.unused);
        self.needs_attention = self.failed() || key;
    }

    /// Mark a profile that answered as one the AWS tools cannot use, because they reject the
    /// files (`rejection`: `PATH:LINE: why`).
    pub(super) fn unreadable_by_aws_tools(&mut self, rejection: &str) {
        if self.status != IdentityStatus::Ok {
            return;
        }
        self.status = IdentityStatus::AwsToolsCannotRead;
        self.error = Some(Error::new(
            "aws_tools_cannot_read",
            format!(
                "AWS answers for profile '{}', so keyrack can use it, but the AWS CLI and SDKs \
                 cannot read the files: {rejection}. Every aws command fails until that line is \
                 fixed (open Problems, or run `keyrack check`)",
                self.profile
            ),
        ));
    }
}

/// Where each profile's secret lives (`keyrack vault list`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VaultListView {
    /// The id of this file set, which its keychain entries' accounts start with.
    pub file_set: String,
    #[serde(flatten)]
    pub listing: VaultListing,
    /// What was done on the way (legacy entries migrated) and what could not be.
    pub notes: Vec<String>,
    /// Why the keychain could not be asked, when it could not.
    pub keychain_error: Option<Error>,
}

/// A session kept for a profile of these files: a role's (in the AWS CLI's cache) or a key-only
/// profile's MFA device session (in the keychain).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionView {
    /// The profile that signs in: the role profile, or the profile holding the key.
    pub profile: String,
    /// The role it is a session of; `None` for a key's MFA session.
    pub role_arn: Option<String>,
    /// The MFA device the session took a code of, if it did.
    pub mfa_serial: Option<String>,
    /// RFC 3339.
    pub expires: String,
    /// Whole minutes left (0 once it has expired).
    pub minutes_left: i64,
    pub kept_in: SessionPlace,
    /// The AWS CLI's cache file; `None` for a session in the keychain.
    pub file: Option<String>,
}

/// Where a session is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionPlace {
    /// `~/.aws/cli/cache`: the AWS CLI uses it too.
    AwsCliCache,
    /// The OS keychain (a key-only profile's MFA session, which the AWS tools do not cache).
    Keychain,
}

/// What `credential-process` prints: the credential_process contract's JSON, one line. It holds
/// the secret, so it has no `Debug` and goes to stdout only.
pub struct ProcessCredentials(StoredKey);

impl From<StoredKey> for ProcessCredentials {
    fn from(key: StoredKey) -> Self {
        ProcessCredentials(key)
    }
}

impl ProcessCredentials {
    /// A session's credentials, with the time the AWS tools must ask again.
    pub fn session(credentials: crate::aws::Credentials, expires: time::OffsetDateTime) -> Self {
        let expiration = expires
            .format(&time::format_description::well_known::Rfc3339)
            .ok();
        ProcessCredentials(StoredKey {
            credentials,
            expiration,
        })
    }

    /// `{"Version":1,"AccessKeyId":…,"SecretAccessKey":…[,"SessionToken":…][,"Expiration":…]}`
    /// and a newline, the members in that order and only those present.
    pub fn to_json_line(&self) -> String {
        let c = &self.0.credentials;
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
        if let Some(expiration) = &self.0.expiration {
            out.insert("Expiration".into(), expiration.clone().into());
        }
        let mut text = serde_json::Value::Object(out).to_string();
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::Credentials;
    use crate::secret::Secret;

    #[test]
    fn process_credentials_print_the_contract_members_in_order_and_only_those_present() {
        let plain = StoredKey::new(Credentials::new("AKIA1", "s3cr3t", None));
        assert_eq!(
            ProcessCredentials::from(plain).to_json_line(),
            "{\"Version\":1,\"AccessKeyId\":\"AKIA1\",\"SecretAccessKey\":\"s3cr3t\"}\n"
        );
        let session = StoredKey {
            credentials: Credentials::new("ASIA1", "s", Some(Secret::new("t"))),
            expiration: Some("2030-01-01T00:00:00Z".into()),
        };
        assert_eq!(
            ProcessCredentials::from(session).to_json_line(),
            "{\"Version\":1,\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\",\"Expiration\":\"2030-01-01T00:00:00Z\"}\n"
        );
    }
}
