//! The access keys of a profile's IAM user: status, age, last use, and the profiles holding each.

use std::fmt;

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::task::JoinSet;

use crate::aws::{
    iam, AccessKeyLastUsed, AccessKeyMetadata, AccessKeyStatus, AwsClient, AwsError, Credentials,
    Endpoint, Service,
};
use crate::files::cli_reading::{self, SectionMeaning};
use crate::files::{AwsFiles, FileKind, Origin};
use crate::identity::{check_identity, IdentityError, Session};
use crate::keychain::Keychain;

/// A key's status at AWS, as far as keyrack knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    Inactive,
    Deleted,
    /// AWS could not be asked.
    Unknown,
}

impl From<AccessKeyStatus> for KeyStatus {
    fn from(status: AccessKeyStatus) -> Self {
        match status {
            AccessKeyStatus::Active => KeyStatus::Active,
            AccessKeyStatus::Inactive => KeyStatus::Inactive,
        }
    }
}

impl fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
            KeyStatus::Deleted => "deleted",
            KeyStatus::Unknown => "in a state AWS could not be asked about",
        })
    }
}

/// One access key of a user (never its secret): what the rotation plan, `keyrack keys` and the
/// app show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub access_key_id: String,
    pub status: KeyStatus,
    /// RFC 3339.
    pub created: String,
    pub age_days: i64,
    /// RFC 3339; `None` when never used or when AWS could not say.
    pub last_used: Option<String>,
    pub last_used_service: Option<String>,
    pub last_used_region: Option<String>,
    /// The local profiles that hold it, each once, in file order.
    pub profiles: Vec<String>,
    #[serde(skip)]
    pub(crate) created_at: OffsetDateTime,
}

impl KeyInfo {
    /// `key` as IAM listed it, its last use if AWS said, the profiles holding it, its age at `now`.
    pub(crate) fn new(
        key: &AccessKeyMetadata,
        used: Option<&AccessKeyLastUsed>,
        profiles: Vec<String>,
        now: OffsetDateTime,
    ) -> KeyInfo {
        KeyInfo {
            access_key_id: key.access_key_id.clone(),
            status: key.status.into(),
            created: timestamp(key.create_date),
            age_days: (now - key.create_date).whole_days(),
            last_used: used.and_then(|u| u.last_used_date).map(timestamp),
            last_used_service: used.and_then(|u| u.service_name.clone()),
            last_used_region: used.and_then(|u| u.region.clone()),
            profiles,
            created_at: key.create_date,
        }
    }
}

/// RFC 3339.
pub(crate) fn timestamp(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_else(|_| time.to_string())
}

/// A profile section that holds a key: the profile and the line of its `aws_access_key_id`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyHolder {
    pub profile: String,
    pub origin: Origin,
}

/// The keys of the IAM user behind a profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserKeys {
    pub user: String,
    pub arn: String,
    pub keys: Vec<KeyInfo>,
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

    #[error("IAM user '{user}' has no access key {key_id}; nothing was changed")]
    UnknownKey { user: String, key_id: String },

    #[error(
        "the key {key_id} is in {profiles} here, so making it Inactive or deleting it would stop \
         them working; rotate it instead (or give them another key first). Nothing was changed"
    )]
    KeyHeldHere { key_id: String, profiles: String },
}

/// What to do with another access key of the user, to make room for a rotation (AWS allows two).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtherKeyChange {
    /// Switch it off (it can be switched on again in the IAM console).
    MakeInactive,
    /// Delete it for good.
    Delete,
}

