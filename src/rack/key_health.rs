//! Key health at a glance: for each profile that signs in with an IAM user's long-term key, how
//! old the key is and when it was last used, measured against keyrack's settings (a key due for
//! rotation, a key unused), asked of IAM with the key itself at once for every profile. AWS
//! counts keyrack's own checks as uses: "unused" means no use at all, keyrack's included.

use serde::Serialize;
use time::OffsetDateTime;
use tokio::task::JoinSet;

use crate::aws::{iam, Credentials, Service};
use crate::identity::Session;
use crate::settings::Settings;

/// A profile's access key: its age and last use, and what they call for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
}

/// The health of the long-term keys of `profiles` (those that answered as IAM users), at once,
/// and once per key: profiles that share a key share its answer.
pub(super) async fn key_healths(
    session: &Session,
    profiles: Vec<String>,
    settings: &Settings,
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
    let mut asked = JoinSet::new();
    for (_, (credentials, holders)) in sharing {
        let (session, settings) = (session.clone(), settings.clone());
        asked.spawn(async move {
            let health = key_health(&session, &holders[0], credentials, &settings).await;
            (holders, health)
        });
    }
    let mut healths = Vec::new();
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
    let now = OffsetDateTime::now_utc();
    let rfc3339 = |t: OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let age_days = (now - key.create_date).whole_days().max(0);
    let unused_days = (now - used.unwrap_or(key.create_date)).whole_days().max(0);
    KeyHealth {
        access_key_id: key_id,
        created: Some(rfc3339(key.create_date)),
        age_days: Some(age_days),
        last_used: used.map(rfc3339),
        unused_days: Some(unused_days),
        rotate_due: age_days >= i64::from(settings.rotate_after_days),
        unused: unused_days >= i64::from(settings.unused_after_days),
        unknown: None,
    }
}
