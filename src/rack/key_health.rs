//! Key health at a glance: for each profile that signs in with an IAM user's long-term key, how
//! old the key is and when it was last used, measured against keyrack's settings (a key due for
//! rotation, a key unused), asked of IAM with the key itself at once for every profile. AWS
//! counts keyrack's own checks as uses: "unused" means no use at all, keyrack's included.
//! What IAM said of a key is kept with the check results and used again for [`KEPT_FOR`]: a
//! key's age and last use move in days, against thresholds of months.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::task::JoinSet;

use crate::aws::{iam, Credentials, Service};
use crate::identity::Session;
use crate::settings::Settings;

/// How long what IAM said of a key is used again instead of asking IAM (an answer IAM did
/// not give is asked again at the next check).
pub const KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(12 * 3600);

/// A profile's access key: its age and last use, and what they call for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyHealth {
    pub access_key_id: String,
    /// RFC 3339.
    pub created: Option<String>,
    pub age_days: Option<i64>,
    /// RFC 3339; `None` when never used (or IAM could not say).
    pub last_used: Option<String>,
    /// Days since its last use (since it was made, when never used).
    pub unused_days: Option<i64>,
    /// At least `rotate_after_days` old.
    pub rotate_due: bool,
    /// Not used for `unused_after_days` or more.
    pub unused: bool,
    /// Why IAM could not be asked (the key may not read its own metadata, or the account
    /// requires MFA for IAM calls).
    pub unknown: Option<String>,
    /// When IAM said this, in milliseconds since the epoch (`None`: never asked).
    #[serde(default)]
    pub asked_at: Option<u64>,
}

impl KeyHealth {
    /// What IAM said of `key_id` (made at `created`, last used at `used`) when `asked_at`,
    /// measured against `settings` now.
    fn from_answer(
        key_id: String,
        created: OffsetDateTime,
        used: Option<OffsetDateTime>,
        settings: &Settings,
        asked_at: u64,
    ) -> KeyHealth {
        let now = OffsetDateTime::now_utc();
        let rfc3339 = |t: OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        };
        let age_days = (now - created).whole_days().max(0);
        let unused_days = (now - used.unwrap_or(created)).whole_days().max(0);
        KeyHealth {
            access_key_id: key_id,
            created: Some(rfc3339(created)),
            age_days: Some(age_days),
            last_used: used.map(rfc3339),
            unused_days: Some(unused_days),
            rotate_due: age_days >= i64::from(settings.rotate_after_days),
            unused: unused_days >= i64::from(settings.unused_after_days),
            unknown: None,
            asked_at: Some(asked_at),
        }
    }

    /// This answer again, measured against `settings` now, if IAM gave it (not an unknown) less
    /// than [`KEPT_FOR`] before `now_ms`.
    pub(super) fn kept_answer(&self, settings: &Settings, now_ms: u64) -> Option<KeyHealth> {
        let asked_at = self.asked_at?;
        if self.unknown.is_some()
            || now_ms.saturating_sub(asked_at) >= KEPT_FOR.as_millis() as u64
            || asked_at > now_ms
        {
            return None;
        }
        let parse =
            |t: &str| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok();
        let created = parse(self.created.as_deref()?)?;
        let used = match self.last_used.as_deref() {
            Some(text) => Some(parse(text)?),
            None => None,
        };
        Some(KeyHealth::from_answer(
            self.access_key_id.clone(),
            created,
            used,
            settings,
            asked_at,
        ))
    }
}

/// The health of the long-term keys of `profiles` (those that answered as IAM users), at once,
/// and once per key: profiles that share a key share its answer. IAM is not asked about a key
/// whose answer in `kept` (by key id) is recent enough ([`KeyHealth::kept_answer`]).
pub(super) async fn key_healths(
    session: &Session,
    profiles: Vec<String>,
    settings: &Settings,
    kept: &HashMap<String, KeyHealth>,
) -> Vec<(String, KeyHealth)> {
    // Each profile's key, found at once (a keychain entry, a credential_process), then
    // grouped by key.
    let mut found = JoinSet::new();
    for profile in profiles {
        let session = session.clone();
        found.spawn(async move {
            let key = long_term_key(&session, &profile).await;
            (profile, key)
        });
    }
    let mut sharing: indexmap::IndexMap<String, (Credentials, Vec<String>)> =
        indexmap::IndexMap::new();
    while let Some(joined) = found.join_next().await {
        if let Ok((profile, Some(credentials))) = joined {
            sharing
                .entry(credentials.access_key_id.clone())
                .or_insert_with(|| (credentials, Vec::new()))
                .1
                .push(profile);
        }
    }
    let mut healths = Vec::new();
    let now = super::kept_checks::now_ms();
    let mut asked = JoinSet::new();
    for (key_id, (credentials, holders)) in sharing {
        let known = kept.get(&key_id);
        if let Some(health) = known.and_then(|h| h.kept_answer(settings, now)) {
            healths.extend(holders.into_iter().map(|p| (p, health.clone())));
            continue;
        }
        let (session, settings) = (session.clone(), settings.clone());
        asked.spawn(async move {
            let health = key_health(&session, &holders[0], credentials, &settings).await;
            (holders, health)
        });
    }
    while let Some(joined) = asked.join_next().await {
        if let Ok((holders, health)) = joined {
            healths.extend(holders.into_iter().map(|p| (p, health.clone())));
        }
    }
    healths
}

