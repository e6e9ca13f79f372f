//! MFA sessions of key-only profiles (GetSessionToken), which the AWS tools do not cache: kept in
//! the OS keychain, never in a file, one entry per MFA device (service [`SERVICE`], account: the
//! device's serial), shared by every profile behind that device.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{secret_json, Keychain, KeychainError};
use crate::aws::Credentials;
use crate::secret::Secret;

/// The service name of every MFA session entry (keys are under [`super::SERVICE`]).
pub const SERVICE: &str = "keyrack-mfa-session";

/// A session is used while more than this is left of it: the AWS tools refresh credentials that
/// expire sooner (botocore asks again 15 minutes before the end), so serving them would only
/// make every call ask again.
pub const STILL_GOOD_FOR: time::Duration = time::Duration::minutes(15);

/// The version of the JSON kept in an entry; another one is not used (the session is asked for
/// again and the entry replaced).
const PAYLOAD_VERSION: u32 = 1;

/// One MFA device's session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MfaSession {
    /// The temporary key, secret and session token.
    pub credentials: Credentials,
    pub expiration: OffsetDateTime,
    /// The long-term access key id it was had with: a session is used only for that key, and a
    /// rotation that retires the key forgets its sessions.
    pub made_with: String,
}

impl MfaSession {
    /// Whether it is still worth serving at `now` (more than [`STILL_GOOD_FOR`] left).
    pub fn usable_at(&self, now: OffsetDateTime) -> bool {
        self.expiration - now > STILL_GOOD_FOR
    }

    /// Whole minutes left at `now` (0 once expired).
    pub fn minutes_left(&self, now: OffsetDateTime) -> i64 {
        (self.expiration - now).whole_minutes().max(0)
    }

    fn to_payload(&self) -> Zeroizing<String> {
        #[derive(Serialize)]
        struct Payload<'a> {
            version: u32,
            aws_access_key_id: &'a str,
            aws_secret_access_key: &'a str,
            aws_session_token: &'a str,
            expiration: &'a str,
            made_with: &'a str,
        }
        let expiration = self
            .expiration
            .format(&Rfc3339)
            .expect("a session's expiry formats as RFC 3339");
        let c = &self.credentials;
        let payload = Payload {
            version: PAYLOAD_VERSION,
            aws_access_key_id: &c.access_key_id,
            aws_secret_access_key: c.secret_access_key.expose(),
            aws_session_token: c.session_token.as_ref().map_or("", Secret::expose),
            expiration: &expiration,
            made_with: &self.made_with,
        };
        let text_len = payload.aws_access_key_id.len()
            + payload.aws_secret_access_key.len()
            + payload.aws_session_token.len()
            + expiration.len()
            + self.made_with.len();
        secret_json(&payload, text_len)
    }

    /// `None` for anything that is not a session this version of keyrack wrote.
    fn from_payload(text: &str) -> Option<MfaSession> {
        // No `Debug`: the fields are secrets.
        #[derive(Deserialize)]
        struct Payload {
            version: u32,
            aws_access_key_id: String,
            // Secrets: wiped when dropped, also when the entry is refused.
            aws_secret_access_key: Secret,
            aws_session_token: Secret,
            expiration: String,
            made_with: String,
        }
        let payload: Payload = serde_json::from_str(text).ok()?;
        let complete = payload.version == PAYLOAD_VERSION
            && !payload.aws_access_key_id.is_empty()
            && !payload.aws_secret_access_key.expose().is_empty()
            && !payload.aws_session_token.expose().is_empty();
        if !complete {
            return None;
        }
        Some(MfaSession {
            credentials: Credentials::new(
                payload.aws_access_key_id,
                payload.aws_secret_access_key,
                Some(payload.aws_session_token),
            ),
            expiration: OffsetDateTime::parse(&payload.expiration, &Rfc3339).ok()?,
            made_with: payload.made_with,
        })
    }
}

fn label(serial: &str) -> String {
    format!("AWS MFA session of {serial} (keyrack)")
}

