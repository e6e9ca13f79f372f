//! `keyrack replace`: a key made in the IAM console takes the place of a key whose secret is lost.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;

use keyrack::aws::Credentials;
use keyrack::rotation::{Progress, RotateOptions};
use keyrack::Rack;

use crate::rotate::{plan_lines, pretty, print_failure, summary};
use crate::secret_input::{terminal_mfa_prompt, SecretReader, Source};

/// What the user asked on the command line.
#[derive(clap::Args)]
pub struct Choices {
    /// The new key's .csv as the console downloads it (Access key ID,Secret access key).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["key_id", "secret"])]
    pub csv: Option<PathBuf>,
    /// The new key's id (its secret is asked for without echo, or read from stdin with
    /// `--secret -`). Without it or --csv: where and how to make the new key.
    #[arg(long, value_name = "AKIA...")]
    pub key_id: Option<String>,
    /// `-`: read the new key's secret from standard input.
    #[arg(long, value_name = "-", allow_hyphen_values = true)]
    pub secret: Option<String>,
    /// Replace without showing the plan and asking first.
    #[arg(long)]
    pub yes: bool,
    /// Keep the old key, Inactive, instead of deleting it.
    #[arg(long)]
    pub keep_old: bool,
    /// Delete the .csv afterwards (it holds the secret in plaintext), once the key is saved.
    #[arg(long, requires = "csv")]
    pub delete_csv: bool,
    /// You deleted the old key in the console (to make room for the new one); the plan then
    /// says that only your word ties it to the new key's user.
    #[arg(long)]
    pub old_key_deleted: bool,
    #[arg(long)]
    pub json: bool,
}

/// Reads the new key (from the .csv, or its id and a secret asked without echo or piped in),
/// plans the replacement (the new key proven to be the same user's), shows the plan and asks
/// (unless `--yes`), then runs it step by step. Never prints a secret.
pub fn run(rack: &Rack, profile: &str, choices: Choices) -> Result<ExitCode, String> {
    let json = choices.json;
    let say = crate::print::say_to(json);
    if choices.csv.is_none() && choices.key_id.is_none() {
        let runtime = tokio::runtime::Runtime::new()
            .map_err(|e| format!("could not start the async runtime: {e}"))?;
        let guide = runtime
            .block_on(rack.replacement_guide(profile))
            .map_err(|e| e.to_string())?;
        if json {
            println!("{}", pretty(&json!(guide)));
            return Ok(ExitCode::SUCCESS);
        }
        say(&format!(
            "To replace the key {} of profile '{}' (held by '{}'), make a new key in the IAM \
             console ({}):",
            guide.old_key_id,
            guide.profile,
            guide.holders.join("', '"),
            guide.console_url
        ));
        for (number, step) in guide.steps.iter().enumerate() {
            say(&format!("  {}. {step}", number + 1));
        }
        if let Some(seen) = guide.seen_from.as_ref().filter(|_| guide.can_make_room) {
            say(&format!(
                "To make room: keyrack keys {} --delete {}",
                seen.profile, guide.old_key_id
            ));
        }
        say(&format!(
            "Then: keyrack replace {profile} --csv FILE (or --key-id AKIA... to type the secret)"
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let new = match new_key(rack, profile, &choices) {
        Ok(new) => new,
        Err(error) => return Ok(print_failure(&error, profile, json, choices.keep_old)),
    };
    let asks = !choices.yes;
    if asks && (!std::io::stdin().is_terminal() || choices.secret.is_some()) {
        let why = if choices.secret.is_some() {
            "standard input holds the secret"
        } else {
            "standard input is not a terminal"
        };
        return Err(format!(
            "replacing a key needs a confirmation and there is nothing to ask on ({why}); add \
             --yes to replace it without asking (nothing was written)"
        ));
    }
    let options = RotateOptions {
        keep_old: choices.keep_old,
        old_key_deleted: choices.old_key_deleted,
        ..RotateOptions::default()
    };
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    let prompt = || Some(terminal_mfa_prompt());
    let plan = match runtime.block_on(rack.replacement_plan(profile, &new, options, prompt())) {
        Ok(plan) => plan,
        Err(error) => return Ok(print_failure(&error, profile, json, choices.keep_old)),
    };
    for line in plan_lines(&plan, rack.paths()) {
        say(&line);
    }
    if asks && !crate::confirm::confirmed("Replace now?").map_err(|e| e.to_string())? {
        eprintln!("keyrack: the replacement was cancelled; nothing was written");
        return Ok(ExitCode::FAILURE);
    }
    let report =
        match runtime.block_on(rack.replace(&plan, &new, prompt(), |progress: &Progress| {
            say(&progress.to_string())
        })) {
            Ok(report) => report,
            Err(error) => return Ok(print_failure(&error, profile, json, choices.keep_old)),
        };
    let deleted = match (&choices.csv, choices.delete_csv) {
        (Some(csv), true) => Some((csv, rack.delete_key_file(csv))),
        _ => None,
    };
    if json {
        println!("{}", pretty(&json!(report)));
    } else {
        say(&summary(&report, "Replaced"));
        match (&deleted, &choices.csv) {
            (Some((csv, Ok(()))), _) => say(&format!("deleted {}", csv.display())),
            (Some((_, Err(_))), _) => {}
            (None, Some(csv)) => say(&format!(
                "{} still holds the secret in plaintext: delete it (or run again with \
                 --delete-csv)",
                csv.display()
            )),
            (None, None) => {}
        }
    }
    if let Some((_, Err(error))) = deleted {
        eprintln!("keyrack: {error}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The new key: the .csv's one key, or `--key-id` with its secret from the terminal or stdin.
fn new_key(rack: &Rack, profile: &str, choices: &Choices) -> Result<Credentials, keyrack::Error> {
    if let Some(csv) = &choices.csv {
        return rack.key_of_file(csv);
    }
    let key_id = choices.key_id.clone().unwrap_or_default();
    let example = || format!("keyrack replace {profile} --key-id {key_id} --secret - --yes");
    let refused =
        |e: crate::secret_input::SecretInputError| keyrack::Error::new("refused", e.to_string());
    let source =
        Source::of("aws_secret_access_key", choices.secret.as_deref(), example).map_err(refused)?;
    let secret = SecretReader::default()
        .read(
            source,
            "aws_secret_access_key",
            &format!("the new key {key_id}"),
            example,
        )
        .map_err(refused)?;
    Ok(Credentials::new(key_id.trim(), secret, None))
}
