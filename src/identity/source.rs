//! Where a profile's credentials come from, decided from the files alone in botocore's order
//! (role, web identity, SSO, credentials file, login, credential_process, config file), so that
//! loops and unsupported set-ups are found before anything is run or sent.

use crate::files::model::OrderedMap;

use crate::aws::Credentials;
use crate::files::{FileKind, Settings};
use crate::keychain::command::KeyrackCommand;
use crate::secret::Secret;

use super::error::IdentityError;

/// How to get a profile's credentials. To add a way (a keychain entry, say), add a variant here,
/// decide it in [`credential_source`], and fetch it in `fetch` (identity.rs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    /// `aws_access_key_id` + `aws_secret_access_key` (+ `aws_session_token`) from one section of
    /// one file.
    StaticKeys {
        profile: String,
        file: FileKind,
        credentials: Credentials,
    },
    /// `credential_process`: the command line as written in the file.
    Process { profile: String, command: String },
    /// A `credential_process` that runs keyrack for a keychain entry (`keyrack vault move`):
    /// the key is read from the keychain directly instead of running the process.
    Keychain { profile: String, account: String },
    /// `role_arn` assumed with the credentials of `source_profile`.
    AssumeRole {
        profile: String,
        role: RoleSettings,
        source: Box<CredentialSource>,
    },
    /// A user's long-term key (`keys`: [`CredentialSource::StaticKeys`] or
    /// [`CredentialSource::Keychain`]) on a profile with `mfa_serial` and no role: calls that
    /// need MFA are signed with a GetSessionToken session of that device (the AWS tools ignore
    /// `mfa_serial` here and sign with the key itself).
    MfaSession {
        profile: String,
        mfa: MfaSessionSettings,
        keys: Box<CredentialSource>,
    },
    /// `sso_account_id` + `sso_role_name`: the role's credentials from IAM Identity Center's
    /// portal, with the sign-in kept in `~/.aws/sso/cache` (settings resolved when fetched).
    Sso { profile: String },
}

/// The GetSessionToken settings of a key-only profile with `mfa_serial`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MfaSessionSettings {
    pub serial: String,
    /// `duration_seconds` (which the AWS tools read only for roles); 12 hours when unset or not a
    /// number.
    pub duration_seconds: Option<u32>,
}

impl MfaSessionSettings {
    /// How long a session lasts unless `duration_seconds` says otherwise: a working day.
    pub const DEFAULT_SECONDS: u32 = 12 * 3600;

    pub fn seconds(&self) -> u32 {
        self.duration_seconds.unwrap_or(Self::DEFAULT_SECONDS)
    }
}

impl CredentialSource {
    /// The profile whose settings this step uses.
    pub fn profile(&self) -> &str {
        match self {
            CredentialSource::StaticKeys { profile, .. }
            | CredentialSource::Process { profile, .. }
            | CredentialSource::Keychain { profile, .. }
            | CredentialSource::AssumeRole { profile, .. }
            | CredentialSource::MfaSession { profile, .. }
            | CredentialSource::Sso { profile } => profile,
        }
    }
}

/// The AssumeRole settings of a profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleSettings {
    pub role_arn: String,
    pub external_id: Option<String>,
    /// `role_session_name`; botocore's `botocore-session-<epoch seconds>` when unset.
    pub session_name: Option<String>,
    /// `duration_seconds`; ignored (AWS's default) when it is not a number, as botocore does.
    pub duration_seconds: Option<u32>,
    /// `mfa_serial`: assuming the role needs a code from this MFA device.
    pub mfa_serial: Option<String>,
}

/// Decides how `profile`'s credentials are had, the way the AWS CLI does for
/// `--profile PROFILE` (environment credentials do not count then). `profiles` is the merged
/// reading of both files ([`crate::files::Reading::profiles`]).
pub fn credential_source(
    profiles: &OrderedMap<Settings>,
    profile: &str,
) -> Result<CredentialSource, IdentityError> {
    let settings = profiles
        .get(profile)
        .ok_or_else(|| IdentityError::NoSuchProfile {
            profile: profile.to_owned(),
        })?;
    let mut chain = Chain {
        profiles,
        visited: vec![profile.to_owned()],
    };
    if has_role_config(settings) {
        chain.role(profile, settings)
    } else {
        chain.own_credentials(profile, settings)
    }
}

