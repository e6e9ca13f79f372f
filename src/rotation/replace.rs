//! Replacing a key whose secret is lost or wrong with one the user made in the IAM console:
//! proven to work and to be the same user's before anything is written.

use crate::aws::Credentials;
use crate::files::{AwsFiles, Dialect};
use crate::identity::IdentityError;
use crate::rotation::holders::read_keychain_profiles;
use crate::rotation::user_keys::{user_name_from_arn, KeyStatus};

use super::access::AwsAccess;
use super::error::RotationError;
use super::journal;
use super::key_files::sections_holding;
use super::lost_keys;
use super::plan::{
    describe_keys, planned_steps, profile_key, same_files, Course, OldKeyFate, RotateOptions,
    RotationPlan,
};
use super::propagation::until_accepted;
use super::RotationSettings;
use crate::aws::key_id::account_in_key_id;

/// Works out the replacement of `profile`'s key by `new` (made in the console): `new` must be a
/// long-term key that AWS accepts (given IAM's time to spread a key made a moment ago), and the
/// profile's key must be among its user's keys (ListAccessKeys, signed with `new`). Then every
/// profile holding the old key gets `new`, and the old key is retired, signed with `new`, as in
/// a rotation. Changes nothing; `new`'s secret is not kept in the plan.
pub async fn plan_replacement(
    settings: &RotationSettings,
    profile: &str,
    new: &Credentials,
    options: RotateOptions,
) -> Result<RotationPlan, RotationError> {
    if journal::lock(&settings.journal_dir())?.is_none() {
        return Err(RotationError::Busy);
    }
    let new_key_id = new.access_key_id.clone();
    if new.session_token.is_some() || !new_key_id.starts_with("AKIA") {
        return Err(RotationError::NewKeyNotLongTerm { new_key_id });
    }
    let files = AwsFiles::load(&settings.paths)?;
    let reading = files.read(Dialect::Cli);
    let held = profile_key(&reading, &settings.keychain, profile)?;
    read_keychain_profiles(&files, &settings.keychain).map_err(|(profile, error)| {
        RotationError::Credentials(IdentityError::Keychain { profile, error })
    })?;
    // A rerun after an interruption: the profile may hold the new key already.
    let interrupted = journal::find(&settings.journal_dir(), &held.access_key_id)?;
    let old_key_id = match &interrupted {
        Some(journal) => {
            same_files(settings, journal)?;
            let resumable =
                journal.replacement && journal.new_key_id.as_deref() == Some(&new_key_id);
            if !resumable {
                return Err(RotationError::OtherInterrupted {
                    profile: journal.profile.clone(),
                    old_key_id: journal.old_key_id.clone(),
                    new_key_id: journal
                        .new_key_id
                        .clone()
                        .unwrap_or_else(|| "not known".into()),
                });
            }
            journal.old_key_id.clone()
        }
        None if held.access_key_id == new_key_id => {
            return Err(RotationError::NewKeyHeldAlready {
                profile: profile.to_owned(),
                key_id: new_key_id,
            })
        }
        None => held.access_key_id.clone(),
    };

    let aws =
        AwsAccess::for_profile(reading, settings, profile).map_err(RotationError::Credentials)?;
    // A key made in the console a moment ago may take a few seconds to work everywhere.
    let identity = until_accepted(&settings.propagation, || aws.who(new), |_, _, _| {})
        .await
        .map_err(|failure| RotationError::NewKeyDoesNotWork {
            new_key_id: new_key_id.clone(),
            error: failure.into_error(),
        })?;
    let user = user_name_from_arn(&identity.arn)
        .ok_or_else(|| RotationError::NotAUser {
            profile: profile.to_owned(),
            arn: identity.arn.clone(),
        })?
        .to_owned();
    let listed = aws
        .list(new, &user)
        .await
        .map_err(|error| RotationError::Aws {
            action: "ListAccessKeys",
            error,
        })?;
    let is_listed = |id: &str| listed.iter().any(|k| k.access_key_id == id);
    // Once the old key is deleted, a rerun knows it only from the journal.
    let old_key_gone = interrupted
        .as_ref()
        .is_some_and(|j| j.step >= journal::JournalStep::OldKeyDeactivated);
    // keyrack deleted it itself to make room (and noted whose it was), or the person says they
    // deleted it in the console: then only their word says it was this user's key, and the plan
    // says so.
    let deleted_for_room = lost_keys::noted(&settings.lost_key_dir(), &old_key_id)
        .is_some_and(|lost| lost.arn == identity.arn);
    let mut old_key_unproven = false;
    if !is_listed(&old_key_id) && !old_key_gone && !deleted_for_room {
        let other_account =
            account_in_key_id(&old_key_id).is_some_and(|account| account != identity.account);
        let refusal = |owner: String| RotationError::NotTheSameUser {
            profile: profile.to_owned(),
            new_key_id: new_key_id.clone(),
            new_arn: identity.arn.clone(),
            old_key_id: old_key_id.clone(),
            owner,
        };
        match aws.last_use(new, &old_key_id).await {
            Ok(used) => {
                return Err(refusal(format!(
                    ": it belongs to user '{}'",
                    used.user_name
                )))
            }
            Err(error) if !is_hidden(&error) => {
                return Err(RotationError::Aws {
                    action: "GetAccessKeyLastUsed",
                    error,
                })
            }
            Err(_) if other_account => {
                return Err(refusal(format!(
                    ": its key id names account {}, not {}",
                    account_in_key_id(&old_key_id).unwrap_or_default(),
                    identity.account
                )))
            }
            Err(_) if !options.old_key_deleted => {
                return Err(refusal(format!(
                    ": IAM does not show it (another user's key, or deleted already). If you \
                     deleted {old_key_id} in the console to make room, say so \
                     (--old-key-deleted, or the box in the window)"
                )))
            }
            Err(_) => old_key_unproven = true,
        }
    }
    if listed
        .iter()
        .any(|k| k.access_key_id == new_key_id && KeyStatus::from(k.status) != KeyStatus::Active)
    {
        return Err(RotationError::NewKeyInactive { new_key_id });
    }
    let keys = describe_keys(&aws, new, &files, &settings.keychain, listed).await;
    let keep_old = options.keep_old || interrupted.as_ref().is_some_and(|j| j.keep_old);
    let mut plan = RotationPlan {
        profile: profile.to_owned(),
        user,
        arn: identity.arn,
        account: identity.account,
        profiles: sections_holding(&files, &settings.keychain, &old_key_id),
        old_key_id,
        keys,
        delete_first: Vec::new(),
        old_key: if keep_old {
            OldKeyFate::Inactive
        } else {
            OldKeyFate::Deleted
        },
        course: Course::Replace { new_key_id },
        old_key_unproven,
        interrupted,
        options,
        steps: Vec::new(),
    };
    plan.steps = planned_steps(&plan, settings.propagation.timeout);
    Ok(plan)
}

