//! The `keyrack` command line: list, check and edit AWS profiles without damaging the files.

mod arguments;
mod credential_process;
mod keys;
mod rotate;
mod secret_input;
mod vault;
mod whoami;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand, ValueEnum};
use keyrack::files::check::{self, Severity};
use keyrack::files::edit::{EditError, EditOutcome, KeyPath, Section};
use keyrack::files::leftovers::{self, Cleaning};
use keyrack::files::model::{is_secret_key, profile_kind, MASK};
use keyrack::files::{AwsFiles, Dialect, FileKind, FilePaths, Problem, Reading, Settings, Value};
use keyrack::secret::Secret;
use secret_input::{SecretReader, Source};
use serde_json::{json, Map, Value as Json};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "keyrack",
    version,
    about = "Manage AWS profiles and access keys without damaging ~/.aws/config and ~/.aws/credentials"
)]
struct Cli {
    /// The config file (default: $AWS_CONFIG_FILE, else ~/.aws/config).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// The credentials file (default: $AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials).
    #[arg(long, global = true, value_name = "PATH")]
    credentials: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum As {
    Cli,
    Sdk,
}

#[derive(Subcommand)]
enum Command {
    /// List every profile from both files, merged as the AWS CLI (or the SDKs) read them.
    Profiles {
        #[arg(long)]
        json: bool,
        /// Whose reading to show: the AWS CLI's (default) or the AWS SDKs'.
        #[arg(long = "as", value_enum, default_value = "cli")]
        dialect: As,
    },
    /// Set a setting (KEY may be PARENT.SUB for a nested setting such as s3.max_concurrent_requests).
    /// A secret (aws_secret_access_key, aws_session_token, aws_security_token) is never given
    /// here: leave VALUE out to be asked for it without echo, or give `-` to pipe it in.
    Set {
        profile: String,
        key: String,
        value: Option<String>,
        /// Address an [sso-session NAME] section instead of a profile.
        #[arg(long)]
        sso_session: bool,
    },
    /// Remove a setting.
    Unset {
        profile: String,
        key: String,
        #[arg(long)]
        sso_session: bool,
    },
    /// Create a profile with optional KEY=VALUE settings. A secret is given as KEY=- (read from
    /// stdin) or as a bare KEY (asked for without echo), never as its value.
    Add {
        profile: String,
        settings: Vec<String>,
        #[arg(long)]
        sso_session: bool,
    },
    /// Copy a profile under a new name.
    Copy {
        source: String,
        destination: String,
        #[arg(long)]
        sso_session: bool,
    },
    /// Rename a profile in both files.
    Rename {
        old: String,
        new: String,
        #[arg(long)]
        sso_session: bool,
    },
    /// Delete a profile from both files (with the comments glued above it).
    Delete {
        profile: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        sso_session: bool,
    },
    /// Report everything wrong or risky in the files.
    Check {
        #[arg(long)]
        json: bool,
    },
    /// Remove the backups and temporary files keyrack left next to the files that keep secrets
    /// no longer in them (moved to the keychain, replaced or removed), and make private those
    /// that others can read: what `keyrack check` reports with "run `keyrack clean`".
    Clean,
    /// Who each profile is (ARN, account, user id), asked of AWS STS for all profiles at once.
    Whoami {
        /// The profiles to check (default: $AWS_DEFAULT_PROFILE, else $AWS_PROFILE, else default, as the AWS CLI picks).
        profiles: Vec<String>,
        /// Check every profile in the files.
        #[arg(long, conflicts_with = "profiles")]
        all: bool,
        /// Print a JSON array: one object per profile with its arn, account and user_id, or an
        /// error code and message, and where its secret lives (secret_store).
        #[arg(long)]
        json: bool,
    },
    /// The access keys of a profile's IAM user: status, age, last use, and the profiles that hold each.
    Keys {
        profile: String,
        /// Print JSON: the user and its keys.
        #[arg(long)]
        json: bool,
    },
    /// Replace a profile's access key with a new one in every profile that holds it, without
    /// ever leaving the files without a working key.
    Rotate {
        profile: String,
        /// Rotate without showing the plan and asking first.
        #[arg(long)]
        yes: bool,
        /// Keep the old key, Inactive, instead of deleting it.
        #[arg(long)]
        keep_old: bool,
        /// Allow deleting the user's other key to make room, if it is Inactive and no profile holds it.
        #[arg(long)]
        delete_inactive: bool,
        /// If the rotation must stop before the old key is retired (another program keeps
        /// writing the old key back), keep the new key for the next run instead of deleting it.
        #[arg(long)]
        keep_new_on_stop: bool,
        #[arg(long)]
        json: bool,
    },
    /// Keep profiles' access keys in the OS keychain instead of the credentials file.
    Vault {
        #[command(subcommand)]
        command: vault::VaultCommand,
    },
    /// Print a keychain-held key as credential_process JSON (what the AWS tools run after `vault move`).
    CredentialProcess {
        #[arg(long)]
        profile: String,
        /// The id of the file set whose entry it is (`vault move` writes it; lines from before
        /// entries were per file set have none and read the entry named by the profile alone).
        #[arg(long)]
        file_set: Option<String>,
    },
}

impl Command {
    /// The name of a command that writes the files (it holds their lock), `None` for the others.
    fn writer_name(&self) -> Option<&'static str> {
        match self {
            Command::Set { .. } => Some("set"),
            Command::Unset { .. } => Some("unset"),
            Command::Add { .. } => Some("add"),
            Command::Copy { .. } => Some("copy"),
            Command::Rename { .. } => Some("rename"),
            Command::Delete { yes: true, .. } => Some("delete"),
            Command::Vault { .. } => Some("vault"),
            // It reads the files to judge the backups that a save beside it may be replacing.
            Command::Clean => Some("clean"),
            _ => None,
        }
    }
}

