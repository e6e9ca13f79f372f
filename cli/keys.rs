//! `keyrack keys`: the access keys of a profile's IAM user, their age, last use and holders.

use std::process::ExitCode;

use serde_json::{json, Value as Json};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use keyrack::files::AwsFiles;
use keyrack::identity::Session;
use keyrack::rotation::user_keys::{list_user_keys, AccessKey, UserKeys};

/// Lists the keys of `profile`'s user as text or JSON. On failure: exit status 1, one line on
/// stderr (and with `--json` an `{"profile", "error", "message"}` object on stdout).
pub fn run(files: &AwsFiles, profile: &str, json: bool) -> Result<ExitCode, String> {
    let session = Session::from_files(files);
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    let listed = runtime.block_on(list_user_keys(&session, files, profile));
    let user_keys = match listed {
        Ok(user_keys) => user_keys,
        Err(error) => {
            if json {
                let failure = json!({"profile": profile, "error": error.code(), "message": error.to_string()});
                println!(
                    "{}",
                    serde_json::to_string_pretty(&failure).map_err(|e| e.to_string())?
                );
            }
            eprintln!("keyrack: {}: {error}", error.code());
            return Ok(ExitCode::FAILURE);
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&keys_json(&user_keys)).map_err(|e| e.to_string())?
        );
    } else {
        print_keys(&user_keys);
    }
    Ok(ExitCode::SUCCESS)
}

/// The distinct names of the profiles holding a key, in the order found.
fn holder_names(key: &AccessKey) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for holder in &key.holders {
        if !names.contains(&holder.profile.as_str()) {
            names.push(&holder.profile);
        }
    }
    names
}

fn timestamp(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_else(|_| time.to_string())
}

fn keys_json(user_keys: &UserKeys) -> Json {
    let keys: Vec<Json> = user_keys
        .keys
        .iter()
        .map(|key| {
            let last_used = key.last_used.as_ref().map(|used| {
                json!({"date": timestamp(used.date), "service": used.service, "region": used.region})
            });
            json!({
                "access_key_id": key.access_key_id,
                "status": key.status.as_str(),
                "created": timestamp(key.created),
                "age_days": key.age_days,
                "last_used": last_used,
                "profiles": holder_names(key),
            })
        })
        .collect();
    json!({"user": user_keys.user, "keys": keys})
}

fn print_keys(user_keys: &UserKeys) {
    println!("user {} ({})", user_keys.user, user_keys.arn);
    if user_keys.keys.is_empty() {
        println!("no access keys");
    }
    for key in &user_keys.keys {
        let last_used = match &key.last_used {
            Some(used) => format!(
                "last used {} {} {}",
                used.date.date(),
                used.service.as_deref().unwrap_or("-"),
                used.region.as_deref().unwrap_or("-")
            ),
            None => "never used".to_owned(),
        };
        let holders = holder_names(key);
        let holders = if holders.is_empty() {
            "no local profile".to_owned()
        } else {
            format!("in {}", holders.join(", "))
        };
        println!(
            "{}  {:<8}  created {} ({} days)  {last_used}  {holders}",
            key.access_key_id,
            key.status.as_str(),
            key.created.date(),
            key.age_days
        );
    }
}