impl AccessKeysError {
    /// A stable snake_case code, as [`IdentityError::code`] (`not_a_user` for a role or root).
    pub fn code(&self) -> &'static str {
        match self {
            AccessKeysError::Identity(e) => e.code(),
            AccessKeysError::NotAUser { .. } => "not_a_user",
            AccessKeysError::UnknownKey { .. } => "unknown_key",
            AccessKeysError::KeyHeldHere { .. } => "key_held_here",
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

/// The names of the profiles holding the key: [`profiles_holding_key`], then those holding it
/// through their keychain entry (`keyrack vault move`), each once. Keychain holders are left
/// out when the keychain cannot be read: this is for showing.
fn holders_of(files: &AwsFiles, keychain: &Keychain, access_key_id: &str) -> Vec<String> {
    let mut holders = profiles_holding_key(files, access_key_id);
    if !crate::keychain::places::keychain_profiles(files).is_empty() {
        let in_keychain =
            crate::rotation::holders::keychain_holders(files, keychain, access_key_id)
                .unwrap_or_default();
        holders.extend(in_keychain.into_iter().map(|h| KeyHolder {
            profile: h.profile,
            origin: h.origin,
        }));
    }
    let mut names: Vec<String> = Vec::new();
    for holder in holders {
        if !names.contains(&holder.profile) {
            names.push(holder.profile);
        }
    }
    names
}

/// GetAccessKeyLastUsed of each of `keys`, all at once, in their order.
pub(crate) async fn last_uses(
    client: &AwsClient,
    endpoint: &Endpoint,
    signer: &Credentials,
    keys: &[AccessKeyMetadata],
) -> Vec<Result<AccessKeyLastUsed, AwsError>> {
    let mut lookups = JoinSet::new();
    for (index, key) in keys.iter().enumerate() {
        let (client, endpoint, signer) = (client.clone(), endpoint.clone(), signer.clone());
        let key_id = key.access_key_id.clone();
        lookups.spawn(async move {
            let used = iam::get_access_key_last_used(&client, &endpoint, &signer, &key_id).await;
            (index, used)
        });
    }
    let mut uses: Vec<Option<Result<AccessKeyLastUsed, AwsError>>> = Vec::new();
    uses.resize_with(keys.len(), || None);
    while let Some(joined) = lookups.join_next().await {
        let (index, used) = joined.expect("a last-used lookup panicked");
        uses[index] = Some(used);
    }
    uses.into_iter()
        .map(|u| u.expect("every lookup answered"))
        .collect()
}

/// Whether `profile` signs with an MFA device's session (it, or its source, has `mfa_serial`).
pub(crate) fn behind_mfa(reading: &crate::files::Reading, profile: &str) -> bool {
    crate::identity::credential_source(&reading.profiles, profile)
        .ok()
        .and_then(|source| crate::identity::MfaSignIn::of(&source))
        .is_some()
}

/// IAM's refusal of a key signing without MFA, with what to do: accounts that require MFA for
/// IAM deny the key alone explicitly.
pub(crate) fn mfa_hint(error: AwsError, without_mfa: bool) -> AwsError {
    match error {
        AwsError::AccessDenied { code, message }
            if without_mfa && message.contains("explicit deny") =>
        {
            AwsError::AccessDenied {
                code,
                message: format!(
                    "{message}; if the account requires MFA for IAM calls, set mfa_serial on the \
                     profile to the ARN of your MFA device and keyrack asks for a code"
                ),
            }
        }
        other => other,
    }
}

/// The keys of the IAM user `profile` signs in as: ListAccessKeys for that user, then
/// GetAccessKeyLastUsed for each key (at once), with the local profiles that hold each.
pub async fn list_user_keys(
    session: &Session,
    files: &AwsFiles,
    profile: &str,
) -> Result<UserKeys, AccessKeysError> {
    let access = IamAccess::of(session, profile).await?;
    keys_of(session, files, &access).await
}

/// The keys of `access`'s user, their last use and holders.
async fn keys_of(
    session: &Session,
    files: &AwsFiles,
    access: &IamAccess,
) -> Result<UserKeys, AccessKeysError> {
    let IamAccess {
        user,
        arn,
        credentials,
        client,
        endpoint,
        ..
    } = access;
    let listed = iam::list_access_keys(client, endpoint, credentials, Some(user))
        .await
        .map_err(|e| access.error("ListAccessKeys", e))?;

    let mut uses = Vec::new();
    for used in last_uses(client, endpoint, credentials, &listed).await {
        uses.push(used.map_err(|e| access.error("GetAccessKeyLastUsed", e))?);
    }
    let now = OffsetDateTime::now_utc();
    let keys = listed
        .iter()
        .zip(&uses)
        .map(|(key, used)| {
            let holders = holders_of(files, session.keychain(), &key.access_key_id);
            KeyInfo::new(key, Some(used), holders, now)
        })
        .collect();
    Ok(UserKeys {
        user: user.clone(),
        arn: arn.clone(),
        keys,
    })
}

/// Make another key of `profile`'s IAM user Inactive or delete it (signed with the profile's
/// key, through its MFA session when it has a device), to make room for a rotation or a
/// replacement: never a key that works in a profile here (the profile's own included); a key
/// whose secret AWS refuses in every profile holding it is lost and may go. The user's keys
/// afterwards.
pub async fn change_other_key(
    session: &Session,
    files: &AwsFiles,
    profile: &str,
    key_id: &str,
    change: OtherKeyChange,
) -> Result<UserKeys, AccessKeysError> {
    // A keychain profile that cannot be read could hold the key: refuse rather than guess.
    crate::rotation::holders::read_keychain_profiles(files, session.keychain()).map_err(
        |(profile, error)| AccessKeysError::Identity(IdentityError::Keychain { profile, error }),
    )?;
    let access = IamAccess::of(session, profile).await?;
    let before = keys_of(session, files, &access).await?;
    let key = before
        .keys
        .iter()
        .find(|k| k.access_key_id == key_id)
        .ok_or_else(|| AccessKeysError::UnknownKey {
            user: before.user.clone(),
            key_id: key_id.to_owned(),
        })?;
    // A key whose secret AWS refuses in every profile that holds it (the lost key of a
    // replacement) keeps nothing working: it may make room for the key that replaces it.
    if !key.profiles.is_empty() && !refused_everywhere(session, &key.profiles).await {
        return Err(AccessKeysError::KeyHeldHere {
            key_id: key_id.to_owned(),
            profiles: crate::rotation::progress::profile_list(&key.profiles),
        });
    }
    let user = Some(access.user.as_str());
    match change {
        OtherKeyChange::MakeInactive => iam::update_access_key(
            &access.client,
            &access.endpoint,
            &access.credentials,
            key_id,
            AccessKeyStatus::Inactive,
            user,
        )
        .await
        .map_err(|e| access.error("UpdateAccessKey", e))?,
        OtherKeyChange::Delete => iam::delete_access_key(
            &access.client,
            &access.endpoint,
            &access.credentials,
            key_id,
            user,
        )
        .await
        .map_err(|e| access.error("DeleteAccessKey", e))?,
    }
    keys_of(session, files, &access).await
}

/// Whether AWS refuses the secret of every one of `profiles` (GetCallerIdentity: a wrong secret,
/// not a network failure or a clock that is off).
async fn refused_everywhere(session: &Session, profiles: &[String]) -> bool {
    for profile in profiles {
        let answer = crate::identity::check_identity(session, profile).await;
        if !matches!(
            answer,
            Err(IdentityError::Aws {
                error: AwsError::WrongSecret { .. },
                ..
            })
        ) {
            return false;
        }
    }
    true
}

/// What IAM calls about a profile's own user are made with: the user, the credentials (an MFA
/// session where the profile has a device: accounts that require MFA for IAM refuse the key
/// alone), the client and IAM's endpoint.
struct IamAccess {
    profile: String,
    user: String,
    arn: String,
    credentials: Credentials,
    client: AwsClient,
    endpoint: Endpoint,
    without_mfa: bool,
}

impl IamAccess {
    async fn of(session: &Session, profile: &str) -> Result<IamAccess, AccessKeysError> {
        let identity = check_identity(session, profile).await?;
        let user = user_name_from_arn(&identity.arn)
            .ok_or_else(|| AccessKeysError::NotAUser {
                profile: profile.to_owned(),
                arn: identity.arn.clone(),
            })?
            .to_owned();
        Ok(IamAccess {
            profile: profile.to_owned(),
            user,
            arn: identity.arn,
            credentials: session.credentials_with_mfa(profile).await?,
            client: session.client(profile)?,
            endpoint: session.endpoint(profile, Service::Iam)?,
            without_mfa: !behind_mfa(session.reading(), profile),
        })
    }

    /// IAM refused `action`: said as an identity error of the profile (with the MFA hint when
    /// it has no device).
    fn error(&self, action: &str, error: AwsError) -> AccessKeysError {
        AccessKeysError::Identity(IdentityError::Aws {
            profile: self.profile.clone(),
            action: action.to_owned(),
            error: mfa_hint(error, self.without_mfa),
        })
    }
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