/// A failure shown as one line on stderr.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

fn main() -> ExitCode {
    keyrack::hardening::harden_process();
    let cli: Cli = arguments::parse();
    match run(cli) {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("keyrack: {message}");
            ExitCode::FAILURE
        }
    }
}

fn section(name: &str, sso_session: bool) -> Section {
    if sso_session {
        Section::SsoSession(name.to_string())
    } else {
        Section::Profile(name.to_string())
    }
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    if let Command::CredentialProcess { profile, file_set } = &cli.command {
        // It runs before every AWS call a user makes: it reads no file.
        return Ok(credential_process::run(profile, file_set.as_deref()));
    }
    let mut paths = FilePaths::from_process_env();
    if let Some(p) = cli.config {
        paths.config = p;
    }
    if let Some(p) = cli.credentials {
        paths.credentials = p;
    }
    // Every command that writes the files holds the file set's lock from before it reads them
    // until it has saved, so two keyracks never race. A rotation takes it itself, around each
    // of its writes only: it waits minutes for AWS in between.
    let prepared = prepare_edit(&cli.command)?;
    let _lock = match cli.command.writer_name() {
        Some(name) => Some(keyrack::files::lock::lock(
            &paths,
            &format!("keyrack {name}"),
        )?),
        None => None,
    };
    let mut files = AwsFiles::load(&paths)?;
    match cli.command {
        Command::Profiles { json, dialect } => {
            let dialect = match dialect {
                As::Cli => Dialect::Cli,
                As::Sdk => Dialect::Sdk,
            };
            let reading = files.read(dialect);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&profiles_json(&files, &reading))?
                );
            } else {
                print_profiles(&files, &reading);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Set { .. } => {
            let Some(Prepared::Set { key, target, value }) = prepared else {
                unreachable!("prepared above")
            };
            let outcome = files.set(&target, &key, value.expose())?;
            let drops = is_secret_key(&key.key);
            finish_edit(
                &mut files,
                outcome,
                &format!("set {key} of {target}"),
                drops,
            )
        }
        Command::Unset {
            profile,
            key,
            sso_session,
        } => {
            let key = KeyPath::parse(&key)?;
            let target = section(&profile, sso_session);
            let outcome = files.unset(&target, &key)?;
            let drops = is_secret_key(&key.key);
            finish_edit(
                &mut files,
                outcome,
                &format!("removed {key} from {target}"),
                drops,
            )
        }
        Command::Add { .. } => {
            let Some(Prepared::Add { target, settings }) = prepared else {
                unreachable!("prepared above")
            };
            let settings: Vec<(KeyPath, String)> = settings
                .iter()
                .map(|(k, v)| (k.clone(), v.expose().to_string()))
                .collect();
            let outcome = files.add(&target, &settings)?;
            finish_edit(&mut files, outcome, &format!("added {target}"), false)
        }
        Command::Copy {
            source,
            destination,
            sso_session,
        } => {
            if !sso_session
                && keyrack::keychain::places::keychain_account(&files, &source).is_some()
            {
                return Ok(vault::copy(&mut files, &source, &destination)?);
            }
            let target = section(&source, sso_session);
            let outcome = files.copy(&target, &destination)?;
            finish_edit(
                &mut files,
                outcome,
                &format!("copied {target} to '{destination}'"),
                false,
            )
        }
        Command::Rename {
            old,
            new,
            sso_session,
        } => {
            if !sso_session && keyrack::keychain::places::keychain_account(&files, &old).is_some() {
                return Ok(vault::rename(&mut files, &old, &new)?);
            }
            let target = section(&old, sso_session);
            let outcome = files.rename(&target, &new)?;
            finish_edit(
                &mut files,
                outcome,
                &format!("renamed {target} to '{new}'"),
                false,
            )
        }
        Command::Delete {
            profile,
            yes,
            sso_session,
        } => {
            let target = section(&profile, sso_session);
            let account = if sso_session {
                None
            } else {
                keyrack::keychain::places::keychain_account(&files, &profile)
            };
            let in_keychain = account.is_some();
            if !yes {
                // Only an entry of these files is removed (a legacy one or another file set's is kept).
                let own = account.is_some_and(|a| {
                    keyrack::keychain::places::entry_owner(
                        &a,
                        &keyrack::keychain::places::file_set(&files),
                    ) == keyrack::keychain::places::EntryOwner::ThisFileSet
                });
                let also = if own {
                    " and its key from the keychain"
                } else {
                    ""
                };
                return Err(Failure(format!("deleting {target} removes its sections from both files{also}; add --yes to confirm")));
            }
            if in_keychain {
                return Ok(vault::delete(&mut files, &profile)?);
            }
            let outcome = files.delete(&target)?;
            finish_edit(&mut files, outcome, &format!("deleted {target}"), true)
        }
        Command::Clean => {
            let done = leftovers::clean(&paths)?;
            if done.is_empty() {
                println!("nothing to clean: no backup or temporary file next to the files keeps a secret");
            }
            for (path, cleaning) in done {
                match cleaning {
                    Cleaning::Removed => println!("removed {}", path.display()),
                    Cleaning::MadePrivate => {
                        println!("made {} readable by its owner only (0600)", path.display())
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Whoami {
            profiles,
            all,
            json,
        } => Ok(whoami::run(&files, &profiles, all, json)?),
        Command::Keys { profile, json } => Ok(keys::run(&files, &profile, json)?),
        Command::Vault { command } => Ok(vault::run(command, &mut files)?),
        Command::Rotate {
            profile,
            yes,
            keep_old,
            delete_inactive,
            keep_new_on_stop,
            json,
        } => Ok(rotate::run(
            &paths,
            &profile,
            rotate::Choices {
                yes,
                keep_old,
                delete_inactive,
                keep_new_on_stop,
                json,
            },
        )?),
        Command::CredentialProcess { .. } => {
            unreachable!("answered above, before the files are read")
        }
        Command::Check { json } => {
            let findings = check::check(&files);
            let errors = findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count();
            if json {
                let list: Vec<Json> = findings
                    .iter()
                    .map(|f| json!({"severity": f.severity, "file": files.path(f.file).display().to_string(), "line": f.line, "message": f.message, "fix": f.fix}))
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &json!({"findings": list, "errors": errors, "warnings": findings.len() - errors})
                    )?
                );
            } else if findings.is_empty() {
                println!(
                    "no problems found in {} and {}",
                    files.path(FileKind::Config).display(),
                    files.path(FileKind::Credentials).display()
                );
            } else {
                for f in &findings {
                    let place = match f.line {
                        Some(line) => format!("{}:{line}", files.path(f.file).display()),
                        None => files.path(f.file).display().to_string(),
                    };
                    let level = if f.severity == Severity::Error {
                        "error"
                    } else {
                        "warning"
                    };
                    println!("{place}: {level}: {}", f.message);
                }
            }
            if errors > 0 {
                eprintln!("keyrack: {errors} error(s) found in the AWS files");
                Ok(ExitCode::FAILURE)
            } else {
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

/// A setting name from the command line; a refusal names `which` argument, not its text (the
/// arguments may have been swapped, putting a secret where the name goes).
fn parse_key(text: &str, which: &str) -> Result<KeyPath, Failure> {
    KeyPath::parse(text).map_err(|error| match error {
        EditError::BadKey { reason, .. } => {
            Failure(format!("cannot use {which} as a setting name: {reason}"))
        }
        other => Failure(other.to_string()),
    })
}

/// A `set` or `add` with its values, secrets included, read before the files are locked: a
/// person typing a secret at the prompt must not hold up the app or another keyrack.
enum Prepared {
    Set {
        key: KeyPath,
        target: Section,
        value: Secret,
    },
    Add {
        target: Section,
        settings: Vec<(KeyPath, Secret)>,
    },
}

/// Parses a `set` or `add` and reads its secrets (no-echo prompt or stdin); `None` for the
/// other commands.
fn prepare_edit(command: &Command) -> Result<Option<Prepared>, Failure> {
    match command {
        Command::Set {
            profile,
            key,
            value,
            sso_session,
        } => {
            let key = parse_key(key, "the KEY argument")?;
            let target = section(profile, *sso_session);
            let flag = if *sso_session { " --sso-session" } else { "" };
            let example = || format!("keyrack set{flag} {profile} {key} -");
            let value = if is_secret_key(&key.key) {
                let source = Source::of(&key.to_string(), value.as_deref(), example)?;
                SecretReader::default().read(
                    source,
                    &key.to_string(),
                    &target.to_string(),
                    example,
                )?
            } else {
                let value = value.clone().ok_or_else(|| {
                    Failure(format!(
                        "give the value to set {key} to: keyrack set {profile} {key} VALUE"
                    ))
                })?;
                if is_secret_key(&value) {
                    // `keyrack set P SECRET aws_secret_access_key`: the secret is where the name goes.
                    return Err(Failure(format!("the value is the name of a secret setting; the order is: keyrack set {profile} KEY [VALUE]")));
                }
                Secret::from(value)
            };
            Ok(Some(Prepared::Set { key, target, value }))
        }
        Command::Add {
            profile,
            settings,
            sso_session,
        } => {
            let target = section(profile, *sso_session);
            let flag = if *sso_session { " --sso-session" } else { "" };
            let mut reader = SecretReader::default();
            let mut parsed = Vec::new();
            for (n, item) in settings.iter().enumerate() {
                // Neither the item nor its parts are ever repeated in a message: it may be a secret.
                let (k, v) = match item.split_once('=') {
                    Some((k, v)) => (k, Some(v)),
                    None => (item.as_str(), None),
                };
                let not_a_pair = || {
                    Failure(format!("setting {} of the command line is not KEY=VALUE (not repeated here, as it may be a secret); nothing was changed", n + 1))
                };
                let key = match (parse_key(k, &format!("the KEY of setting {}", n + 1)), v) {
                    (Ok(key), Some(_)) => key,
                    (Ok(key), None) if is_secret_key(&key.key) => key,
                    (Err(error), Some(_)) => return Err(error),
                    _ => return Err(not_a_pair()),
                };
                let value = if is_secret_key(&key.key) {
                    let example = || format!("keyrack add{flag} {profile} {key}=-");
                    let source =
                        Source::of(&key.to_string(), v.filter(|v| !v.is_empty()), example)?;
                    reader.read(source, &key.to_string(), &target.to_string(), example)?
                } else {
                    Secret::from(v.unwrap_or_default())
                };
                parsed.push((key, value));
            }
            Ok(Some(Prepared::Add {
                target,
                settings: parsed,
            }))
        }
        _ => Ok(None),
    }
}

/// Saves an edit and says where. `drops_secret`: the edit may have replaced or removed a secret
/// (set or unset of a secret key, a delete), so the backup the save kept may hold one that left
/// the files: that is said at once. Only then are the files checked again (a full check of a
/// large file pair costs more than the edit).
fn finish_edit(
    files: &mut AwsFiles,
    outcome: EditOutcome,
    done: &str,
    drops_secret: bool,
) -> Result<ExitCode, Failure> {
    let saved = files.save()?;
    for warning in &outcome.warnings {
        eprintln!("keyrack: warning: {warning}");
    }
    let where_: Vec<String> = saved
        .iter()
        .map(|k| files.path(*k).display().to_string())
        .collect();
    if where_.is_empty() {
        println!("{done} (no change needed)");
    } else {
        println!("{done} in {}", where_.join(" and "));
    }
    if drops_secret || saved.contains(&FileKind::Credentials) {
        // The credentials file's mode, once it was written; and a backup the save just kept that
        // holds a secret the edit removed or replaced.
        let mode = |f: &check::Finding| {
            saved.contains(&FileKind::Credentials)
                && f.file == FileKind::Credentials
                && f.line.is_none()
                && f.fix.is_none()
        };
        let findings = check::check(files);
        for f in findings
            .iter()
            .filter(|f| f.fix.is_some())
            .chain(findings.iter().find(|f| mode(f)))
        {
            eprintln!("keyrack: warning: {}", f.message);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn settings_json(settings: &Settings) -> Json {
    let mut out = Map::new();
    for (key, setting) in settings {
        let value = match &setting.value {
            Value::Secret(_) => Json::String(MASK.into()),
            _ if is_secret_key(key) => Json::String(MASK.into()),
            Value::Text(t) => Json::String(t.clone()),
            Value::Nested(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                    .collect(),
            ),
        };
        out.insert(key.clone(), value);
    }
    Json::Object(out)
}

fn problems_json(files: &AwsFiles, problems: &[Problem]) -> Json {
    Json::Array(
        problems
            .iter()
            .map(|p| json!({"file": files.path(p.file).display().to_string(), "line": p.line, "message": p.message}))
            .collect(),
    )
}

fn profiles_json(files: &AwsFiles, reading: &Reading) -> Json {
    let group = |map: &keyrack::files::model::OrderedMap<Settings>| -> Json {
        Json::Object(
            map.iter()
                .map(|(name, s)| (name.clone(), settings_json(s)))
                .collect(),
        )
    };
    let mut out = Map::new();
    out.insert("profiles".into(), group(&reading.profiles));
    out.insert("sso_sessions".into(), group(&reading.sso_sessions));
    out.insert("services".into(), group(&reading.services));
    let stores = reading.profiles.iter().map(|(name, s)| {
        (
            name.clone(),
            Json::String(keyrack::keychain::places::secret_store(s).name().into()),
        )
    });
    out.insert("secret_stores".into(), Json::Object(stores.collect()));
    out.insert("problems".into(), problems_json(files, &reading.problems));
    out.insert(
        "disagreements".into(),
        problems_json(files, &files.disagreements()),
    );
    if let Some(rejection) = reading.rejection() {
        let place = match rejection.line {
            Some(line) => format!("{}:{line}", files.path(rejection.file).display()),
            None => files.path(rejection.file).display().to_string(),
        };
        out.insert(
            "error".into(),
            Json::String(format!("{place}: {}", rejection.message)),
        );
    }
    Json::Object(out)
}

fn print_profiles(files: &AwsFiles, reading: &Reading) {
    if reading.profiles.is_empty() {
        println!(
            "no profiles in {} or {}",
            files.path(FileKind::Config).display(),
            files.path(FileKind::Credentials).display()
        );
    }
    let width = reading
        .profiles
        .keys()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    for (name, settings) in &reading.profiles {
        let text = |k: &str| {
            settings
                .get(k)
                .and_then(|s| s.value.as_text())
                .unwrap_or("-")
                .to_string()
        };
        let kind = serde_json::to_value(profile_kind(settings))
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let store = keyrack::keychain::places::secret_store(settings);
        println!(
            "{name:<width$}  {kind:<18}  {:<14}  {:<20}  {}",
            text("region"),
            text("aws_access_key_id"),
            store.name()
        );
    }
    if let Some(rejection) = reading.rejection() {
        eprintln!(
            "keyrack: warning: the AWS CLI rejects these files ({}{}: {}); run 'keyrack check'",
            files.path(rejection.file).display(),
            rejection.line.map(|l| format!(":{l}")).unwrap_or_default(),
            rejection.message
        );
    }
}
