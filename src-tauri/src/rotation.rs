//! The rotation commands: the plan shown before the person confirms, the rotation of exactly that
//! plan with each step sent to the window as it happens, and the interrupted rotations offered
//! for completion at start-up. All the work is `keyrack::rotation`'s.

use crate::commands::{AppState, Failure};
use keyrack::rotation::{
    self, Journal, Progress, RotateOptions, RotationError, RotationPlan, RotationReport,
    RotationSettings,
};
use tauri::ipc::Channel;
use tauri::State;

impl From<RotationError> for Failure {
    fn from(e: RotationError) -> Self {
        Failure::new(e.code(), e.to_string())
    }
}

fn settings(state: &AppState) -> RotationSettings {
    RotationSettings::from_process_env(state.paths().clone())
}

/// Work out the rotation of `profile`'s key (changes nothing) and remember it as the plan the
/// person is looking at.
#[tauri::command]
pub async fn rotation_plan(
    state: State<'_, AppState>,
    profile: String,
    keep_old: bool,
    delete_inactive: bool,
    keep_new_on_stop: bool,
) -> Result<RotationPlan, Failure> {
    let options = RotateOptions {
        keep_old,
        delete_inactive,
        keep_new_on_stop,
    };
    let plan = rotation::plan_rotation(&settings(&state), &profile, options).await?;
    *state.rotation_plan.lock().expect("plan lock") = Some(plan.clone());
    Ok(plan)
}

/// The plan that finishes the interrupted rotation of `old_key_id`.
#[tauri::command]
pub async fn recovery_plan(
    state: State<'_, AppState>,
    old_key_id: String,
) -> Result<RotationPlan, Failure> {
    let settings = settings(&state);
    let journal = rotation::interrupted_rotations(&settings.journal_dir())
        .map_err(RotationError::from)?
        .into_iter()
        .find(|j| j.old_key_id == old_key_id)
        .ok_or_else(|| {
            Failure::new(
                "nothing_to_recover",
                "that rotation is no longer interrupted; nothing to finish",
            )
        })?;
    let plan = rotation::plan_recovery(
        &settings,
        &journal,
        RotateOptions {
            keep_old: journal.keep_old,
            ..RotateOptions::default()
        },
    )
    .await?;
    *state.rotation_plan.lock().expect("plan lock") = Some(plan.clone());
    Ok(plan)
}

/// Run the plan last shown; each progress event goes through `on_progress`.
#[tauri::command]
pub async fn rotate_key(
    state: State<'_, AppState>,
    on_progress: Channel<Progress>,
) -> Result<RotationReport, Failure> {
    let plan = state
        .rotation_plan
        .lock()
        .expect("plan lock")
        .take()
        .ok_or_else(|| Failure::new("no_plan", "open the rotation again: its plan is gone"))?;
    let report = rotation::rotate(&settings(&state), &plan, |progress| {
        let _ = on_progress.send(progress.clone());
    })
    .await?;
    Ok(report)
}

/// Rotations that were interrupted (the app was closed, the network dropped) and not finished.
#[tauri::command]
pub fn interrupted_rotations(state: State<'_, AppState>) -> Result<Vec<Journal>, Failure> {
    Ok(
        rotation::interrupted_rotations(&settings(&state).journal_dir())
            .map_err(RotationError::from)?,
    )
}