impl Keychain {
    /// The session kept for MFA device `serial`, if there is one keyrack can read (expired or not:
    /// see [`MfaSession::usable_at`]).
    pub fn mfa_session(&self, serial: &str) -> Result<Option<MfaSession>, KeychainError> {
        let entry = self.entry_of(SERVICE, serial, &label(serial))?;
        match entry.get_password() {
            Ok(text) => Ok(MfaSession::from_payload(&Zeroizing::new(text))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            // Something else under the name (written by hand, or several entries): not a session
            // keyrack can use; a new one replaces it.
            Err(keyring_core::Error::BadEncoding(_) | keyring_core::Error::Ambiguous(_)) => {
                Ok(None)
            }
            Err(e) => Err(self.failed(e, serial)),
        }
    }

    /// MFA device `serial`'s session if it was had with the long-term key `key_id` and is still
    /// worth serving at `now` ([`MfaSession::usable_at`]).
    pub fn usable_mfa_session(
        &self,
        serial: &str,
        key_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<MfaSession>, KeychainError> {
        Ok(self
            .mfa_session(serial)?
            .filter(|kept| kept.made_with == key_id && kept.usable_at(now)))
    }

    /// Keep `session` as MFA device `serial`'s (replacing the one before).
    pub fn store_mfa_session(
        &self,
        serial: &str,
        session: &MfaSession,
    ) -> Result<(), KeychainError> {
        self.entry_of(SERVICE, serial, &label(serial))?
            .set_password(&session.to_payload())
            .map_err(|e| self.failed(e, serial))
    }

    /// Forget MFA device `serial`'s session. `Ok(false)`: there was none.
    pub fn forget_mfa_session(&self, serial: &str) -> Result<bool, KeychainError> {
        match self
            .entry_of(SERVICE, serial, &label(serial))?
            .delete_credential()
        {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(self.failed(e, serial)),
        }
    }

    /// The MFA devices that have a session entry, sorted; `None` where the platform's store is
    /// not searched.
    pub fn mfa_session_devices(&self) -> Result<Option<Vec<String>>, KeychainError> {
        self.accounts_of(SERVICE)
    }

    /// Forget every session had with the long-term key `key_id` (it was retired); returns the
    /// devices whose session was forgotten. Where the store cannot be searched, `serials` (the
    /// devices the files name) are looked at instead.
    pub fn forget_mfa_sessions_of_key(
        &self,
        key_id: &str,
        serials: &[String],
    ) -> Result<Vec<String>, KeychainError> {
        let devices = self
            .mfa_session_devices()?
            .unwrap_or_else(|| serials.to_vec());
        let mut forgotten = Vec::new();
        for serial in devices {
            let made_with_key = self
                .mfa_session(&serial)?
                .is_some_and(|session| session.made_with == key_id);
            if made_with_key && self.forget_mfa_session(&serial)? {
                forgotten.push(serial);
            }
        }
        Ok(forgotten)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const TOKEN: &str = "FwoGZXIvYXdzEXAMPLETOKEN";
    const ALICE: &str = "arn:aws:iam::123456789012:mfa/alice";

    fn session(made_with: &str, minutes: i64) -> MfaSession {
        MfaSession {
            credentials: Credentials::new("ASIAEXAMPLE", SECRET, Some(Secret::new(TOKEN))),
            expiration: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap()
                + time::Duration::minutes(minutes),
            made_with: made_with.into(),
        }
    }

    #[test]
    fn a_session_is_kept_per_device_and_read_back_whole() {
        let keychain = Keychain::in_memory();
        assert_eq!(keychain.mfa_session(ALICE).unwrap(), None);
        let kept = session("AKIAOLD", 600);
        keychain.store_mfa_session(ALICE, &kept).unwrap();
        assert_eq!(keychain.mfa_session(ALICE).unwrap(), Some(kept.clone()));
        assert_eq!(
            keychain.mfa_session("arn:aws:iam::1:mfa/bob").unwrap(),
            None
        );
        // Keys and sessions never mix: a session is no profile's key.
        assert_eq!(keychain.accounts().unwrap(), Some(vec![]));
        assert!(keychain.forget_mfa_session(ALICE).unwrap());
        assert!(!keychain.forget_mfa_session(ALICE).unwrap());
    }

    #[test]
    fn a_session_is_served_until_fifteen_minutes_before_it_ends() {
        let now = OffsetDateTime::now_utc();
        assert!(session("AKIA", 16).usable_at(now));
        assert!(!session("AKIA", 15).usable_at(now));
        assert!(!session("AKIA", -5).usable_at(now));
        assert_eq!(session("AKIA", -5).minutes_left(now), 0);
    }

    #[test]
    fn retiring_a_key_forgets_only_the_sessions_had_with_it() {
        let keychain = Keychain::in_memory();
        keychain
            .store_mfa_session(ALICE, &session("AKIAOLD", 600))
            .unwrap();
        let bob = "arn:aws:iam::123456789012:mfa/bob";
        keychain
            .store_mfa_session(bob, &session("AKIAOTHER", 600))
            .unwrap();
        let serials = [ALICE.to_owned(), bob.to_owned()];
        let forgotten = keychain
            .forget_mfa_sessions_of_key("AKIAOLD", &serials)
            .unwrap();
        assert_eq!(forgotten, vec![ALICE.to_owned()]);
        assert!(keychain.mfa_session(bob).unwrap().is_some());
    }

    #[test]
    fn what_is_kept_has_no_copy_of_the_secrets_outside_the_entry() {
        let kept = session("AKIAOLD", 600);
        assert!(!format!("{kept:?}").contains(SECRET));
        assert!(!format!("{kept:?}").contains(TOKEN));
        let read = MfaSession::from_payload(&kept.to_payload()).unwrap();
        assert_eq!(read, kept);
        assert_eq!(MfaSession::from_payload("{\"version\":2}"), None);
    }
}
