//! `keyrack keys`: the access keys of a profile's IAM user, their age, last use and holders.

use std::process::ExitCode;

use keyrack::rotation::UserKeys;
use keyrack::{Error, Rack};

use crate::print::pretty;

/// Lists the keys of `profile`'s user as text or as the engine's view. On failure: exit status
/// 1, one line on stderr (and with `--json` the engine's error object on stdout).
pub fn run(rack: &Rack, profile: &str, json: bool) -> Result<ExitCode, Error> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| {
        Error::new(
            "internal",
            format!("could not start the async runtime: {e}"),
        )
    })?;
    let user_keys = match runtime
        .block_on(rack.user_keys(profile, Some(crate::secret_input::terminal_mfa_prompt())))
    {
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
    if json {
        println!("{}", pretty(&user_keys));
    } else {
        print_keys(&user_keys);
    }
    Ok(ExitCode::SUCCESS)
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
