//! The small window `keyrack credential-process` opens (`keyrack-app --ask-mfa-code QUESTION`)
//! to ask for an MFA code when an AWS tool needs one and nothing else can ask: the question, the
//! code typed or pasted, Sign in or Cancel. The code goes to stdout for the keyrack that asked,
//! then the window closes; Cancel or closing the window exits with status 1 (declined).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use keyrack::identity::mfa::MfaCode;
use serde::Serialize;
use tauri::{Manager, RunEvent, WebviewUrl, WebviewWindowBuilder};

/// The flag that opens this window instead of the app.
pub const FLAG: &str = "--ask-mfa-code";

/// How long the window waits for the person: the keyrack that asked holds the device's sign-in
/// lock meanwhile, and others wait behind it.
const WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// Set once a code was handed over: closing the window after that is no refusal.
static ANSWERED: AtomicBool = AtomicBool::new(false);

/// What the window shows: the question keyrack asked, and the device and profiles it names.
#[derive(Clone, Serialize)]
pub struct Question {
    text: String,
    serial: String,
    profile: String,
    unlocks: Vec<String>,
}

/// The question, for the page.
#[tauri::command]
pub fn question(question: tauri::State<'_, Question>) -> Question {
    question.inner().clone()
}

/// The person's answer: a code of the right shape is printed and the window closes; another is
/// refused with the reason (the page asks again); `None` (Cancel) exits with status 1.
#[tauri::command]
pub fn answer(app: tauri::AppHandle, code: Option<String>) -> Result<(), String> {
    let Some(typed) = code.map(zeroize::Zeroizing::new) else {
        app.exit(1);
        return Ok(());
    };
    let code = MfaCode::parse(&typed).map_err(|refused| refused.to_string())?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", code.expose())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("could not hand the code to keyrack: {e}"))?;
    ANSWERED.store(true, Ordering::SeqCst);
    app.exit(0);
    Ok(())
}

/// Open the window with `text` and wait for the answer; the process's exit status says how it
/// went.
pub fn run(text: String) -> ! {
    std::thread::spawn(|| {
        std::thread::sleep(WAIT);
        // Nobody answered: declined, so the others waiting for the device can ask.
        std::process::exit(1);
    });
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    let question = Question {
        text,
        serial: env("KEYRACK_MFA_SERIAL"),
        profile: env("KEYRACK_MFA_PROFILE"),
        unlocks: env("KEYRACK_MFA_UNLOCKS")
            .split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    let app = tauri::Builder::default()
        .manage(question)
        .invoke_handler(tauri::generate_handler![self::question, answer])
        .setup(|app| {
            WebviewWindowBuilder::new(app, "ask", WebviewUrl::App("ask-code.html".into()))
                .title("keyrack: MFA code")
                .inner_size(460.0, 290.0)
                .resizable(false)
                .center()
                .always_on_top(true)
                .focused(true)
                .build()?;
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("keyrack could not open its MFA prompt");
    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            let _ = handle.get_webview_window("ask");
            let status = if ANSWERED.load(Ordering::SeqCst) {
                0
            } else {
                1
            };
            std::process::exit(status);
        }
    });
    std::process::exit(1)
}
