//! IAM Identity Center in the window: signing in for a profile (the engine opens the browser;
//! the page is told which page and code to look for), signing out, and the profiles of every
//! account and role of a sign-in, previewed and then written exactly as previewed.

use keyrack::identity::sso_login::{Flow, SignInPrompt, SignedIn, SignedOut};
use keyrack::rack::SsoTarget;
use keyrack::sso_profiles::PopulatePlan;
use keyrack::Error;
use tauri::ipc::Channel;
use tauri::State;

use crate::commands::AppState;

/// Sign in for `profile` (its sso-session's sign-in, or a legacy profile's own) in the system
/// browser; what to look for in the browser goes to the page through `on_prompt`.
#[tauri::command]
pub async fn sso_login(
    state: State<'_, AppState>,
    profile: String,
    use_device_code: bool,
    on_prompt: Channel<SignInPrompt>,
) -> Result<SignedIn, Error> {
    let show = move |prompt: &SignInPrompt| {
        let _ = on_prompt.send(prompt.clone());
    };
    let flow = if use_device_code {
        Flow::DeviceCode
    } else {
        Flow::AuthorizationCode
    };
    // A new sign-in replaces one the person left: its wait (and the sign-in lock) ends.
    state.sso_cancel.notify_waiters();
    let cancelled = state.sso_cancel.notified();
    let target = SsoTarget::Profile(profile);
    tokio::select! {
        signed_in = state.rack.sso_login(&target, flow, true, &show) => signed_in,
        () = cancelled => Err(Error::new("cancelled", "the sign-in was cancelled; nothing was kept")),
    }
}

/// Stop waiting for the sign-in under way (the person closed its dialog): nothing is kept, and
/// the browser page it opened no longer signs in.
#[tauri::command]
pub fn sso_cancel(state: State<'_, AppState>) {
    state.sso_cancel.notify_waiters();
}

/// Sign out of every IAM Identity Center sign-in, as `aws sso logout` does.
#[tauri::command]
pub async fn sso_logout(state: State<'_, AppState>) -> Result<SignedOut, Error> {
    state.rack.sso_logout().await
}

/// What populating `session`'s profiles would do; kept, so that `sso_populate` writes exactly
/// what the window showed.
#[tauri::command]
pub async fn sso_populate_plan(
    state: State<'_, AppState>,
    session: String,
) -> Result<PopulatePlan, Error> {
    let plan = state.rack.sso_populate_plan(&session, None, None).await?;
    *state.populate_plan.lock().expect("plan lock") = Some(plan.clone());
    Ok(plan)
}

/// Write the plan shown last (and prune, when asked): how many profiles were added or removed.
#[tauri::command]
pub async fn sso_populate(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    prune: bool,
) -> Result<usize, Error> {
    let plan = state.populate_plan.lock().expect("plan lock").take();
    let plan = plan.ok_or_else(|| {
        Error::new(
            "view_too_old",
            "there is no preview to write any more; open the dialog again",
        )
    })?;
    crate::commands::off_the_window(app, move |rack| {
        rack.sso_populate(&plan, prune).map(|done| done.len())
    })
    .await
}
