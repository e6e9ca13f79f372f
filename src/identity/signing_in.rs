//! Signing in with an MFA code: a role assumed (AssumeRole, its session in the AWS CLI's cache)
//! or a key-only profile's device session had (GetSessionToken, kept in the keychain), one
//! keyrack at a time per role or device (the others wait for its session), the code given or
//! asked for up to three times, and what STS would refuse found before anyone is asked.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::source::MfaSessionSettings;
use super::{cli_cache, mfa, CredentialSource, IdentityError, MfaUse, RoleSettings, Session};
use crate::aws::{sts, AwsClient, AwsError, Credentials, Endpoint, RoleRequest};
use crate::files::lock::{lock_named, FileSetLock};
use crate::keychain::mfa_sessions::MfaSession;

/// How long a keyrack waits for another one that is signing in with the same MFA device before
/// it asks for a code itself: longer than a person is given to type three codes (the window waits
/// five minutes for each).
const MFA_SIGN_IN_WAIT: Duration = Duration::from_secs(16 * 60);

/// The longest MFA session STS gives an IAM user (GetSessionToken): 36 hours.
const LONGEST_USER_SESSION: u32 = 129_600;

/// The shortest key session keyrack asks for: it is served until 15 minutes before it ends.
const SHORTEST_KEPT_SESSION: u32 = 1800;

/// What STS would refuse about assuming `role` (from `source`), found before anything is sent or
/// anyone is asked for a code: a security key as the MFA device, a session outside 15 minutes to
/// 12 hours, or longer than the hour STS allows a role assumed with another role's session.
fn check_role_request(
    profile: &str,
    role: &RoleSettings,
    source: &CredentialSource,
) -> Result<(), IdentityError> {
    if let Some(serial) = role.mfa_serial.as_deref() {
        check_device(profile, serial)?;
    }
    let too_long = |seconds, limit| IdentityError::SessionTooLong {
        profile: profile.to_owned(),
        seconds,
        limit,
    };
    match role.duration_seconds {
        Some(seconds) if seconds < 900 => Err(too_long(seconds, "a session lasts at least 900 seconds")),
        Some(seconds) if seconds > 43_200 => Err(too_long(seconds, "a role's session lasts 12 hours (43200 seconds) at most")),
        Some(seconds) if seconds > 3600 && matches!(source, CredentialSource::AssumeRole { .. }) => Err(too_long(
            seconds,
            "a role assumed with another role's session (role chaining) lasts 1 hour (3600 seconds) at most",
        )),
        _ => Ok(()),
    }
}

/// What STS would refuse about an MFA session of `key` (GetSessionToken): a security key as the
/// device, a session outside 15 minutes to 36 hours, or a key that is itself a session.
fn check_session_request(
    profile: &str,
    mfa: &MfaSessionSettings,
    key: &Credentials,
) -> Result<(), IdentityError> {
    check_device(profile, &mfa.serial)?;
    if key.session_token.is_some() {
        return Err(IdentityError::SessionFromSession {
            profile: profile.to_owned(),
        });
    }
    let seconds = mfa.seconds();
    let limit = if seconds > LONGEST_USER_SESSION {
        "an IAM user's MFA session lasts 36 hours (129600 seconds) at most"
    } else if seconds < SHORTEST_KEPT_SESSION {
        "STS gives 15 minutes at least, but keyrack serves a session until 15 minutes before it \
         ends (the AWS tools ask again sooner), so one shorter than 30 minutes (1800 seconds) \
         would ask for a code at nearly every call"
    } else {
        return Ok(());
    };
    Err(IdentityError::SessionTooLong {
        profile: profile.to_owned(),
        seconds,
        limit,
    })
}

/// A FIDO/U2F security key or passkey signs in to the console only: AWS takes no code of it.
fn check_device(profile: &str, serial: &str) -> Result<(), IdentityError> {
    if serial.contains(":u2f/") {
        return Err(IdentityError::MfaDeviceNotUsable {
            profile: profile.to_owned(),
            serial: serial.to_owned(),
        });
    }
    Ok(())
}

/// The name of the sign-in lock of MFA device `serial` (its serial is an ARN: not a file name).
fn device_lock_name(serial: &str) -> String {
    let digest = Sha256::digest(serial.as_bytes());
    let hex = crate::hex::hex(&digest[..8]);
    format!("mfa-device-{hex}")
}

