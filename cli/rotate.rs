//! `keyrack rotate`: show the plan, ask, then replace a profile's access key step by step.

use crate::secret_input::terminal_mfa_prompt;
use std::io::IsTerminal;
use std::process::ExitCode;

use serde_json::{json, Value as Json};

use keyrack::files::{FileKind, FilePaths};
use keyrack::keychain::command::quote;
use keyrack::rotation::{
    Course, OldKeyFate, ProfileSection, Progress, RotateOptions, RotationPlan, RotationReport,
};
use keyrack::{Error, Rack};

/// What the user asked on the command line.
pub struct Choices {
    pub yes: bool,
    pub keep_old: bool,
    pub delete_inactive: bool,
    pub keep_new_on_stop: bool,
    pub json: bool,
}

/// Plans the rotation of `profile`, shows the plan and asks (unless `--yes`), then rotates,
/// printing each step. Human text goes to stdout, or to stderr with `--json`, whose final
/// object is the only thing on stdout. Never prints a secret.
pub fn run(rack: &Rack, profile: &str, choices: Choices) -> Result<ExitCode, String> {
    if !choices.yes && !std::io::stdin().is_terminal() {
        return Err(
            "rotating a key needs a confirmation and there is no terminal to ask on; add --yes \
             to rotate without asking (nothing was changed)"
                .into(),
        );
    }
    let paths = rack.paths();
    let options = RotateOptions {
        keep_old: choices.keep_old,
        delete_inactive: choices.delete_inactive,
        keep_new_on_stop: choices.keep_new_on_stop,
        old_key_deleted: false,
    };
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    let json = choices.json;
    let say = crate::print::say_to(json);

    let plan =
        match runtime.block_on(rack.rotation_plan(profile, options, Some(terminal_mfa_prompt()))) {
            Ok(plan) => plan,
            Err(error) => return Ok(failed(&error, profile, &choices)),
        };
    for line in plan_lines(&plan, paths) {
        say(&line);
    }
    if !choices.yes && !confirmed()? {
        eprintln!("keyrack: the rotation was cancelled; nothing was changed");
        return Ok(ExitCode::FAILURE);
    }
    let result = runtime.block_on(rack.rotate(
        &plan,
        Some(terminal_mfa_prompt()),
        |progress: &Progress| say(&progress.to_string()),
    ));
    match result {
        Ok(report) => {
            if json {
                println!("{}", pretty(&json!(report)));
            } else {
                say(&summary(&report, "Rotated"));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => Ok(failed(&error, profile, &choices)),
    }
}

/// Asks on the terminal whether to rotate now.
fn confirmed() -> Result<bool, String> {
    crate::confirm::confirmed("Rotate now?")
        .map_err(|e| format!("could not read the answer: {e}; nothing was changed"))
}

/// One line on stderr (and with `--json` an object on stdout); exit status 1. A refusal that a
/// confirmation lifts says how to give it on the command line.
fn failed(error: &Error, profile: &str, choices: &Choices) -> ExitCode {
    print_failure(error, profile, choices.json, choices.keep_old)
}

/// `error` on stderr (and as JSON on stdout with `json`), with the command that lifts it.
pub(crate) fn print_failure(error: &Error, profile: &str, json: bool, keep_old: bool) -> ExitCode {
    if json {
        println!("{}", pretty(&json!({ "error": error })));
    }
    let name = quote(profile).unwrap_or_else(|_| profile.to_string());
    let other_key = error.details.get("other_key_id").and_then(|k| k.as_str());
    let how = match (error.code, other_key) {
        ("inactive_key_needs_confirmation", _) => {
            let keep_old = if keep_old { " --keep-old" } else { "" };
            format!(" (confirm with: keyrack rotate {name} --delete-inactive{keep_old})")
        }
        ("other_key_active", Some(key)) => {
            format!(" (make it Inactive with: keyrack keys {name} --make-inactive {key})")
        }
        _ => String::new(),
    };
    eprintln!("keyrack: {error}{how}");
    ExitCode::FAILURE
}

pub(crate) fn pretty(value: &Json) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

pub(crate) fn plan_lines(plan: &RotationPlan, paths: &FilePaths) -> Vec<String> {
    let mut lines = vec![match &plan.course {
        Course::Replace { new_key_id } => format!(
            "Replacing the access key {} of profile '{}' with {new_key_id}, which works and is \
             IAM user {}'s ({}), like the old key",
            plan.old_key_id, plan.profile, plan.user, plan.arn
        ),
        _ => format!(
            "Rotating the access key {} of profile '{}' (IAM user {}, {})",
            plan.old_key_id, plan.profile, plan.user, plan.arn
        ),
    }];
    if plan.old_key_unproven {
        lines.push(format!(
            "IAM no longer shows the key {}: only your word says it was {}'s. Replace it only if \
             it was.",
            plan.old_key_id, plan.user
        ));
    }
    if let (Some(interrupted), Course::Replace { .. }) = (&plan.interrupted, &plan.course) {
        lines.push(format!(
            "A replacement started {} was interrupted: this run finishes it.",
            interrupted.started_at
        ));
    } else if let Some(interrupted) = &plan.interrupted {
        let when = &interrupted.started_at;
        lines.push(match &plan.course {
            Course::FinishInterrupted { new_key_id } => format!(
                "A rotation started {when} was interrupted after writing its new key {new_key_id} \
                 to the files: this run finishes it."
            ),
            _ => format!(
                "A rotation started {when} was interrupted before its new key reached the files: \
                 what it left is deleted, then the rotation starts again."
            ),
        });
    }
    lines.push(format!("Keys of {}:", plan.user));
    for key in &plan.keys {
        lines.push(format!("  {}", crate::print::key_line(key)));
    }
    if plan.profiles.is_empty() {
        lines.push("Every profile holds the new key already.".into());
    } else {
        let sections: Vec<String> = plan
            .profiles
            .iter()
            .map(|s| section_name(s, paths))
            .collect();
        lines.push(format!(
            "Profiles that get the new key: {}",
            sections.join(", ")
        ));
    }
    lines.push("Steps:".into());
    for (number, step) in plan.steps.iter().enumerate() {
        lines.push(format!("  {}. {}", number + 1, step.label));
    }
    if plan.old_key == OldKeyFate::Inactive {
        lines.push(format!(
            "The old key {} is kept, Inactive (switch it back on in the IAM console if needed).",
            plan.old_key_id
        ));
    }
    lines
}

fn section_name(section: &ProfileSection, paths: &FilePaths) -> String {
    if let Some(account) = &section.keychain {
        return format!("'{}' (keychain entry '{account}')", section.profile);
    }
    format!(
        "'{}' ({}:{})",
        section.profile,
        file_path(section.file, paths),
        section.line
    )
}

fn file_path(kind: FileKind, paths: &FilePaths) -> String {
    match kind {
        FileKind::Config => paths.config.display().to_string(),
        FileKind::Credentials => paths.credentials.display().to_string(),
    }
}

pub(crate) fn summary(report: &RotationReport, verb: &str) -> String {
    let old = match report.old_key {
        OldKeyFate::Deleted => "deleted",
        OldKeyFate::Inactive => "kept, Inactive",
    };
    let mut names: Vec<&str> = Vec::new();
    for section in &report.profiles_updated {
        if !names.contains(&section.profile.as_str()) {
            names.push(&section.profile);
        }
    }
    let holders = if names.is_empty() {
        String::new()
    } else {
        format!(" (now in '{}')", names.join("', '"))
    };
    format!(
        "{}: profile '{}' uses the new key {}{holders}; the old key {} is {old}.",
        verb, report.profile, report.new_key_id, report.old_key_id
    )
}
