//! `keyrack vault move | restore | list | forget`: the engine does the work
//! ([`Rack::move_to_keychain`] and friends); this module words the results.

use std::process::ExitCode;

use clap::Subcommand;

use keyrack::files::FileKind;
use keyrack::keychain::places::{entry_owner, EntryOwner, SecretStore};
use keyrack::keychain::SERVICE;
use keyrack::{Error, Rack};

use crate::print::{applied, pretty};

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

pub fn run(rack: &Rack, command: VaultCommand) -> Result<ExitCode, Error> {
    match command {
        VaultCommand::Move { profile } => {
            let program = std::env::current_exe().map_err(|e| {
                Error::new(
                    "no_cli",
                    format!(
                        "cannot find the path of the keyrack program: {e}; nothing was changed"
                    ),
                )
            })?;
            let outcome = rack.move_to_keychain(&profile, &program)?;
            let account = rack.entry_account(&profile)?;
            applied(rack, &format!("moved the key of profile '{profile}' into the keychain (service '{SERVICE}', account '{account}')"), &outcome);
            println!("the AWS tools now get it from: {}", program.display());
            Ok(ExitCode::SUCCESS)
        }
        VaultCommand::Restore { profile } => {
            let outcome = rack.restore_from_keychain(&profile)?;
            applied(
                rack,
                &format!(
                    "put the key of profile '{profile}' back into the credentials file; saved"
                ),
                &outcome,
            );
            Ok(ExitCode::SUCCESS)
        }
        VaultCommand::List { json } => list(rack, json),
        VaultCommand::Forget { account } => {
            if rack.forget_entry(&account)? {
                println!("removed the keychain entry '{account}'");
            } else {
                println!("the keychain has no entry '{account}' (service '{SERVICE}'): nothing to remove");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list(rack: &Rack, json: bool) -> Result<ExitCode, Error> {
    let view = rack.vault_list()?;
    for note in &view.notes {
        eprintln!("keyrack: warning: {note}");
    }
    let listing = &view.listing;
    let set = &view.file_set;
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
        println!("{}", pretty(&view));
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
                    format!("in {}", rack.path(FileKind::Credentials).display())
                }
                (SecretStore::Keychain { account }, Some(false)) => {
                    format!("entry '{account}' is MISSING from the keychain")
                }
                (SecretStore::Keychain { account }, _) => match entry_owner(account, set) {
                    EntryOwner::ThisFileSet
                        if *account == keyrack::keychain::account(set, &place.profile) =>
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
                },
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
    if let (Some(e), true) = (&view.keychain_error, in_keychain > 0) {
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