impl Session {
    /// `role` assumed with `source`'s credentials: the session the AWS CLI cached for it while it
    /// lasts, else AssumeRole (with the code of the role's MFA device, when it has one; that
    /// session is then cached where the AWS CLI keeps its own).
    pub(super) async fn assume(
        &self,
        profile: &str,
        role: &RoleSettings,
        source: &CredentialSource,
        client: &AwsClient,
        sts: &Endpoint,
    ) -> Result<Credentials, IdentityError> {
        if let Some(credentials) = self.cached_role_session(profile, role) {
            return Ok(credentials);
        }
        check_role_request(profile, role, source)?;
        // One keyrack at a time signs in to an MFA role: the others wait for its session instead
        // of asking for (and spending) a code of their own.
        let _signing_in = match &role.mfa_serial {
            Some(_) => {
                let name = format!("mfa-{}", cli_cache::cache_key(role));
                let lock = self.sign_in_lock(name).await;
                if let Some(credentials) = self.cached_role_session(profile, role) {
                    return Ok(credentials);
                }
                lock
            }
            None => None,
        };
        // With its own MFA device, the role takes the code: its source signs as the AWS CLI
        // signs (its device's session only when one is kept, so one code is asked for, not two).
        let source_need = match role.mfa_serial {
            Some(_) => MfaUse::IfKept,
            None => MfaUse::Required,
        };
        let source_credentials = self.fetch(source, client, sts, source_need).await?;
        let session_name = role.session_name.clone().unwrap_or_else(|| {
            let epoch = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            format!("botocore-session-{}", epoch.as_secs())
        });
        let request = RoleRequest {
            role_arn: &role.role_arn,
            session_name: &session_name,
            external_id: role.external_id.as_deref(),
            duration_seconds: role.duration_seconds,
            mfa: None,
        };
        let failed = |error| IdentityError::Aws {
            profile: source.profile().to_owned(),
            action: format!("AssumeRole {}", role.role_arn),
            error,
        };
        let assumed = match &role.mfa_serial {
            None => sts::assume_role(client, sts, &source_credentials, &request)
                .await
                .map_err(failed)?,
            Some(serial) => {
                let seconds = role.duration_seconds.unwrap_or(3600);
                let (source_credentials, request) = (&source_credentials, &request);
                let assumed = self
                    .with_code(
                        (profile, serial, seconds, true),
                        failed,
                        |code| async move {
                            let request = RoleRequest {
                                mfa: Some((serial.as_str(), code.expose())),
                                ..request.clone()
                            };
                            sts::assume_role(client, sts, source_credentials, &request).await
                        },
                    )
                    .await?;
                // Kept where the AWS CLI keeps its own, so neither keyrack nor the AWS CLI asks
                // for another code until it expires. Not keeping it only means asking again.
                if let Some(dir) = &self.inner.options.cli_cache {
                    let _ = cli_cache::store_session(dir, role, &assumed);
                }
                assumed
            }
        };
        self.record_expiry(profile, assumed.expiration);
        Ok(assumed.credentials)
    }

    /// The session the AWS CLI cached for `role`, if it has more than 15 minutes left.
    fn cached_role_session(&self, profile: &str, role: &RoleSettings) -> Option<Credentials> {
        let dir = self.inner.options.cli_cache.as_deref()?;
        let (credentials, expires) =
            cli_cache::cached_session(dir, role, OffsetDateTime::now_utc())?;
        self.record_expiry(profile, expires);
        Some(credentials)
    }

