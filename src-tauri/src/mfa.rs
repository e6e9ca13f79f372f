//! Asking the person in the window for an MFA code while identities are checked, a key is rotated
//! or they sign in ahead (`mfa_login`): the question goes to the page through the command's
//! channel, and the page answers with `answer_mfa`. The code crosses the window once, as the
//! person typed it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyrack::identity::mfa::{MfaCode, MfaPrompt, MfaRequest};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::commands::AppState;

/// How long the window's question waits for the person before keyrack stops asking.
const WAIT: Duration = Duration::from_secs(300);

/// The questions the window has not answered yet, by id.
#[derive(Default)]
pub struct Pending {
    answers: Mutex<HashMap<u64, SyncSender<Option<zeroize::Zeroizing<String>>>>>,
    next: AtomicU64,
}

/// What the page shows: the device, the profile it unlocks, how long the session lasts, and
/// why it is asked again (`refused`: the code given had the wrong shape; `retry`: AWS did not
/// accept it).
#[derive(Clone, Serialize)]
pub struct MfaQuestion {
    id: u64,
    profile: String,
    serial: String,
    session_seconds: u32,
    /// A role's session, which the AWS CLI shares; else a key's, kept in the keychain.
    aws_cli_shares: bool,
    /// The profiles the code unlocks.
    unlocks: Vec<String>,
    retry: bool,
    refused: Option<String>,
}

/// The window's prompt for one command, asking through `channel`.
pub fn window_prompt(state: &AppState, channel: Channel<MfaQuestion>) -> Arc<dyn MfaPrompt> {
    Arc::new(WindowMfaPrompt {
        channel,
        pending: state.mfa.clone(),
    })
}

/// Receive through `on_mfa` the MFA questions a `keyrack credential-process` asks this window
/// (an AWS tool that needs a code while the app runs): the latest page's channel is used.
#[tauri::command]
pub fn listen_for_mfa(state: State<'_, AppState>, on_mfa: Channel<MfaQuestion>) {
    *state.mfa_listener.lock().expect("listener lock") = Some(on_mfa);
}

/// Sign in with `profile`'s MFA device now (asking through `on_mfa`), so it and every profile
/// behind the device work until the session ends.
#[tauri::command]
pub async fn mfa_login(
    state: State<'_, AppState>,
    profile: String,
    on_mfa: Channel<MfaQuestion>,
) -> Result<keyrack::rack::SessionView, keyrack::Error> {
    let prompt = window_prompt(&state, on_mfa);
    state.rack.mfa_login(&profile, Some(prompt)).await
}

/// The window's [`MfaPrompt`].
pub struct WindowMfaPrompt {
    pub channel: Channel<MfaQuestion>,
    pub pending: Arc<Pending>,
}

impl MfaPrompt for WindowMfaPrompt {
    fn code(&self, request: &MfaRequest) -> Option<MfaCode> {
        let mut refused = None;
        for _ in 0..3 {
            let id = self.pending.next.fetch_add(1, Ordering::Relaxed);
            let (answer, wait) = sync_channel(1);
            self.pending
                .answers
                .lock()
                .expect("mfa lock")
                .insert(id, answer);
            let question = MfaQuestion {
                id,
                profile: request.profile.clone(),
                serial: request.serial.clone(),
                session_seconds: request.session_seconds,
                aws_cli_shares: request.aws_cli_shares,
                unlocks: request.unlocks.clone(),
                retry: request.retry,
                refused: refused.take(),
            };
            let answered = self
                .channel
                .send(question)
                .ok()
                .and_then(|()| wait.recv_timeout(WAIT).ok());
            self.pending.answers.lock().expect("mfa lock").remove(&id);
            let typed = answered.flatten()?;
            match MfaCode::parse(&typed) {
                Ok(code) => return Some(code),
                Err(why) => refused = Some(why.to_string()),
            }
        }
        None
    }
}

/// The person's answer to question `id`: the code typed, or `None` (cancelled).
#[tauri::command]
pub fn answer_mfa(state: State<'_, AppState>, id: u64, code: Option<String>) {
    let code = code.map(zeroize::Zeroizing::new);
    if let Some(answer) = state.mfa.answers.lock().expect("mfa lock").remove(&id) {
        let _ = answer.send(code);
    }
}

/// Forget the cached role sessions of `profiles`: the files removed.
#[tauri::command]
pub async fn forget_sessions(
    app: tauri::AppHandle,
    profiles: Vec<String>,
) -> Result<Vec<String>, keyrack::Error> {
    crate::commands::off_the_window(app, move |rack| rack.forget_sessions(&profiles)).await
}