/// The long-term key `profile` signs in with; `None` for a session, a role, or a key behind an
/// MFA device (the key alone may not ask IAM there: many accounts deny it, and the denial is
/// logged, so nothing is asked, and no code either, in a check).
async fn long_term_key(session: &Session, profile: &str) -> Option<Credentials> {
    if crate::rotation::user_keys::behind_mfa(session.reading(), profile) {
        return None;
    }
    let credentials = session.credentials(profile).await.ok()?;
    (credentials.session_token.is_none() && credentials.access_key_id.starts_with("AKIA"))
        .then_some(credentials)
}

/// How long one profile's IAM questions may take before its health is left unknown: Check all
/// must not wait on a slow IAM.
const IAM_WAIT: std::time::Duration = std::time::Duration::from_secs(8);

/// The health of `credentials`, the long-term key of `profile` (whose settings say how to reach
/// IAM).
async fn key_health(
    session: &Session,
    profile: &str,
    credentials: Credentials,
    settings: &Settings,
) -> KeyHealth {
    let key_id = credentials.access_key_id.clone();
    let unknown = |why: String| KeyHealth {
        access_key_id: key_id.clone(),
        created: None,
        age_days: None,
        last_used: None,
        unused_days: None,
        rotate_due: false,
        unused: false,
        unknown: Some(why),
        asked_at: None,
    };
    let (client, endpoint) = match (
        session.client(profile),
        session.endpoint(profile, Service::Iam),
    ) {
        (Ok(client), Ok(endpoint)) => (client, endpoint),
        (Err(e), _) | (_, Err(e)) => return unknown(e.to_string()),
    };
    let listed = iam::list_access_keys(&client, &endpoint, &credentials, None);
    let listed = match tokio::time::timeout(IAM_WAIT, listed).await {
        Ok(Ok(listed)) => listed,
        Ok(Err(e)) => return unknown(format!("IAM did not list the key ({e})")),
        Err(_) => return unknown("IAM did not answer in time".into()),
    };
    let Some(key) = listed.iter().find(|k| k.access_key_id == key_id) else {
        return unknown("IAM did not list the key for its user".into());
    };
    // A last use IAM would not give is unknown, never "never used": that would call a key in
    // daily use unused.
    let used = iam::get_access_key_last_used(&client, &endpoint, &credentials, &key_id);
    let used = match tokio::time::timeout(IAM_WAIT, used).await {
        Ok(Ok(used)) => used.last_used_date,
        Ok(Err(e)) => return unknown(format!("IAM did not say when it was last used ({e})")),
        Err(_) => return unknown("IAM did not answer in time".into()),
    };
    KeyHealth::from_answer(
        key_id,
        key.create_date,
        used,
        settings,
        super::kept_checks::now_ms(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked_at(ms: u64) -> KeyHealth {
        let created = OffsetDateTime::now_utc() - time::Duration::days(100);
        let used = OffsetDateTime::now_utc() - time::Duration::days(3);
        KeyHealth::from_answer(
            "AKIAEXAMPLE".into(),
            created,
            Some(used),
            &Settings::default(),
            ms,
        )
    }

    #[test]
    fn a_recent_answer_is_used_again_against_the_settings_of_now() {
        let now = crate::rack::kept_checks::now_ms();
        let kept = asked_at(now - 3_600_000);
        assert!(kept.rotate_due, "100 days against the default 90");
        let stricter = Settings {
            rotate_after_days: 365,
            unused_after_days: 2,
            ..Settings::default()
        };
        let again = kept.kept_answer(&stricter, now).expect("an hour old");
        assert_eq!(again.age_days, Some(100));
        assert_eq!(again.unused_days, Some(3));
        assert!(!again.rotate_due);
        assert!(again.unused);
        assert_eq!(
            again.asked_at, kept.asked_at,
            "still the answer of that hour"
        );
    }

    #[test]
    fn an_old_an_unknown_or_a_future_answer_is_asked_again() {
        let now = crate::rack::kept_checks::now_ms();
        let settings = Settings::default();
        let half_a_day = KEPT_FOR.as_millis() as u64;
        assert!(asked_at(now - half_a_day)
            .kept_answer(&settings, now)
            .is_none());
        assert!(asked_at(now - half_a_day + 60_000)
            .kept_answer(&settings, now)
            .is_some());
        assert!(
            asked_at(now + 60_000).kept_answer(&settings, now).is_none(),
            "a clock set back"
        );
        let mut unknown = asked_at(now);
        unknown.unknown = Some("IAM did not answer in time".into());
        assert!(unknown.kept_answer(&settings, now).is_none());
        let mut never = asked_at(now);
        never.asked_at = None;
        assert!(never.kept_answer(&settings, now).is_none());
    }
}
