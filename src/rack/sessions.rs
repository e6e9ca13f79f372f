//! The MFA sessions of one file set: signing in ahead of time (`keyrack mfa login`), the sessions
//! kept (roles' in the AWS CLI's cache, key-only profiles' in the keychain), and forgetting them.

use std::sync::Arc;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{Error, Rack, SessionPlace, SessionView};
use crate::files::{Dialect, Reading};
use crate::identity::mfa::MfaPrompt;
use crate::identity::{self, cli_cache, CredentialSource, MfaSessionSettings, MfaSignIn};
use crate::keychain::mfa_sessions::MfaSession;

/// A place a profile's session may be kept in.
enum Kept {
    Role(identity::RoleSettings),
    Device(MfaSessionSettings),
}

impl Rack {
    /// The profiles of these files that have a session of their own, in file order: every role
    /// (the AWS CLI caches them all), and every key-only profile with an MFA device.
    fn session_holders(&self, reading: &Reading) -> Vec<(String, Kept)> {
        reading
            .profiles
            .keys()
            .filter_map(|name| {
                let kept = match identity::credential_source(&reading.profiles, name).ok()? {
                    CredentialSource::AssumeRole { role, .. } => Kept::Role(role),
                    CredentialSource::MfaSession { mfa, .. } => Kept::Device(mfa),
                    _ => return None,
                };
                Some((name.clone(), kept))
            })
            .collect()
    }

    /// The device session kept for key-only `profile`, if it was had with the key the profile
    /// holds now.
    fn device_session(&self, reading: &Reading, profile: &str, serial: &str) -> Option<MfaSession> {
        let key_id = match identity::credential_source(&reading.profiles, profile).ok()? {
            CredentialSource::MfaSession { keys, .. } => match *keys {
                CredentialSource::StaticKeys { credentials, .. } => credentials.access_key_id,
                CredentialSource::Keychain { account, .. } => {
                    self.keychain.get(&account).ok()?.credentials.access_key_id
                }
                _ => return None,
            },
            _ => return None,
        };
        let session = self.keychain.mfa_session(serial).ok()??;
        (session.made_with == key_id).then_some(session)
    }

    fn view(&self, profile: String, kept: Kept, reading: &Reading) -> Option<SessionView> {
        let now = OffsetDateTime::now_utc();
        let (role_arn, mfa_serial, expires, kept_in, file) = match kept {
            Kept::Role(role) => {
                let dir = self.cli_cache.as_deref()?;
                let expires = cli_cache::cached_expiration(dir, &role)?;
                let file = cli_cache::session_file(dir, &role).display().to_string();
                let place = SessionPlace::AwsCliCache;
                (
                    Some(role.role_arn),
                    role.mfa_serial,
                    expires,
                    place,
                    Some(file),
                )
            }
            Kept::Device(mfa) => {
                let session = self.device_session(reading, &profile, &mfa.serial)?;
                let place = SessionPlace::Keychain;
                (None, Some(mfa.serial), session.expiration, place, None)
            }
        };
        Some(SessionView {
            profile,
            role_arn,
            mfa_serial,
            expires: expires.format(&Rfc3339).unwrap_or_default(),
            minutes_left: (expires - now).whole_minutes().max(0),
            kept_in,
            file,
        })
    }

    /// The sessions kept for the profiles of these files: roles' in the AWS CLI's cache
    /// (keyrack's own, after it asked for an MFA code, and the AWS CLI's), key-only profiles'
    /// MFA sessions in the keychain.
    pub fn sessions(&self) -> Result<Vec<SessionView>, Error> {
        let files = self.latest()?;
        let reading = files.read(Dialect::Cli);
        Ok(self
            .session_holders(&reading)
            .into_iter()
            .filter_map(|(profile, kept)| self.view(profile, kept, &reading))
            .collect())
    }

