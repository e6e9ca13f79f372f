//! The access keys of a profile's IAM user: status, age, last use, and the profiles holding each.

use time::OffsetDateTime;
use tokio::task::JoinSet;

use crate::aws::{iam, AccessKeyStatus, Service};
use crate::files::cli_reading::{self, SectionMeaning};
use crate::files::{AwsFiles, FileKind, Origin};
use crate::identity::{check_identity, IdentityError, Session};
use crate::keychain::Keychain;

/// One access key of a user, as IAM reports it (never with its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessKey {
    pub access_key_id: String,
    pub status: AccessKeyStatus,
    pub created: OffsetDateTime,
    /// Whole days since `created`.
    pub age_days: i64,
    /// `None` when the key was never used.
    pub last_used: Option<LastUse>,
    /// The local profiles whose `aws_access_key_id` is this key, in either file.
    pub holders: Vec<KeyHolder>,
}

/// When and where a key last signed a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastUse {
    pub date: OffsetDateTime,
    /// `None` when AWS reports "N/A".
    pub service: Option<String>,
    pub region: Option<String>,
}

/// A profile section that holds a key: the profile and the line of its `aws_access_key_id`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyHolder {
    pub profile: String,
    pub origin: Origin,
}

/// The keys of the IAM user behind a profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserKeys {
    pub user: String,
    pub arn: String,
    pub keys: Vec<AccessKey>,
}

/// Why the keys could not be listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessKeysError {
    #[error(transparent)]
    Identity(#[from] IdentityError),

    #[error(
        "profile '{profile}' is not an IAM user but {arn}; only IAM users have access keys. \
         Use the profile that holds the user's keys"
    )]
    NotAUser { profile: String, arn: String },
}

impl AccessKeysError {
    /// A stable short code, as [`IdentityError::code`] (`NotAUser` for a role or root).
    pub fn code(&self) -> &str {
        match self {
            AccessKeysError::Identity(e) => e.code(),
            AccessKeysError::NotAUser { .. } => "NotAUser",
        }
    }
}

/// The IAM user name in a user ARN (`arn:aws:iam::123456789012:user/PATH/NAME` -> `NAME`);
/// `None` for any other kind of ARN (assumed role, root, federated user).
pub fn user_name_from_arn(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let path = resource.strip_prefix("user/")?;
    path.rsplit('/').next().filter(|name| !name.is_empty())
}

/// Every profile section, in either file, whose `aws_access_key_id` is `access_key_id`: config
/// sections first, then credentials sections, each in file order. A profile holding the key in
/// both files appears twice (one per file).
pub fn profiles_holding_key(files: &AwsFiles, access_key_id: &str) -> Vec<KeyHolder> {
    let mut holders = Vec::new();
    for kind in [FileKind::Config, FileKind::Credentials] {
        let syntax = cli_reading::parse(&files.file(kind).doc);
        let (sections, _) = cli_reading::sections(syntax, kind);
        for (name, settings) in &sections {
            let profile = match kind {
                FileKind::Credentials => name.clone(),
                FileKind::Config => match cli_reading::config_section_meaning(name) {
                    SectionMeaning::Profile(p) => p,
                    _ => continue,
                },
            };
            let Some(setting) = settings.get("aws_access_key_id") else {
                continue;
            };
            if setting.value.as_text().map(str::trim) == Some(access_key_id) {
                holders.push(KeyHolder {
                    profile,
                    origin: setting.origin,
                });
            }
        }
    }
    holders
}

/// [`profiles_holding_key`], then the profiles holding the key through their keychain entry
/// (`keyrack vault move`; their origin is the line of their `credential_process`). Keychain
/// holders are left out when the keychain cannot be read: this is for showing.
fn holders_of(files: &AwsFiles, access_key_id: &str) -> Vec<KeyHolder> {
    let mut holders = profiles_holding_key(files, access_key_id);
    if !crate::keychain::places::keychain_profiles(files).is_empty() {
        let in_keychain = Keychain::open()
            .and_then(|keychain| {
                crate::rotation::holders::keychain_holders(files, &keychain, access_key_id)
            })
            .unwrap_or_default();
        holders.extend(in_keychain.into_iter().map(|h| KeyHolder {
            profile: h.profile,
            origin: h.origin,
        }));
    }
    holders
}