/// The profiles whose credentials go through MFA device `serial` (their role's, their key's
/// session, or their source's), in file order.
pub fn behind_device(profiles: &OrderedMap<Settings>, serial: &str) -> Vec<String> {
    fn uses(source: &CredentialSource, serial: &str) -> bool {
        match source {
            CredentialSource::MfaSession { mfa, .. } => mfa.serial == serial,
            CredentialSource::AssumeRole { role, source, .. } => {
                role.mfa_serial.as_deref() == Some(serial) || uses(source, serial)
            }
            _ => false,
        }
    }
    profiles
        .keys()
        .filter(|name| credential_source(profiles, name).is_ok_and(|s| uses(&s, serial)))
        .cloned()
        .collect()
}

/// Where a profile signs in with an MFA code: its own role or one of its sources' roles that
/// names a device, or the key-only profile whose device session it uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MfaSignIn {
    /// A role with `mfa_serial`: its session goes into the AWS CLI's cache.
    Role { profile: String, role: RoleSettings },
    /// A key-only profile with `mfa_serial`: its device's session goes into the keychain.
    Device {
        profile: String,
        mfa: MfaSessionSettings,
    },
}

impl MfaSignIn {
    /// The first sign-in on the way to `source`'s credentials, if any needs a code.
    pub fn of(source: &CredentialSource) -> Option<MfaSignIn> {
        match source {
            CredentialSource::AssumeRole { profile, role, .. } if role.mfa_serial.is_some() => {
                Some(MfaSignIn::Role {
                    profile: profile.clone(),
                    role: role.clone(),
                })
            }
            CredentialSource::AssumeRole { source, .. } => MfaSignIn::of(source),
            CredentialSource::MfaSession { profile, mfa, .. } => Some(MfaSignIn::Device {
                profile: profile.clone(),
                mfa: mfa.clone(),
            }),
            _ => None,
        }
    }

    /// The profile that signs in.
    pub fn profile(&self) -> &str {
        match self {
            MfaSignIn::Role { profile, .. } | MfaSignIn::Device { profile, .. } => profile,
        }
    }

    /// The MFA device.
    pub fn serial(&self) -> &str {
        match self {
            MfaSignIn::Role { role, .. } => role.mfa_serial.as_deref().unwrap_or_default(),
            MfaSignIn::Device { mfa, .. } => &mfa.serial,
        }
    }
}

/// botocore's AssumeRoleProvider state: the profiles visited so far, to find loops.
struct Chain<'a> {
    profiles: &'a OrderedMap<Settings>,
    visited: Vec<String>,
}