    /// The credentials of a key-only profile with an MFA device: the device's session kept in the
    /// keychain while it lasts; else the key itself when that is enough (`need`), or a new session
    /// (GetSessionToken with a code), kept for the next time and every profile behind the device.
    pub(super) async fn mfa_session(
        &self,
        profile: &str,
        mfa: &MfaSessionSettings,
        keys: &CredentialSource,
        client: &AwsClient,
        sts: &Endpoint,
        need: MfaUse,
    ) -> Result<Credentials, IdentityError> {
        let key = self.fetch(keys, client, sts, need).await?;
        if let Some(session) = self.kept_session(&mfa.serial, &key).await {
            self.record_expiry(profile, session.expiration);
            self.inner
                .kept_used
                .lock()
                .expect("kept lock")
                .insert(profile.to_owned(), mfa.serial.clone());
            return Ok(session.credentials);
        }
        if need == MfaUse::IfKept {
            return Ok(key);
        }
        // Checked for each profile (its own settings, its own name in the message); the sign-in
        // is shared by every profile with the same device, key and session length.
        check_session_request(profile, mfa, &key)?;
        let shared = format!("{} {} {}", mfa.serial, key.access_key_id, mfa.seconds());
        let credentials = self
            .once("mfa-session", &shared, async {
                let _signing_in = self.sign_in_lock(device_lock_name(&mfa.serial)).await;
                if let Some(session) = self.kept_session(&mfa.serial, &key).await {
                    self.record_expiry(&shared, session.expiration);
                    return Ok(session.credentials);
                }
                let failed = |error| IdentityError::Aws {
                    profile: profile.to_owned(),
                    action: "GetSessionToken".into(),
                    error,
                };
                let key = &key;
                let issued = self
                    .with_code(
                        (profile, &mfa.serial, mfa.seconds(), false),
                        failed,
                        |code| async move {
                            let device = (mfa.serial.as_str(), code.expose());
                            sts::get_session_token(client, sts, key, Some(mfa.seconds()), device)
                                .await
                        },
                    )
                    .await?;
                let session = MfaSession {
                    credentials: issued.credentials,
                    expiration: issued.expiration,
                    made_with: key.access_key_id.clone(),
                };
                self.record_expiry(&shared, session.expiration);
                // Not keeping it only means asking again next time; why is kept for the
                // caller that promised to keep it (`keyrack mfa login`).
                let (keychain, serial, kept) = (
                    self.inner.options.keychain.clone(),
                    mfa.serial.clone(),
                    session.clone(),
                );
                let stored =
                    tokio::task::spawn_blocking(move || keychain.store_mfa_session(&serial, &kept))
                        .await;
                if let Ok(Err(error)) = stored {
                    *self.inner.not_kept.lock().expect("not kept lock") = Some(error);
                }
                Ok(session.credentials)
            })
            .await?;
        if let Some(expires) = self.session_expiry(&shared) {
            self.record_expiry(profile, expires);
        }
        Ok(credentials)
    }

    /// MFA device `serial`'s session kept in the keychain, if it was had with `key` and has more
    /// than 15 minutes left. A keychain that cannot be read keeps no session.
    async fn kept_session(&self, serial: &str, key: &Credentials) -> Option<MfaSession> {
        let keychain = self.inner.options.keychain.clone();
        let (serial, key_id) = (serial.to_owned(), key.access_key_id.clone());
        let now = OffsetDateTime::now_utc();
        tokio::task::spawn_blocking(move || keychain.usable_mfa_session(&serial, &key_id, now))
            .await
            .ok()?
            .ok()
            .flatten()
    }

    /// Waits for the sign-in lock `name`, so that one keyrack at a time asks for a code of the
    /// same device or role; `None` without a state folder (or when the lock cannot be had: then
    /// signing in goes ahead unguarded rather than not at all).
    async fn sign_in_lock(&self, name: String) -> Option<FileSetLock> {
        let dir = self.inner.options.state_dir.clone()?;
        tokio::task::spawn_blocking(move || {
            lock_named(
                &dir,
                &name,
                "keyrack signing in with an MFA code",
                MFA_SIGN_IN_WAIT,
            )
        })
        .await
        .ok()
        .and_then(Result::ok)
        .flatten()
    }

