//! `keyrack whoami`: who one, several or every profile is, asked of AWS STS all at once.

use std::process::ExitCode;

use keyrack::keychain::places::SecretStore;
use keyrack::rack::{IdentityStatus, IdentityView};
use keyrack::{Error, Rack};

use crate::print::pretty;

/// Checks the chosen profiles ([`Rack::profiles_to_check`]) and prints one line, or the
/// engine's identity view, per profile in the order asked (file order for `all`). Exit status 1
/// when any profile failed.
pub fn run(rack: &Rack, named: &[String], all: bool, json: bool) -> Result<ExitCode, Error> {
    if let Some(rejection) = rack.rejection()? {
        eprintln!(
            "keyrack: warning: the AWS CLI rejects these files ({rejection}); run 'keyrack check'"
        );
    }
    let profiles = rack.profiles_to_check(named, all)?;
    if profiles.is_empty() {
        eprintln!("keyrack: there are no profiles in the config or credentials file");
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| {
        Error::new(
            "internal",
            format!("could not start the async runtime: {e}"),
        )
    })?;
    // A role's MFA code is asked for on the terminal.
    let prompt = crate::secret_input::terminal_mfa_prompt();
    let views = runtime.block_on(rack.identities(&profiles, all, Some(prompt), |_| {}))?;
    if json {
        println!("{}", pretty(&views));
    } else {
        print_lines(&views);
    }
    let failed = views.iter().filter(|v| v.failed()).count();
    if failed == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    let unreadable = views
        .iter()
        .filter(|v| v.status == IdentityStatus::AwsToolsCannotRead)
        .count();
    if unreadable == 0 {
        eprintln!(
            "keyrack: {failed} of {} profile(s) could not be checked",
            views.len()
        );
    } else if unreadable == failed {
        eprintln!(
            "keyrack: AWS answers for {unreadable} of {} profile(s), but the AWS tools cannot read the files: fix the line 'keyrack check' names",
            views.len()
        );
    } else {
        eprintln!(
            "keyrack: {failed} of {} profile(s) could not be checked or cannot be used by the AWS tools",
            views.len()
        );
    }
    Ok(ExitCode::FAILURE)
}

fn print_lines(views: &[IdentityView]) {
    let width = views
        .iter()
        .map(|v| v.profile.chars().count())
        .max()
        .unwrap_or(0);
    for view in views {
        let profile = &view.profile;
        match (&view.status, &view.error) {
            (IdentityStatus::Ok, _) => {
                let store = if matches!(view.secret_store, Some(SecretStore::Keychain { .. })) {
                    ", key in the OS keychain".to_owned()
                } else {
                    String::new()
                };
                let store = match view.session_minutes_left {
                    Some(minutes) => format!("{store}, session {minutes} min left"),
                    None => store,
                };
                let store = match &view.key_health {
                    Some(health) => format!("{store}{}", health_words(health)),
                    None => store,
                };
                let named = view
                    .account_name
                    .as_deref()
                    .map(|name| format!(" {name}"))
                    .unwrap_or_default();
                println!(
                    "{profile:<width$}  {}  (account {}{named}{store})",
                    view.arn.as_deref().unwrap_or("-"),
                    view.account.as_deref().unwrap_or("-")
                )
            }
            (IdentityStatus::SettingsOnly, Some(error)) => {
                let names: Vec<&str> = error.details["settings"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|s| s.as_str()).collect())
                    .unwrap_or_default();
                println!(
                    "{profile:<width$}  settings only ({}), no credentials of its own",
                    names.join(", ")
                )
            }
            (IdentityStatus::AwsToolsCannotRead, Some(error)) => println!(
                "{profile:<width$}  {}  (account {}) but the AWS tools cannot read the files: {}",
                view.arn.as_deref().unwrap_or("-"),
                view.account.as_deref().unwrap_or("-"),
                error.message
            ),
            (_, Some(error)) => println!("{profile:<width$}  {}: {}", error.code, error.message),
            (_, None) => println!("{profile:<width$}  failed"),
        }
    }
}

/// `, key 120 days old (rotate it), last used 3 days ago`, from the engine's key health.
fn health_words(health: &keyrack::rack::KeyHealth) -> String {
    if let Some(why) = &health.unknown {
        return format!(", key age unknown: {why}");
    }
    let mut words = String::new();
    if let Some(age) = health.age_days {
        words.push_str(&format!(", key {age} days old"));
        if health.rotate_due {
            words.push_str(" (rotate it)");
        }
    }
    match (&health.last_used, health.unused_days) {
        (Some(_), Some(days)) => words.push_str(&format!(", last used {days} days ago")),
        (None, _) => words.push_str(", never used"),
        _ => {}
    }
    if health.unused {
        words.push_str(" (unused: deactivate it if nothing needs it)");
    }
    words
}