    /// Forget the sessions of `profiles` (every session of these files when empty), so the next
    /// use signs in again (and asks for a new MFA code): what was removed. Only these profiles'
    /// role cache files and device sessions are touched; the AWS CLI shares the cache, so it is
    /// signed out of those roles too.
    pub fn forget_sessions(&self, profiles: &[String]) -> Result<Vec<String>, Error> {
        let files = self.latest()?;
        let reading = files.read(Dialect::Cli);
        let holders = self.session_holders(&reading);
        if let Some(unknown) = profiles
            .iter()
            .find(|p| !holders.iter().any(|(name, _)| name == *p))
        {
            return Err(Error::new(
                "not_found",
                format!(
                    "profile '{unknown}' is neither a role nor a key with an MFA device, so it has \
                     no session; nothing was removed"
                ),
            ));
        }
        let mut removed = Vec::new();
        let mut forgotten = Vec::new();
        for (profile, kept) in holders {
            if !profiles.is_empty() && !profiles.contains(&profile) {
                continue;
            }
            match kept {
                Kept::Role(role) => {
                    let Some(dir) = &self.cli_cache else { continue };
                    // Removed whether or not it can be read: it is this role's file either way.
                    let file = cli_cache::session_file(dir, &role);
                    match std::fs::remove_file(&file) {
                        Ok(()) => {
                            removed.push(file.display().to_string());
                            forgotten.push(profile.clone());
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            return Err(Error::new(
                                "files",
                                format!(
                                    "could not remove the session file {}: {e}",
                                    file.display()
                                ),
                            ))
                        }
                    }
                }
                Kept::Device(mfa) => {
                    if self
                        .device_session(&reading, &profile, &mfa.serial)
                        .is_some()
                        && self.keychain.forget_mfa_session(&mfa.serial)?
                    {
                        removed.push(format!(
                            "the MFA session of {} (profile {profile}) from the keychain",
                            mfa.serial
                        ));
                        forgotten.push(profile.clone());
                    }
                }
            }
        }
        // A kept check had with a session now removed no longer says how the profile signs in.
        super::kept_checks::mark_stale(
            &self.state_dir,
            &files,
            &forgotten,
            super::kept_checks::StaleCause::SessionForgotten,
        );
        Ok(removed)
    }

    /// Sign in with an MFA code ahead of time, so that `profile` and every profile behind the same
    /// device work without asking until the session ends (`credential-process` included): its
    /// role's session (or its source's) goes into the AWS CLI's cache, a key's MFA session into
    /// the keychain. A session that is still good is kept and shown, not replaced.
    pub async fn mfa_login(
        &self,
        profile: &str,
        prompt: Option<Arc<dyn MfaPrompt>>,
    ) -> Result<SessionView, Error> {
        let files = self.latest()?;
        let reading = files.read(Dialect::Cli);
        let source = identity::credential_source(&reading.profiles, profile)?;
        let sign_in = MfaSignIn::of(&source).ok_or_else(|| {
            Error::new(
                "no_mfa_device",
                format!(
                    "profile '{profile}' signs in without an MFA code: neither it nor a profile it \
                     takes its credentials from has mfa_serial, so there is nothing to sign in to"
                ),
            )
        })?;
        let session = self.session(&files, prompt);
        session.credentials_with_mfa(sign_in.profile()).await?;
        let kept = match &sign_in {
            MfaSignIn::Role { role, .. } => Kept::Role(role.clone()),
            MfaSignIn::Device { mfa, .. } => {
                // Said now rather than found out at the next call: the session was not kept.
                if let Some(error) = session.keychain_failure() {
                    return Err(Error::new(
                        error.code(),
                        format!(
                            "AWS gave the MFA session, but the keychain could not keep it, so \
                             keyrack will ask for a code again next time: {error}"
                        ),
                    ));
                }
                Kept::Device(mfa.clone())
            }
        };
        self.view(sign_in.profile().to_owned(), kept, &reading)
            .ok_or_else(|| {
                Error::new(
                    "session_not_kept",
                    format!(
                        "AWS gave the session of profile '{}', but it could not be kept (the AWS \
                         CLI's cache folder or the keychain refused it), so keyrack will ask for a \
                         code again next time",
                        sign_in.profile()
                    ),
                )
            })
    }
}
