//! How the command line shows the engine's answers as text (and `check --json`): nothing here
//! decides anything, and nothing here ever prints a secret but `credential-process`'s answer.

use std::io::Write;
use std::process::ExitCode;

use keyrack::changes::Applied;
use keyrack::files::check::Severity;
use keyrack::files::FileKind;
use keyrack::profiles::{FindingView, Listing};
use keyrack::rack::ProcessCredentials;
use keyrack::rotation::KeyInfo;
use keyrack::{Error, Rack};
use serde_json::json;

/// One line per profile: name, kind, region, key id, where its secret lives.
pub fn profiles(listing: &Listing) {
    if listing.profiles.is_empty() {
        println!(
            "no profiles in {} or {}",
            listing.config_path, listing.credentials_path
        );
    }
    let width = listing
        .profiles
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    for profile in &listing.profiles {
        let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        println!(
            "{:<width$}  {:<18}  {:<14}  {:<20}  {}",
            profile.name,
            profile.kind,
            text(&profile.region),
            text(&profile.access_key_id),
            profile.secret_store.name()
        );
    }
    if let Some(rejection) = &listing.rejection {
        eprintln!(
            "keyrack: warning: the AWS CLI rejects these files ({rejection}); run 'keyrack check'"
        );
    }
}

/// What an edit did and where; then its warnings.
pub fn applied(rack: &Rack, done: &str, applied: &Applied) {
    let where_: Vec<String> = applied
        .saved
        .iter()
        .map(|k| rack.path(*k).display().to_string())
        .collect();
    if where_.is_empty() {
        println!("{done} (no change needed)");
    } else {
        println!("{done} in {}", where_.join(" and "));
    }
    if let Some(account) = &applied.removed_entry {
        println!("removed the keychain entry '{account}'");
    }
    for warning in &applied.warnings {
        eprintln!("keyrack: warning: {warning}");
    }
}

/// `PATH:LINE: error|warning: message`, or that there is nothing to report.
pub fn findings(rack: &Rack, findings: &[FindingView]) {
    if findings.is_empty() {
        println!(
            "no problems found in {} and {}",
            rack.path(FileKind::Config).display(),
            rack.path(FileKind::Credentials).display()
        );
    }
    for f in findings {
        let place = match f.line {
            Some(line) => format!("{}:{line}", f.path),
            None => f.path.clone(),
        };
        let level = if f.severity == Severity::Error {
            "error"
        } else {
            "warning"
        };
        println!("{place}: {level}: {}", f.message);
    }
}

/// `{"findings": [the listing's findings], "errors": N, "warnings": M}`.
pub fn findings_json(findings: &[FindingView], errors: usize) {
    let out = json!({"findings": findings, "errors": errors, "warnings": findings.len() - errors});
    println!("{}", pretty(&out));
}

/// One of the user's keys, as `keyrack keys` and the rotation plan show it.
pub fn key_line(key: &KeyInfo) -> String {
    let day = |text: &str| text.get(..10).unwrap_or(text).to_owned();
    let place = [&key.last_used_service, &key.last_used_region]
        .iter()
        .filter_map(|p| p.as_deref())
        .collect::<Vec<_>>()
        .join(", ");
    let used = match (&key.last_used, place.is_empty()) {
        (Some(date), false) => format!("last used {} ({place})", day(date)),
        (Some(date), true) => format!("last used {}", day(date)),
        (None, _) => "never used".to_owned(),
    };
    let held = if key.profiles.is_empty() {
        "in no profile".to_owned()
    } else {
        let quoted: Vec<String> = key.profiles.iter().map(|p| format!("'{p}'")).collect();
        format!("in {}", quoted.join(", "))
    };
    format!(
        "{}  {:<8}  created {} ({} days ago), {used}, {held}",
        key.access_key_id,
        key.status.to_string(),
        day(&key.created),
        key.age_days
    )
}

