//! The rotation commands: the plan shown before the person confirms, the rotation of exactly that
//! plan with each step sent to the window as it happens (and MFA codes asked for through the
//! window, for a key behind an MFA device), and the interrupted rotations offered for completion
//! at start-up. All the work is the [`keyrack::Rack`]'s.

use crate::commands::AppState;
use crate::mfa::{window_prompt, MfaQuestion};
use keyrack::aws::Credentials;
use keyrack::rotation::{
    Journal, OtherKeyChange, Progress, ReplacementGuide, RotateOptions, RotationPlan,
    RotationReport, UserKeys,
};
use keyrack::secret::Secret;
use keyrack::Error;
use tauri::ipc::Channel;
use tauri::State;

/// Work out the rotation of `profile`'s key (changes nothing) and remember it as the plan the
/// person is looking at.
#[tauri::command]
pub async fn rotation_plan(
    state: State<'_, AppState>,
    profile: String,
    keep_old: bool,
    delete_inactive: bool,
    keep_new_on_stop: bool,
    on_mfa: Channel<MfaQuestion>,
) -> Result<RotationPlan, Error> {
    let options = RotateOptions {
        keep_old,
        delete_inactive,
        keep_new_on_stop,
        old_key_deleted: false,
    };
    let prompt = window_prompt(&state, on_mfa);
    let plan = state
        .rack
        .rotation_plan(&profile, options, Some(prompt))
        .await?;
    *state.rotation_plan.lock().expect("plan lock") = Some(plan.clone());
    Ok(plan)
}

/// The plan that finishes the interrupted rotation of `old_key_id`.
#[tauri::command]
pub async fn recovery_plan(
    state: State<'_, AppState>,
    old_key_id: String,
    on_mfa: Channel<MfaQuestion>,
) -> Result<RotationPlan, Error> {
    let prompt = window_prompt(&state, on_mfa);
    let plan = state.rack.recovery_plan(&old_key_id, Some(prompt)).await?;
    *state.rotation_plan.lock().expect("plan lock") = Some(plan.clone());
    Ok(plan)
}

/// Run the plan last shown; each progress event goes through `on_progress`.
#[tauri::command]
pub async fn rotate_key(
    state: State<'_, AppState>,
    on_progress: Channel<Progress>,
    on_mfa: Channel<MfaQuestion>,
) -> Result<RotationReport, Error> {
    let plan = state
        .rotation_plan
        .lock()
        .expect("plan lock")
        .take()
        .ok_or_else(|| Error::new("no_plan", "open the rotation again: its plan is gone"))?;
    let prompt = window_prompt(&state, on_mfa);
    state
        .rack
        .rotate(&plan, Some(prompt), |progress| {
            let _ = on_progress.send(progress.clone());
        })
        .await
}

/// Make another key of `profile`'s user Inactive or delete it, to make room for the rotation.
#[tauri::command]
pub async fn change_other_key(
    state: State<'_, AppState>,
    profile: String,
    key_id: String,
    change: OtherKeyChange,
    on_mfa: Channel<MfaQuestion>,
) -> Result<UserKeys, Error> {
    let prompt = window_prompt(&state, on_mfa);
    state
        .rack
        .change_other_key(&profile, &key_id, change, Some(prompt))
        .await
}

/// Where and how to make the key that replaces `profile`'s in the IAM console.
#[tauri::command]
pub async fn replacement_guide(
    state: State<'_, AppState>,
    profile: String,
) -> Result<ReplacementGuide, Error> {
    state.rack.replacement_guide(&profile).await
}

/// Where the new key of a replacement comes from: the console's .csv, or the two values pasted.
#[derive(serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "from")]
pub enum NewKey {
    Csv { path: String },
    Typed { key_id: String, secret: Secret },
}

/// Work out the replacement of `profile`'s key by the key given (proven to work and to be the
/// same user's; changes nothing) and remember it, with the key, as the one the person sees.
#[tauri::command]
pub async fn replacement_plan(
    state: State<'_, AppState>,
    profile: String,
    new_key: NewKey,
    keep_old: bool,
    old_key_deleted: bool,
    on_mfa: Channel<MfaQuestion>,
) -> Result<RotationPlan, Error> {
    let new = match new_key {
        NewKey::Csv { path } => state.rack.key_of_file(std::path::Path::new(&path))?,
        NewKey::Typed { key_id, secret } => Credentials::new(key_id.trim(), secret, None),
    };
    let options = RotateOptions {
        keep_old,
        old_key_deleted,
        ..RotateOptions::default()
    };
    let prompt = window_prompt(&state, on_mfa);
    let plan = state
        .rack
        .replacement_plan(&profile, &new, options, Some(prompt))
        .await?;
    *state.replacement.lock().expect("replacement lock") = Some((plan.clone(), new));
    Ok(plan)
}

/// Run the replacement last shown; each progress event goes through `on_progress`.
#[tauri::command]
pub async fn replace_key(
    state: State<'_, AppState>,
    on_progress: Channel<Progress>,
    on_mfa: Channel<MfaQuestion>,
) -> Result<RotationReport, Error> {
    let (plan, new) = state
        .replacement
        .lock()
        .expect("replacement lock")
        .take()
        .ok_or_else(|| Error::new("no_plan", "open the replacement again: its plan is gone"))?;
    let prompt = window_prompt(&state, on_mfa);
    state
        .rack
        .replace(&plan, &new, Some(prompt), |progress| {
            let _ = on_progress.send(progress.clone());
        })
        .await
}

/// Rotations that were interrupted (the app was closed, the network dropped) and not finished.
#[tauri::command]
pub async fn interrupted_rotations(app: tauri::AppHandle) -> Result<Vec<Journal>, Error> {
    crate::commands::off_the_window(app, |rack| rack.interrupted_rotations()).await
}