impl Chain<'_> {
    fn role(
        &mut self,
        profile: &str,
        settings: &Settings,
    ) -> Result<CredentialSource, IdentityError> {
        let source_profile = text(settings, "source_profile");
        let credential_source = text(settings, "credential_source");
        let source_name = match (source_profile, credential_source) {
            (Some(_), Some(_)) => {
                return Err(IdentityError::InvalidConfig {
                    profile: profile.to_owned(),
                    detail: "it has both source_profile and credential_source; keep one".into(),
                })
            }
            (None, None) => {
                return Err(IdentityError::PartialCredentials {
                    profile: profile.to_owned(),
                    detail: "it has a role_arn but neither a source_profile nor a \
                             credential_source to assume it with; add a source_profile"
                        .into(),
                })
            }
            (None, Some(what)) => {
                return Err(IdentityError::NotSupported {
                    profile: profile.to_owned(),
                    what: format!("credential_source = {what}"),
                })
            }
            (Some(name), None) => name,
        };
        self.check_source(profile, source_name)?;
        self.visited.push(source_name.to_owned());
        let source = self.as_source(source_name)?;
        Ok(CredentialSource::AssumeRole {
            profile: profile.to_owned(),
            role: RoleSettings::read(settings),
            source: Box::new(source),
        })
    }

    /// botocore's `_validate_source_profile`: the source must exist, and may come round again
    /// only as itself with keys of its own (a profile that assumes its role with its own keys).
    fn check_source(&self, parent: &str, source: &str) -> Result<(), IdentityError> {
        let settings =
            self.profiles
                .get(source)
                .ok_or_else(|| IdentityError::SourceProfileMissing {
                    profile: parent.to_owned(),
                    source_profile: source.to_owned(),
                })?;
        let seen = self.visited.iter().any(|v| v == source);
        if seen && (source != parent || !has_static_keys(settings)) {
            let mut profiles = self.visited.clone();
            profiles.push(source.to_owned());
            return Err(IdentityError::SourceProfileLoop { profiles });
        }
        Ok(())
    }

    /// A profile used as a source: its own keys win over its role (botocore's
    /// `_resolve_credentials_from_profile`).
    fn as_source(&mut self, profile: &str) -> Result<CredentialSource, IdentityError> {
        let settings = &self.profiles[profile];
        if has_static_keys(settings) || !has_role_config(settings) {
            // A source without credentials makes the role fail: that is no neutral outcome.
            self.own_credentials(profile, settings)
                .map_err(|e| match e {
                    IdentityError::SettingsOnly { profile, .. } => {
                        IdentityError::NoCredentials { profile }
                    }
                    other => other,
                })
        } else {
            self.role(profile, settings)
        }
    }

    /// botocore's profile providers in order, without AssumeRole.
    fn own_credentials(
        &self,
        profile: &str,
        settings: &Settings,
    ) -> Result<CredentialSource, IdentityError> {
        let not_supported = |what: &str| IdentityError::NotSupported {
            profile: profile.to_owned(),
            what: what.to_owned(),
        };
        if settings.contains_key("web_identity_token_file") {
            return Err(not_supported(
                "web_identity_token_file (web identity federation)",
            ));
        }
        if settings.contains_key("sso_role_name") || settings.contains_key("sso_account_id") {
            return Ok(CredentialSource::Sso {
                profile: profile.to_owned(),
            });
        }
        if in_file(settings, "aws_access_key_id", FileKind::Credentials).is_some() {
            return static_keys(profile, settings, FileKind::Credentials)
                .map(|keys| with_mfa_session(settings, keys));
        }
        if settings.contains_key("login_session") {
            return Err(not_supported("login_session (aws login)"));
        }
        if let Some(command) = text(settings, "credential_process") {
            if let Some(keyrack) = KeyrackCommand::parse(command) {
                let keys = CredentialSource::Keychain {
                    profile: profile.to_owned(),
                    account: keyrack.account(),
                };
                // The device the line serves the session of is what every AWS tool gets.
                return Ok(match keyrack.mfa {
                    Some(mfa) if !has_role_config(settings) => CredentialSource::MfaSession {
                        profile: profile.to_owned(),
                        mfa,
                        keys: Box::new(keys),
                    },
                    _ => with_mfa_session(settings, keys),
                });
            }
            return Ok(CredentialSource::Process {
                profile: profile.to_owned(),
                command: command.to_owned(),
            });
        }
        if in_file(settings, "aws_access_key_id", FileKind::Config).is_some() {
            return static_keys(profile, settings, FileKind::Config)
                .map(|keys| with_mfa_session(settings, keys));
        }
        let stray = [
            "aws_secret_access_key",
            "aws_session_token",
            "aws_security_token",
        ];
        if let Some(key) = stray.into_iter().find(|key| settings.contains_key(*key)) {
            return Err(IdentityError::PartialCredentials {
                profile: profile.to_owned(),
                detail: format!(
                    "it has {key} but no aws_access_key_id, so the AWS tools ignore it; add the \
                     key id that goes with it, or remove the {key}"
                ),
            });
        }
        if !settings
            .keys()
            .any(|key| CREDENTIAL_SETTINGS.contains(&key.as_str()))
        {
            return Err(IdentityError::SettingsOnly {
                profile: profile.to_owned(),
                settings: settings.keys().cloned().collect(),
            });
        }
        Err(IdentityError::NoCredentials {
            profile: profile.to_owned(),
        })
    }
}

