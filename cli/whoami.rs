//! `keyrack whoami`: who one, several or every profile is, asked of AWS STS all at once.

use std::process::ExitCode;

use serde_json::{json, Value as Json};

use keyrack::files::AwsFiles;
use keyrack::identity::{check_all, IdentityError, ProfileIdentity, Session, DEFAULT_CONCURRENCY};
use keyrack::keychain::places::{secret_store, SecretStore};
use keyrack::profiles::default_profile_name;

/// Checks the chosen profiles (every profile with `all`; none named: the one the AWS CLI would
/// use, see [`default_profile_name`]) and prints one line, or one JSON object, per profile in the order asked (file
/// order for `all`), with where its secret lives. Exit status 1 when any profile failed. With
/// `all`, a profile that holds only settings (region, output) is shown as such and is no failure;
/// asked for by name, it is one.
pub fn run(files: &AwsFiles, named: &[String], all: bool, json: bool) -> Result<ExitCode, String> {
    let session = Session::from_files(files);
    let profiles = chosen_profiles(&session, named, all);
    if let Some(rejection) = session.reading().rejection() {
        eprintln!(
            "keyrack: warning: the AWS CLI rejects these files ({}); run 'keyrack check'",
            rejection.message
        );
    }
    if profiles.is_empty() {
        eprintln!("keyrack: there are no profiles in the config or credentials file");
    }
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    let outcomes = runtime.block_on(check_all(&session, &profiles, DEFAULT_CONCURRENCY, |_| {}));

    if json {
        let list: Vec<Json> = outcomes
            .iter()
            .map(|o| outcome_json(o, store_of(&session, &o.profile), all))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&list).map_err(|e| e.to_string())?
        );
    } else {
        print_lines(&session, &outcomes, all);
    }
    let failed = outcomes.iter().filter(|o| is_failure(o, all)).count();
    if failed == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "keyrack: {failed} of {} profile(s) could not be checked",
        outcomes.len()
    );
    Ok(ExitCode::FAILURE)
}

/// Whether `outcome` counts as a failure: a settings-only profile does not when every profile
/// was asked for.
fn is_failure(outcome: &ProfileIdentity, all: bool) -> bool {
    match &outcome.result {
        Ok(_) => false,
        Err(error) => !(all && error.is_settings_only()),
    }
}

fn chosen_profiles(session: &Session, named: &[String], all: bool) -> Vec<String> {
    if all {
        return session.reading().profiles.keys().cloned().collect();
    }
    if named.is_empty() {
        return vec![default_profile_name(|name| std::env::var(name).ok())];
    }
    let mut unique: Vec<String> = Vec::new();
    for name in named {
        if !unique.contains(name) {
            unique.push(name.clone());
        }
    }
    unique
}

/// Where a profile's secret lives (`None`: no such profile).
fn store_of(session: &Session, profile: &str) -> Option<SecretStore> {
    session.reading().profiles.get(profile).map(secret_store)
}

/// `{"profile", "arn", "account", "user_id"}` or `{"profile", "error", "message"}`; a
/// settings-only profile has `"settings_only": true`, and `"error"` only when it is a failure.
fn outcome_json(outcome: &ProfileIdentity, store: Option<SecretStore>, all: bool) -> Json {
    let mut object = match &outcome.result {
        Err(error) if error.is_settings_only() => {
            let mut object = json!({
                "profile": outcome.profile,
                "settings_only": true,
                "message": error.to_string(),
            });
            if is_failure(outcome, all) {
                object["error"] = json!(error.code());
            }
            object
        }
        Ok(identity) => json!({
            "profile": outcome.profile,
            "arn": identity.arn,
            "account": identity.account,
            "user_id": identity.user_id,
        }),
        Err(error) => json!({
            "profile": outcome.profile,
            "error": error.code(),
            "message": error.to_string(),
        }),
    };
    if let Some(store) = store {
        object["secret_store"] = json!(store.name());
    }
    object
}

fn print_lines(session: &Session, outcomes: &[ProfileIdentity], all: bool) {
    let width = outcomes
        .iter()
        .map(|o| o.profile.chars().count())
        .max()
        .unwrap_or(0);
    for outcome in outcomes {
        let profile = &outcome.profile;
        match &outcome.result {
            Ok(identity) => {
                let keychain = matches!(
                    store_of(session, profile),
                    Some(SecretStore::Keychain { .. })
                );
                let store = if keychain {
                    ", key in the OS keychain"
                } else {
                    ""
                };
                println!(
                    "{profile:<width$}  {}  (account {}{store})",
                    identity.arn, identity.account
                )
            }
            Err(IdentityError::SettingsOnly { settings, .. }) if !is_failure(outcome, all) => {
                println!(
                    "{profile:<width$}  settings only ({}), no credentials of its own",
                    settings.join(", ")
                )
            }
            Err(error) => println!("{profile:<width$}  {}: {error}", error.code()),
        }
    }
}