/// IAM's answer about a key this key may not see: deleted, or another user's out of reach.
fn is_hidden(error: &crate::aws::AwsError) -> bool {
    matches!(error, crate::aws::AwsError::Service { code, .. }
        if code == "NoSuchEntity" || code == "AccessDenied" || code == "AccessDeniedException")
}

/// Where and how to make the key that replaces `profile`'s, in words for the window and the
/// command line. Holds no secret.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReplacementGuide {
    pub profile: String,
    pub old_key_id: String,
    /// The account the key id names (keys made since 2019), when it names one.
    pub account: Option<String>,
    /// The IAM console's list of users, in the profile's partition.
    pub console_url: String,
    /// Every profile that holds the old key: each gets the new one.
    pub holders: Vec<String>,
    /// AWS refuses the secret the files hold (else the person just prefers the console).
    pub secret_refused: bool,
    /// The user's keys, when another profile here holds a working key of the same user.
    pub seen_from: Option<KeysSeenFrom>,
    /// The user has two keys (the most AWS allows; Inactive ones count), the secret is refused
    /// here, and `seen_from` can delete the lost key first.
    pub can_make_room: bool,
    /// What to do in the console, in order.
    pub steps: Vec<String>,
}

/// The old key's user and keys, as another profile here (with a working key of that user)
/// lists them: it can make room by retiring the lost key first.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KeysSeenFrom {
    pub profile: String,
    pub user: String,
    pub keys: Vec<super::KeyInfo>,
}

/// How many other keys of the files are asked whether they are the same user's.
const OTHER_KEYS_ASKED: usize = 8;