/// The sessions kept, a line each, or the engine's view.
pub fn sessions(sessions: &[keyrack::rack::SessionView], json: bool) {
    if json {
        println!("{}", pretty(&sessions));
        return;
    }
    if sessions.is_empty() {
        println!("no session is kept for these files");
    }
    for s in sessions {
        println!("{}", session_line(s));
    }
}

/// `admin  arn:aws:iam::1:role/admin, MFA arn:aws:iam::1:mfa/alice  42 min left`, or for a key's
/// MFA session `base  MFA arn:aws:iam::1:mfa/alice, in the keychain  42 min left`.
pub fn session_line(s: &keyrack::rack::SessionView) -> String {
    let device = s.mfa_serial.as_deref().map(|d| format!("MFA {d}"));
    let what = match (&s.role_arn, device) {
        (Some(role), Some(device)) => format!("{role}, {device}"),
        (Some(role), None) => role.clone(),
        (None, Some(device)) => format!("{device}, in the keychain"),
        (None, None) => String::new(),
    };
    let left = if s.minutes_left > 0 {
        format!("{} min left", s.minutes_left)
    } else {
        "expired".to_owned()
    };
    format!("{}  {what}  {left}", s.profile)
}

/// What `keyrack sso populate` adds, keeps, skips and (with `prune`) removes; `done`: it was
/// written, else what would be.
pub fn populate_plan(plan: &keyrack::sso_profiles::PopulatePlan, prune: bool, done: bool) {
    let (add, remove) = if done {
        ("added", "removed")
    } else {
        ("would add", "would remove")
    };
    for p in &plan.add {
        let a = &p.assignment;
        println!(
            "{add} profile {} (role {} in {} {}, region {})",
            p.name, a.role_name, a.account_name, a.account_id, plan.region
        );
    }
    for name in &plan.present {
        println!("already there: profile {name}");
    }
    for why in &plan.skipped {
        println!("skipped {why}");
    }
    for name in &plan.prune {
        if prune {
            println!(
                "{remove} profile {name} (generated by keyrack; its role is no longer assigned)"
            );
        } else {
            println!("no longer assigned: profile {name} (add --prune to remove it)");
        }
    }
    if plan.add.is_empty() && (plan.prune.is_empty() || !prune) {
        println!("nothing to change for sso-session {}", plan.sso_session);
    } else if !done {
        println!("nothing was changed; add --yes to write this");
    }
}

/// The engine's JSON, indented.
pub fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into())
}

/// `credential-process`: the contract's JSON on stdout, or one line on stderr (which the AWS
/// CLI shows as is: never a secret there).
/// `asked`: someone could be asked for an MFA code (a prompt program, the app's window, the
/// terminal), so a missing code was declined, not impossible to ask for.
pub fn credential_process(
    answer: Result<ProcessCredentials, Error>,
    profile: &str,
    asked: bool,
) -> ExitCode {
    let credentials = match answer {
        Ok(credentials) => credentials,
        Err(error) if error.code == "needs_mfa" && asked => {
            eprintln!(
                "keyrack: profile '{profile}' needs an MFA code and none was given (the question \
                 was cancelled or timed out); run the command again and enter the code, or run \
                 `keyrack mfa login {profile}` in a terminal first"
            );
            return ExitCode::FAILURE;
        }
        // What to do, in one line, where nobody could be asked (no display, no terminal).
        Err(error) if error.code == "needs_mfa" => {
            eprintln!(
                "keyrack: profile '{profile}' needs an MFA code and there is no one to ask here \
                 (no display for the keyrack app, no terminal, no {}): run `keyrack mfa login \
                 {profile}` in a terminal, then try again",
                crate::askpass::ASKPASS
            );
            return ExitCode::FAILURE;
        }
        Err(error) => {
            eprintln!("keyrack: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(credentials.to_json_line().as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("keyrack: could not write the credentials to standard output: {error}");
            ExitCode::FAILURE
        }
    }
}

/// How a command that can print JSON says its human lines: on stdout, or on stderr with
/// `--json`, whose final object is then the only thing on stdout.
pub fn say_to(json: bool) -> impl Fn(&str) + Copy + Send {
    move |line: &str| {
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
}