/// Settings that are about credentials: a profile with none of them holds only settings.
const CREDENTIAL_SETTINGS: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
    "credential_process",
    "credential_source",
    "role_arn",
    "source_profile",
    "mfa_serial",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
    "sso_account_id",
    "sso_role_name",
    "login_session",
];

/// Keys from one file's section: botocore's credentials-file and config-file providers each
/// read only their own file.
fn static_keys(
    profile: &str,
    settings: &Settings,
    file: FileKind,
) -> Result<CredentialSource, IdentityError> {
    let partial = |detail: String| IdentityError::PartialCredentials {
        profile: profile.to_owned(),
        detail,
    };
    let key_id = in_file(settings, "aws_access_key_id", file).unwrap_or_default();
    let secret = in_file(settings, "aws_secret_access_key", file).ok_or_else(|| {
        partial(format!(
            "aws_access_key_id is in the {} file but aws_secret_access_key is not in the same \
             section; put both in the credentials file",
            file.name()
        ))
    })?;
    if key_id.trim().is_empty() || secret.trim().is_empty() {
        return Err(partial(
            "aws_access_key_id or aws_secret_access_key is empty".into(),
        ));
    }
    let token = in_file(settings, "aws_security_token", file)
        .or_else(|| in_file(settings, "aws_session_token", file))
        .filter(|t| !t.is_empty())
        .map(Secret::new);
    Ok(CredentialSource::StaticKeys {
        profile: profile.to_owned(),
        file,
        credentials: Credentials::new(key_id, secret, token),
    })
}

/// `keys`, behind an MFA session when the profile names an MFA device and has no role (a role
/// profile's `mfa_serial` is its role's).
fn with_mfa_session(settings: &Settings, keys: CredentialSource) -> CredentialSource {
    match text(settings, "mfa_serial").filter(|serial| !serial.trim().is_empty()) {
        Some(serial) if !has_role_config(settings) => CredentialSource::MfaSession {
            profile: keys.profile().to_owned(),
            mfa: MfaSessionSettings {
                serial: serial.trim().to_owned(),
                duration_seconds: text(settings, "duration_seconds")
                    .and_then(|d| d.trim().parse().ok()),
            },
            keys: Box::new(keys),
        },
        _ => keys,
    }
}

impl RoleSettings {
    fn read(settings: &Settings) -> RoleSettings {
        RoleSettings {
            role_arn: text(settings, "role_arn").unwrap_or_default().to_owned(),
            external_id: text(settings, "external_id").map(str::to_owned),
            // An empty name is no name, as botocore reads it.
            session_name: text(settings, "role_session_name")
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            duration_seconds: text(settings, "duration_seconds")
                .and_then(|d| d.trim().parse().ok()),
            mfa_serial: text(settings, "mfa_serial").map(str::to_owned),
        }
    }
}

fn text<'a>(settings: &'a Settings, key: &str) -> Option<&'a str> {
    settings.get(key).and_then(|s| s.value.as_text())
}

/// The value of `key` if it was read from `file` (the credentials file wins per key when both
/// have it).
fn in_file<'a>(settings: &'a Settings, key: &str, file: FileKind) -> Option<&'a str> {
    settings
        .get(key)
        .filter(|s| s.origin.file == file)
        .and_then(|s| s.value.as_text())
}

fn has_role_config(settings: &Settings) -> bool {
    settings.contains_key("role_arn") && !settings.contains_key("web_identity_token_file")
}