/// The guide to making `profile`'s replacement key in the IAM console. Reads the files, and asks
/// AWS about the other keys here (a few) to find one of the same user, which can list the user's
/// keys and, at two, retire the lost one first.
pub async fn replacement_guide(
    settings: &RotationSettings,
    profile: &str,
) -> Result<ReplacementGuide, RotationError> {
    let files = AwsFiles::load(&settings.paths)?;
    let reading = files.read(Dialect::Cli);
    let key = profile_key(&reading, &settings.keychain, profile)?;
    let old = key.access_key_id.clone();
    let account = account_in_key_id(&old);
    let region = reading
        .profiles
        .get(profile)
        .and_then(|s| s.get("region"))
        .and_then(|s| s.value.as_text())
        .unwrap_or_default();
    let console = if region.starts_with("cn-") {
        "https://console.amazonaws.cn"
    } else if region.starts_with("us-gov-") {
        "https://console.amazonaws-us-gov.com"
    } else {
        "https://console.aws.amazon.com"
    };
    let holders =
        super::key_files::profile_names(&sections_holding(&files, &settings.keychain, &old));
    let secret_refused = match AwsAccess::for_profile(reading.clone(), settings, profile) {
        Ok(aws) => matches!(
            aws.who(&key).await,
            Err(crate::aws::AwsError::WrongSecret { .. })
        ),
        Err(_) => false,
    };
    let seen_from = same_user_elsewhere(settings, &files, &reading, &holders, &old).await;
    let can_make_room = secret_refused && seen_from.as_ref().is_some_and(|s| s.keys.len() >= 2);
    let sign_in = match &account {
        Some(account) => {
            format!("Sign in to the AWS console in account {account} (the key id says so)")
        }
        None => "Sign in to the AWS console in the account of the key".to_owned(),
    };
    let find_user = match &seen_from {
        Some(seen) => format!("open IAM, Users, {}, Security credentials", seen.user),
        None => format!(
            "open IAM, Users: pick the user whose Security credentials tab lists the access key \
             {old}"
        ),
    };
    let two_keys = match &seen_from {
        Some(seen) if can_make_room => format!(
            "IAM user {} has two access keys already, the most AWS allows (Inactive keys \
             count), so the console refuses a third: delete {old} first (no profile here can \
             use it: AWS refuses its secret); keyrack can do it here, signed with the key of \
             profile '{}'. Then choose Create access key.",
            seen.user, seen.profile
        ),
        _ if secret_refused => format!(
            "Under Access keys, choose Create access key. If the console says the user has two \
             keys already (Inactive keys count), delete {old} there first (Actions, Deactivate, \
             then Delete; no profile here can use it, but check its last use: something \
             elsewhere may hold the right secret). Then tell keyrack you deleted it."
        ),
        _ => "Under Access keys, choose Create access key. If the console says the user has two \
              keys already (Inactive keys count), one must go before another can be made; this \
              key still works, so not this one: the other, if nothing uses it (Rotate key in \
              keyrack offers the same and needs no console)."
            .to_owned(),
    };
    let steps = vec![
        format!("{sign_in} and {find_user}."),
        two_keys,
        "The console shows the new secret only once: choose Download .csv file.".to_owned(),
        "Give keyrack that file (pick it, or drop it on the window), or paste the key id and \
         secret. keyrack proves the key is the same user's before it writes anything."
            .to_owned(),
    ];
    Ok(ReplacementGuide {
        profile: profile.to_owned(),
        old_key_id: old,
        account,
        console_url: format!("{console}/iam/home#/users"),
        holders,
        secret_refused,
        seen_from,
        can_make_room,
        steps,
    })
}

/// The first other key here (of at most [`OTHER_KEYS_ASKED`]) that works and whose user has
/// `old` among its keys: that user's keys, as that profile lists them. Failures only skip a key.
async fn same_user_elsewhere(
    settings: &RotationSettings,
    files: &AwsFiles,
    reading: &std::sync::Arc<crate::files::Reading>,
    holders: &[String],
    old: &str,
) -> Option<KeysSeenFrom> {
    let mut asked: Vec<String> = Vec::new();
    for name in reading.profiles.keys() {
        if asked.len() >= OTHER_KEYS_ASKED {
            break;
        }
        if holders.contains(name) {
            continue;
        }
        let Ok(key) = profile_key(reading, &settings.keychain, name) else {
            continue;
        };
        if key.access_key_id == old || asked.contains(&key.access_key_id) {
            continue;
        }
        asked.push(key.access_key_id.clone());
        let Ok(aws) = AwsAccess::for_profile(reading.clone(), settings, name) else {
            continue;
        };
        let Ok(identity) = aws.who(&key).await else {
            continue;
        };
        let Some(user) = user_name_from_arn(&identity.arn) else {
            continue;
        };
        let Ok(listed) = aws.list(&key, user).await else {
            continue;
        };
        if listed.iter().any(|k| k.access_key_id == old) {
            return Some(KeysSeenFrom {
                profile: name.clone(),
                user: user.to_owned(),
                keys: describe_keys(&aws, &key, files, &settings.keychain, listed).await,
            });
        }
    }
    None
}
