//! `keyrack vault move | restore | list | forget`, and the keychain side of `rename`, `copy` and
//! `delete` for profiles whose key is in the keychain. The work is in `keyrack::keychain::vault`; this
//! module opens the keychain and words the results.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::{json, Value as Json};

use keyrack::files::{AwsFiles, FileKind};
use keyrack::keychain::places::{EntryOwner, SecretStore};
use keyrack::keychain::vault::{self, VaultOutcome};
use keyrack::keychain::{Keychain, SERVICE};

#[derive(Subcommand)]
pub enum VaultCommand {
    /// Move a profile's access key from the files into the OS keychain; the profile then gets it
    /// through `credential_process`, so every AWS tool keeps working.
    Move { profile: String },
    /// Put a profile's access key back into the credentials file and delete its keychain entry.
    Restore { profile: String },
    /// Where each profile's secret lives: file, keychain, elsewhere (role, SSO, another
    /// credential_process) or none; and the keychain entries no profile of these files uses.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a keychain entry that no profile of these files uses (as `vault list` names it):
    /// one left behind, or one from before entries were per file set that no file set needs.
    Forget { account: String },
}

pub fn run(command: VaultCommand, files: &mut AwsFiles) -> Result<ExitCode, String> {
    match command {
        VaultCommand::Move { profile } => {
            let keychain = open()?;
            let program = std::env::current_exe().map_err(|e| {
                format!("cannot find the path of the keyrack program: {e}; nothing was changed")
            })?;
            let outcome = vault::move_to_keychain(files, &keychain, &profile, &program)
                .map_err(|e| e.to_string())?;
            let account = keyrack::keychain::places::entry_account(files, &profile);
            report(files, &outcome, &format!("moved the key of profile '{profile}' into the keychain (service '{SERVICE}', account '{account}')"));
            println!("the AWS tools now get it from: {}", program.display());
            Ok(ExitCode::SUCCESS)
        }
        VaultCommand::Restore { profile } => {
            let keychain = open()?;
            let outcome = vault::restore_from_keychain(files, &keychain, &profile)
                .map_err(|e| e.to_string())?;
            report(
                files,
                &outcome,
                &format!("put the key of profile '{profile}' back into the credentials file"),
            );
            Ok(ExitCode::SUCCESS)
        }
        VaultCommand::List { json } => list(files, json),
        VaultCommand::Forget { account } => {
            let keychain = open()?;
            if vault::forget_entry(files, &keychain, &account).map_err(|e| e.to_string())? {
                println!("removed the keychain entry '{account}'");
            } else {
                println!("the keychain has no entry '{account}' (service '{SERVICE}'): nothing to remove");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn open() -> Result<Keychain, String> {
    Keychain::open().map_err(|e| format!("{e}; nothing was changed"))
}

fn report(files: &AwsFiles, outcome: &VaultOutcome, done: &str) {
    let where_: Vec<String> = outcome
        .saved
        .iter()
        .map(|k| files.path(*k).display().to_string())
        .collect();
    if where_.is_empty() {
        println!("{done} (the files needed no change)");
    } else {
        println!("{done}; saved {}", where_.join(" and "));
    }
    if let Some(account) = &outcome.removed_entry {
        println!("removed the keychain entry '{account}'");
    }
    for warning in &outcome.warnings {
        eprintln!("keyrack: warning: {warning}");
    }
}

fn list(files: &mut AwsFiles, json: bool) -> Result<ExitCode, String> {
    // Without a keychain the list still says where each secret lives, from the files alone.
    let listed = Keychain::open().and_then(|k| {
        // Listing uses every entry of the files: legacy ones are migrated first.
        match vault::migrate_legacy_entries(files, &k) {
            Ok(migration) => migration.notes().into_iter().chain(migration.warnings).for_each(|w| eprintln!("keyrack: warning: {w}")),
            Err(e) => eprintln!("keyrack: warning: the profiles that use keychain entries from before entries were per file set were not moved to entries of their own: {e}"),
        }
        keyrack::keychain::places::list(files, Some(&k))
    });
    let (listing, keychain_error) = match listed {
        Ok(listing) => (listing, None),
        Err(e) => (
            keyrack::keychain::places::list(files, None).map_err(|e| e.to_string())?,
            Some(e),
        ),
    };
    let set = keyrack::keychain::places::file_set(files);
    let in_keychain = listing
        .profiles
        .iter()
        .filter(|p| matches!(p.store, SecretStore::Keychain { .. }))
        .count();
    let missing: Vec<&str> = listing
        .profiles
        .iter()
        .filter(|p| p.entry_found == Some(false))
        .map(|p| p.profile.as_str())
        .collect();
    if json {
        let mut out = json!({
            "file_set": set,
            "profiles": listing.profiles,
            "unused_entries": listing.unused_entries,
            "other_file_set_entries": listing.other_file_set_entries,
            "legacy_entries": listing.legacy_entries,
        });
        if let Some(e) = &keychain_error {
            out["keychain_error"] = Json::String(e.to_string());
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
        );
    } else {
        let width = listing
            .profiles
            .iter()
            .map(|p| p.profile.chars().count())
            .max()
            .unwrap_or(0)
            .max(7);
        for place in &listing.profiles {
            let note = match (&place.store, place.entry_found) {
                (SecretStore::File, _) => {
                    format!("in {}", files.path(FileKind::Credentials).display())
                }
                (SecretStore::Keychain { account }, Some(false)) => {
                    format!("entry '{account}' is MISSING from the keychain")
                }
                (SecretStore::Keychain { account }, _) => {
                    match keyrack::keychain::places::entry_owner(account, &set) {
                        EntryOwner::ThisFileSet
                            if *account == keyrack::keychain::account(&set, &place.profile) =>
                        {
                            String::new()
                        }
                        EntryOwner::ThisFileSet => format!("entry '{account}'"),
                        EntryOwner::OtherFileSet => format!(
                            "entry '{account}' of another file set (read, never removed from here)"
                        ),
                        EntryOwner::Legacy => {
                            format!("entry '{account}' from before entries were per file set")
                        }
                    }
                }
                (SecretStore::Elsewhere, _) => "role, SSO or another credential_process".into(),
                _ => String::new(),
            };
            println!(
                "{:<width$}  {:<9}  {note}",
                place.profile,
                place.store.name()
            );
        }
        if !listing.unused_entries.is_empty() {
            println!(
                "keychain entries of these files that no profile uses (remove one with `keyrack vault forget ENTRY`): {}",
                listing.unused_entries.join(", ")
            );
        }
        if !listing.other_file_set_entries.is_empty() {
            println!(
                "keychain entries of other file sets (their label in your keyring manager names their config file): {}",
                listing.other_file_set_entries.join(", ")
            );
        }
        if !listing.legacy_entries.is_empty() {
            println!(
                "legacy keychain entries, from before entries were per file set (another file set may still use them; \
                 running `keyrack vault list` there moves its profiles to entries of their own; once none uses one, \
                 remove it with `keyrack vault forget ENTRY`): {}",
                listing.legacy_entries.join(", ")
            );
        }
    }
    if let (Some(e), true) = (&keychain_error, in_keychain > 0) {
        eprintln!("keyrack: {in_keychain} profile(s) keep their key in the keychain, which cannot be reached: {e}");
        return Ok(ExitCode::FAILURE);
    }
    if !missing.is_empty() {
        eprintln!(
            "keyrack: the keychain has no entry for profile(s) {}: the AWS tools cannot use them",
            missing.join(", ")
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// `rename` of a keychain profile: its entry follows.
pub fn rename(files: &mut AwsFiles, old: &str, new: &str) -> Result<ExitCode, String> {
    let keychain = open()?;
    let outcome = vault::rename(files, &keychain, old, new).map_err(|e| e.to_string())?;
    let account = keyrack::keychain::places::entry_account(files, new);
    report(files, &outcome, &format!("renamed profile '{old}' to '{new}'; its key was copied to the keychain entry '{account}'"));
    Ok(ExitCode::SUCCESS)
}

/// `copy` of a keychain profile: the copy gets its own entry.
pub fn copy(files: &mut AwsFiles, source: &str, destination: &str) -> Result<ExitCode, String> {
    let keychain = open()?;
    let outcome = vault::copy(files, &keychain, source, destination).map_err(|e| e.to_string())?;
    let account = keyrack::keychain::places::entry_account(files, destination);
    report(files, &outcome, &format!("copied profile '{source}' to '{destination}'; its key was copied to the keychain entry '{account}'"));
    Ok(ExitCode::SUCCESS)
}

/// `delete --yes` of a keychain profile: the files, then the entry.
pub fn delete(files: &mut AwsFiles, profile: &str) -> Result<ExitCode, String> {
    let keychain = open()?;
    let outcome = vault::delete(files, &keychain, profile).map_err(|e| e.to_string())?;
    report(files, &outcome, &format!("deleted profile '{profile}'"));
    Ok(ExitCode::SUCCESS)
}