fn has_static_keys(settings: &Settings) -> bool {
    settings.contains_key("aws_access_key_id") || settings.contains_key("aws_secret_access_key")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::{AwsFiles, Dialect};

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn source(
        config: &str,
        credentials: &str,
        profile: &str,
    ) -> Result<CredentialSource, IdentityError> {
        let files = AwsFiles::from_bytes(config.as_bytes(), credentials.as_bytes());
        credential_source(&files.read(Dialect::Cli).profiles, profile)
    }

    fn keys(id: &str) -> String {
        format!("aws_access_key_id = {id}\naws_secret_access_key = {SECRET}\n")
    }

    #[test]
    fn keys_in_the_credentials_file_are_static_keys() {
        let s = source("", &format!("[dev]\n{}", keys("AKIADEV")), "dev").unwrap();
        match s {
            CredentialSource::StaticKeys {
                file, credentials, ..
            } => {
                assert_eq!(file, FileKind::Credentials);
                assert_eq!(credentials.access_key_id, "AKIADEV");
                assert_eq!(credentials.secret_access_key.expose(), SECRET);
                assert!(credentials.session_token.is_none());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys_in_the_config_file_are_read_from_there() {
        let s = source(&format!("[profile dev]\n{}", keys("AKIACFG")), "", "dev").unwrap();
        assert!(
            matches!(
                s,
                CredentialSource::StaticKeys {
                    file: FileKind::Config,
                    ..
                }
            ),
            "{s:?}"
        );
    }

    #[test]
    fn a_session_token_comes_from_the_same_section() {
        let creds = format!("[dev]\n{}aws_session_token = tok\n", keys("ASIADEV"));
        let s = source("[profile dev]\naws_session_token = other\n", &creds, "dev").unwrap();
        let CredentialSource::StaticKeys { credentials, .. } = s else {
            panic!()
        };
        assert_eq!(credentials.session_token.unwrap().expose(), "tok");
        let creds = format!("[dev]\n{}", keys("AKIADEV"));
        let s = source("[profile dev]\naws_session_token = other\n", &creds, "dev").unwrap();
        let CredentialSource::StaticKeys { credentials, .. } = s else {
            panic!()
        };
        assert!(
            credentials.session_token.is_none(),
            "a token in config does not go with keys in credentials"
        );
    }

    #[test]
    fn a_profile_with_only_settings_is_settings_only_but_as_a_source_has_no_credentials() {
        let config = "[profile base]\nregion = eu-west-1\noutput = json\n\
                      [profile admin]\nrole_arn = arn:r\nsource_profile = base\n";
        let err = source(config, "", "base").unwrap_err();
        assert_eq!(
            err,
            IdentityError::SettingsOnly {
                profile: "base".into(),
                settings: vec!["region".into(), "output".into()]
            }
        );
        assert!(err.is_settings_only());
        assert!(
            err.to_string().contains("only settings (region, output)"),
            "{err}"
        );
        let err = source(config, "", "admin").unwrap_err();
        assert_eq!(
            err,
            IdentityError::NoCredentials {
                profile: "base".into()
            }
        );
        assert!(!err.is_settings_only());
    }

    #[test]
    fn a_secret_without_its_key_id_is_partial() {
        let config = format!("[profile dev]\naws_secret_access_key = {SECRET}\n");
        let err = source(&config, "", "dev").unwrap_err();
        assert_eq!(err.code(), "partial_credentials");
        assert!(err.to_string().contains("no aws_access_key_id"), "{err}");
        assert!(!err.to_string().contains(SECRET));
    }

    #[test]
    fn a_key_id_whose_secret_is_in_the_other_file_is_partial() {
        let config = format!("[profile dev]\naws_secret_access_key = {SECRET}\n");
        let err = source(&config, "[dev]\naws_access_key_id = AKIADEV\n", "dev").unwrap_err();
        assert_eq!(err.code(), "partial_credentials");
        assert!(!err.to_string().contains(SECRET));
    }

    #[test]
    fn credentials_file_keys_win_over_credential_process_which_wins_over_config_keys() {
        let config = format!(
            "[profile dev]\ncredential_process = /bin/get\n{}",
            keys("AKIACFG")
        );
        let s = source(&config, "", "dev").unwrap();
        assert!(
            matches!(&s, CredentialSource::Process { command, .. } if command == "/bin/get"),
            "{s:?}"
        );
        let s = source(&config, &format!("[dev]\n{}", keys("AKIACRED")), "dev").unwrap();
        assert!(matches!(
            s,
            CredentialSource::StaticKeys {
                file: FileKind::Credentials,
                ..
            }
        ));
    }

    #[test]
    fn a_role_is_assumed_with_the_source_profile_keys() {
        let config =
            "[profile admin]\nrole_arn = arn:aws:iam::1:role/admin\nsource_profile = base\n\
                      external_id = ext\nrole_session_name = me\nduration_seconds = 900\n";
        let s = source(config, &format!("[base]\n{}", keys("AKIABASE")), "admin").unwrap();
        let CredentialSource::AssumeRole {
            profile,
            role,
            source,
        } = s
        else {
            panic!()
        };
        assert_eq!(profile, "admin");
        assert_eq!(
            role,
            RoleSettings {
                role_arn: "arn:aws:iam::1:role/admin".into(),
                external_id: Some("ext".into()),
                session_name: Some("me".into()),
                duration_seconds: Some(900),
                mfa_serial: None,
            }
        );
        assert_eq!(source.profile(), "base");
    }

    #[test]
    fn an_mfa_role_resolves_with_its_device_and_needs_its_code_only_when_fetched() {
        let config = "[profile p]\nrole_arn = arn:r\nsource_profile = base\nmfa_serial = arn:mfa\n";
        let creds = "[base]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n";
        let Ok(CredentialSource::AssumeRole { role, .. }) = source(config, creds, "p") else {
            panic!("an MFA role is a role")
        };
        assert_eq!(role.mfa_serial.as_deref(), Some("arn:mfa"));
    }

    #[test]
    fn a_role_wins_over_the_profile_own_keys_but_a_source_uses_its_keys() {
        let config = "[profile a]\nrole_arn = arn:r:a\nsource_profile = b\n\
                      [profile b]\nrole_arn = arn:r:b\nsource_profile = c\n";
        let creds = format!(
            "[a]\n{}[b]\n{}[c]\n{}",
            keys("AKIAA"),
            keys("AKIAB"),
            keys("AKIAC")
        );
        let s = source(config, &creds, "a").unwrap();
        let CredentialSource::AssumeRole { source, .. } = s else {
            panic!()
        };
        assert!(
            matches!(*source, CredentialSource::StaticKeys { ref profile, .. } if profile == "b")
        );
    }

    #[test]
    fn roles_chain_through_sources_without_keys() {
        let config = "[profile a]\nrole_arn = arn:r:a\nsource_profile = b\n\
                      [profile b]\nrole_arn = arn:r:b\nsource_profile = c\n";
        let s = source(config, &format!("[c]\n{}", keys("AKIAC")), "a").unwrap();
        let CredentialSource::AssumeRole { source, .. } = s else {
            panic!()
        };
        let CredentialSource::AssumeRole {
            profile, source, ..
        } = *source
        else {
            panic!()
        };
        assert_eq!(profile, "b");
        assert_eq!(source.profile(), "c");
    }

    #[test]
    fn a_profile_may_assume_its_role_with_its_own_keys() {
        let config = "[profile a]\nrole_arn = arn:r:a\nsource_profile = a\n";
        let s = source(config, &format!("[a]\n{}", keys("AKIAA")), "a").unwrap();
        let CredentialSource::AssumeRole { source, .. } = s else {
            panic!()
        };
        assert!(matches!(*source, CredentialSource::StaticKeys { .. }));
    }

    #[test]
    fn source_profile_loops_are_found() {
        let config = "[profile a]\nrole_arn = arn:r:a\nsource_profile = b\n\
                      [profile b]\nrole_arn = arn:r:b\nsource_profile = a\n\
                      [profile self]\nrole_arn = arn:r:s\nsource_profile = self\n";
        let err = source(config, "", "a").unwrap_err();
        assert_eq!(
            err,
            IdentityError::SourceProfileLoop {
                profiles: vec!["a".into(), "b".into(), "a".into()]
            }
        );
        let err = source(config, "", "self").unwrap_err();
        assert_eq!(err.code(), "source_profile_loop");
    }

    #[test]
    fn a_missing_source_profile_is_named() {
        let err = source(
            "[profile a]\nrole_arn = arn:r:a\nsource_profile = gone\n",
            "",
            "a",
        )
        .unwrap_err();
        assert_eq!(
            err,
            IdentityError::SourceProfileMissing {
                profile: "a".into(),
                source_profile: "gone".into()
            }
        );
    }

    #[test]
    fn web_identity_and_credential_source_are_not_supported_yet_and_partial_roles_are_said() {
        let creds = format!("[base]\n{}", keys("AKIABASE"));
        let cases = [
            ("[profile p]\nrole_arn = arn:r\nweb_identity_token_file = /t\n", "not_supported"),
            ("[profile p]\nrole_arn = arn:r\ncredential_source = Ec2InstanceMetadata\n", "not_supported"),
            ("[profile p]\nrole_arn = arn:r\n", "partial_credentials"),
            ("[profile p]\nrole_arn = arn:r\nsource_profile = base\ncredential_source = Environment\n", "invalid_config"),
            ("[profile p]\nregion = eu-west-1\n", "settings_only"),
            ("[profile p]\nregion = eu-west-1\nsource_profile = base\n", "no_credentials"),
            ("[profile p]\naws_session_token = t\n", "partial_credentials"),
        ];
        for (config, code) in cases {
            let err = source(config, &creds, "p").unwrap_err();
            assert_eq!(err.code(), code, "{config}: {err}");
        }
        assert_eq!(
            source("", "", "nope").unwrap_err().code(),
            "no_such_profile"
        );
    }

    #[test]
    fn a_key_only_profile_with_an_mfa_device_signs_through_that_devices_session() {
        let serial = "arn:aws:iam::123456789012:mfa/alice";
        let creds = format!("[base]\n{}", keys("AKIABASE"));
        let config = format!(
            "[profile base]\nmfa_serial = {serial}\nduration_seconds = 3600\n\
             [profile admin]\nrole_arn = arn:aws:iam::1:role/admin\nsource_profile = base\n\
             [profile own]\nrole_arn = arn:aws:iam::1:role/own\nsource_profile = base\nmfa_serial = {serial}\n"
        );
        let CredentialSource::MfaSession { mfa, keys, .. } =
            source(&config, &creds, "base").unwrap()
        else {
            panic!("the key-only profile with mfa_serial is no MFA session")
        };
        assert_eq!(mfa.serial, serial);
        assert_eq!(mfa.seconds(), 3600);
        assert!(matches!(*keys, CredentialSource::StaticKeys { .. }));
        // A role whose source is such a profile uses its session ...
        let CredentialSource::AssumeRole {
            source: from, role, ..
        } = source(&config, &creds, "admin").unwrap()
        else {
            panic!()
        };
        assert!(matches!(*from, CredentialSource::MfaSession { .. }));
        assert_eq!(role.mfa_serial, None);
        // ... and a role's own mfa_serial stays the role's.
        let CredentialSource::AssumeRole { role, .. } = source(&config, &creds, "own").unwrap()
        else {
            panic!()
        };
        assert_eq!(role.mfa_serial.as_deref(), Some(serial));
        // No duration_seconds: a working day.
        let plain = format!("[profile base]\nmfa_serial = {serial}\n");
        let CredentialSource::MfaSession { mfa, .. } = source(&plain, &creds, "base").unwrap()
        else {
            panic!()
        };
        assert_eq!(mfa.seconds(), 12 * 3600);
    }
}