    /// `call` with a code of `serial` for `profile`'s session of `session_seconds` (a role's,
    /// which the AWS CLI shares, or a key's), asked for again (up to [`mfa::ATTEMPTS`] times) when
    /// AWS refuses a code a person typed; [`IdentityError::NeedsMfa`] when there is no code.
    async fn with_code<T, F>(
        &self,
        (profile, serial, session_seconds, for_role): (&str, &str, u32, bool),
        failed: impl Fn(AwsError) -> IdentityError,
        mut call: impl FnMut(mfa::MfaCode) -> F,
    ) -> Result<T, IdentityError>
    where
        F: std::future::Future<Output = Result<T, AwsError>>,
    {
        let mut retry = false;
        for _attempt in 0..mfa::ATTEMPTS {
            let asked = (profile, serial, session_seconds, for_role);
            let Some((code, typed)) = self.mfa_code(asked, retry).await else {
                return Err(IdentityError::NeedsMfa {
                    profile: profile.to_owned(),
                    role: for_role,
                });
            };
            match call(code).await {
                // A code the person typed may be asked for again; a given one may not.
                Err(AwsError::MfaCodeRejected) if typed => retry = true,
                other => return other.map_err(failed),
            }
        }
        Err(failed(AwsError::MfaCodeRejected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(duration: Option<u32>, serial: Option<&str>) -> RoleSettings {
        RoleSettings {
            role_arn: "arn:aws:iam::1:role/r".into(),
            external_id: None,
            session_name: None,
            duration_seconds: duration,
            mfa_serial: serial.map(str::to_owned),
        }
    }

    fn keys() -> CredentialSource {
        CredentialSource::StaticKeys {
            profile: "base".into(),
            file: crate::files::FileKind::Credentials,
            credentials: Credentials::new("AKIA1", "s", None),
        }
    }

    #[test]
    fn what_sts_would_refuse_about_a_role_is_found_before_anything_is_sent() {
        let check = |role: RoleSettings, source: CredentialSource| {
            check_role_request("p", &role, &source)
                .err()
                .map(|e| e.code())
        };
        assert_eq!(
            check(role(None, Some("arn:aws:iam::1:mfa/alice")), keys()),
            None
        );
        assert_eq!(check(role(Some(43_200), None), keys()), None);
        assert_eq!(
            check(
                role(None, Some("arn:aws:iam::1:u2f/user/alice/key-ABC")),
                keys()
            ),
            Some("mfa_device_not_usable")
        );
        assert_eq!(
            check(role(Some(899), None), keys()),
            Some("session_too_long")
        );
        assert_eq!(
            check(role(Some(43_201), None), keys()),
            Some("session_too_long")
        );
        let chained = CredentialSource::AssumeRole {
            profile: "first".into(),
            role: role(None, None),
            source: Box::new(keys()),
        };
        assert_eq!(check(role(Some(3600), None), chained.clone()), None);
        let error = check_role_request("p", &role(Some(7200), None), &chained).unwrap_err();
        assert_eq!(error.code(), "session_too_long");
        assert!(error.to_string().contains("role chaining"), "{error}");
    }

    #[test]
    fn what_sts_would_refuse_about_an_mfa_session_is_found_before_anything_is_sent() {
        let mfa = |serial: &str, duration| MfaSessionSettings {
            serial: serial.into(),
            duration_seconds: duration,
        };
        let alice = "arn:aws:iam::1:mfa/alice";
        let key = Credentials::new("AKIA1", "s", None);
        let check = |settings: MfaSessionSettings, key: &Credentials| {
            check_session_request("p", &settings, key)
                .err()
                .map(|e| e.code())
        };
        assert_eq!(check(mfa(alice, None), &key), None);
        assert_eq!(check(mfa(alice, Some(129_600)), &key), None);
        assert_eq!(
            check(mfa(alice, Some(129_601)), &key),
            Some("session_too_long")
        );
        assert_eq!(check(mfa(alice, Some(600)), &key), Some("session_too_long"));
        assert_eq!(check(mfa(alice, Some(900)), &key), Some("session_too_long"));
        assert_eq!(check(mfa(alice, Some(1800)), &key), None);
        assert_eq!(
            check(mfa("arn:aws:iam::1:u2f/user/alice/key-ABC", None), &key),
            Some("mfa_device_not_usable")
        );
        let session = Credentials::new("ASIA1", "s", Some(crate::secret::Secret::new("t")));
        assert_eq!(
            check(mfa(alice, None), &session),
            Some("session_from_session")
        );
    }

    #[test]
    fn each_device_has_its_own_sign_in_lock_with_a_file_name_of_its_own() {
        let alice = device_lock_name("arn:aws:iam::1:mfa/alice");
        assert_ne!(alice, device_lock_name("arn:aws:iam::1:mfa/bob"));
        assert!(alice
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    }
}
