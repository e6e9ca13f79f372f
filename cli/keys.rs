//! `keyrack keys`: the access keys of a profile's IAM user, their age, last use and holders.

use std::io::IsTerminal;
use std::process::ExitCode;

use keyrack::rotation::{OtherKeyChange, UserKeys};
use keyrack::{Error, Rack};

use crate::print::pretty;

/// Lists the keys of `profile`'s user as text or as the engine's view, after making `change`
/// to another of its keys (a deletion is confirmed on the terminal unless `yes`). On failure:
/// exit status 1, one line on stderr (and with `--json` the engine's error object on stdout).
pub fn run(
    rack: &Rack,
    profile: &str,
    change: Option<(String, OtherKeyChange)>,
    yes: bool,
    json: bool,
) -> Result<ExitCode, Error> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| {
        Error::new(
            "internal",
            format!("could not start the async runtime: {e}"),
        )
    })?;
    if let Some((key, OtherKeyChange::Delete)) = &change {
        if !yes && !confirmed(key)? {
            eprintln!("keyrack: nothing was changed");
            return Ok(ExitCode::FAILURE);
        }
    }
    let prompt = Some(crate::secret_input::terminal_mfa_prompt());
    let answer = match &change {
        Some((key, change)) => {
            runtime.block_on(rack.change_other_key(profile, key, *change, prompt))
        }
        None => runtime.block_on(rack.user_keys(profile, prompt)),
    };
    let user_keys = match answer {
        Ok(user_keys) => user_keys,
        Err(error) => {
            if json {
                println!(
                    "{}",
                    pretty(&serde_json::json!({"profile": profile, "error": error}))
                );
            }
            eprintln!("keyrack: {}: {error}", error.code);
            return Ok(ExitCode::FAILURE);
        }
    };
    if let (Some((key, change)), false) = (&change, json) {
        match change {
            OtherKeyChange::MakeInactive => println!("made {key} Inactive"),
            OtherKeyChange::Delete => println!("deleted {key}"),
        }
    }
    if json {
        println!("{}", pretty(&user_keys));
    } else {
        print_keys(&user_keys);
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal whether `key` may be deleted; only "y" or "yes" goes ahead. No terminal:
/// refused, naming `--yes`.
fn confirmed(key: &str) -> Result<bool, Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::new(
            "needs_confirmation",
            format!(
                "deleting {key} needs a confirmation and there is no terminal to ask on; add \
                 --yes to delete it without asking (nothing was changed)"
            ),
        ));
    }
    crate::confirm::confirmed(&format!(
        "Delete the access key {key} for good? Whatever still uses it stops working."
    ))
    .map_err(|e| {
        Error::new(
            "internal",
            format!("could not read the answer: {e}; nothing was changed"),
        )
    })
}

fn print_keys(user_keys: &UserKeys) {
    println!("user {} ({})", user_keys.user, user_keys.arn);
    if user_keys.keys.is_empty() {
        println!("no access keys");
    }
    for key in &user_keys.keys {
        println!("{}", crate::print::key_line(key));
    }
}