/// The keys of the IAM user `profile` signs in as: ListAccessKeys for that user, then
/// GetAccessKeyLastUsed for each key (at once), with the local profiles that hold each.
pub async fn list_user_keys(
    session: &Session,
    files: &AwsFiles,
    profile: &str,
) -> Result<UserKeys, AccessKeysError> {
    let identity = check_identity(session, profile).await?;
    let user = user_name_from_arn(&identity.arn)
        .ok_or_else(|| AccessKeysError::NotAUser {
            profile: profile.to_owned(),
            arn: identity.arn.clone(),
        })?
        .to_owned();
    let credentials = session.credentials(profile).await?;
    let client = session.client(profile)?;
    let endpoint = session.endpoint(profile, Service::Iam)?;
    let aws_error = |action: &str, error| IdentityError::Aws {
        profile: profile.to_owned(),
        action: action.to_owned(),
        error,
    };
    let listed = iam::list_access_keys(&client, &endpoint, &credentials, Some(&user))
        .await
        .map_err(|e| aws_error("ListAccessKeys", e))?;

    let mut lookups = JoinSet::new();
    for (index, key) in listed.iter().enumerate() {
        let (client, endpoint, credentials) =
            (client.clone(), endpoint.clone(), credentials.clone());
        let key_id = key.access_key_id.clone();
        lookups.spawn(async move {
            let used =
                iam::get_access_key_last_used(&client, &endpoint, &credentials, &key_id).await;
            (index, used)
        });
    }
    let mut last_uses = vec![None; listed.len()];
    while let Some(joined) = lookups.join_next().await {
        let (index, used) = joined.expect("a last-used lookup panicked");
        let used = used.map_err(|e| aws_error("GetAccessKeyLastUsed", e))?;
        last_uses[index] = used.last_used_date.map(|date| LastUse {
            date,
            service: used.service_name,
            region: used.region,
        });
    }

    let now = OffsetDateTime::now_utc();
    let keys = listed
        .into_iter()
        .zip(last_uses)
        .map(|(key, last_used)| AccessKey {
            holders: holders_of(files, &key.access_key_id),
            age_days: (now - key.create_date).whole_days(),
            access_key_id: key.access_key_id,
            status: key.status,
            created: key.create_date,
            last_used,
        })
        .collect();
    Ok(UserKeys {
        user,
        arn: identity.arn,
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_come_from_user_arns_only() {
        assert_eq!(
            user_name_from_arn("arn:aws:iam::123456789012:user/alice"),
            Some("alice")
        );
        assert_eq!(
            user_name_from_arn("arn:aws:iam::123456789012:user/team/ops/bob"),
            Some("bob")
        );
        assert_eq!(user_name_from_arn("arn:aws-cn:iam::1:user/c"), Some("c"));
        assert_eq!(
            user_name_from_arn("arn:aws:sts::123456789012:assumed-role/admin/me"),
            None
        );
        assert_eq!(user_name_from_arn("arn:aws:iam::123456789012:root"), None);
        assert_eq!(user_name_from_arn("nonsense"), None);
    }

    #[test]
    fn holders_are_found_in_both_files_with_their_lines() {
        let config = "[default]\nregion = eu-west-1\n[profile cfg]\naws_access_key_id = AKIAONE\n\
                      [profile other]\naws_access_key_id = AKIATWO\n";
        let credentials =
            "[cred]\naws_access_key_id = AKIAONE\n[cfg]\naws_access_key_id = AKIAONE\n";
        let files = AwsFiles::from_bytes(config.as_bytes(), credentials.as_bytes());
        let holders = profiles_holding_key(&files, "AKIAONE");
        let found: Vec<(&str, FileKind, usize)> = holders
            .iter()
            .map(|h| (h.profile.as_str(), h.origin.file, h.origin.line))
            .collect();
        assert_eq!(
            found,
            [
                ("cfg", FileKind::Config, 4),
                ("cred", FileKind::Credentials, 2),
                ("cfg", FileKind::Credentials, 4),
            ]
        );
        assert!(profiles_holding_key(&files, "AKIANONE").is_empty());
    }
}
