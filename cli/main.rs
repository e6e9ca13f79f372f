//! The `keyrack` command line: it parses arguments, calls the engine's one surface
//! ([`keyrack::Rack`]) and prints what comes back, as text or as the engine's own JSON views.
//! It decides nothing itself.

mod arguments;
mod askpass;
mod confirm;
mod keys;
mod print;
mod replace;
mod rotate;
mod secret_input;
mod sso;
mod vault;
mod whoami;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand, ValueEnum};
use keyrack::changes::{Operation, SettingChange};
use keyrack::files::check::Severity;
use keyrack::files::edit::{EditError, KeyPath, Section};
use keyrack::files::leftovers::Cleaning;
use keyrack::files::model::is_secret_key;
use keyrack::files::{Dialect, FilePaths};
use keyrack::identity::mfa::MfaCode;
use keyrack::identity::MfaSessionSettings;
use keyrack::keychain::command::KeyrackCommand;
use keyrack::rotation::OtherKeyChange;
use keyrack::secret::Secret;
use keyrack::Rack;
use secret_input::{SecretReader, Source};
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
    /// The current code of the MFA device (`mfa_serial`) of a profile that has no session yet
    /// (for scripts; a code works once; `-` reads it from stdin, out of the process list). A
    /// role's session is then cached where the AWS CLI caches its own, a key's in the keychain,
    /// so no one asks again until it expires.
    #[arg(long, global = true, value_name = "CODE")]
    mfa_code: Option<String>,
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
        /// Print the listing the desktop app shows, as JSON.
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
        /// Print a JSON array: the app's identity view of each profile (status, arn, account,
        /// user_id, or an error with its code and message, and where its secret lives).
        #[arg(long)]
        json: bool,
    },
    /// The access keys of a profile's IAM user: status, age, last use, and the profiles that hold
    /// each. To make room for a rotation (AWS allows two keys), make the user's other key
    /// Inactive or delete it; never a key a profile here holds.
    Keys {
        profile: String,
        /// Make this other key of the user Inactive (it can be made Active again in the IAM console).
        #[arg(long, value_name = "KEY_ID", conflicts_with = "delete")]
        make_inactive: Option<String>,
        /// Delete this other key of the user for good (asks first, unless --yes).
        #[arg(long, value_name = "KEY_ID")]
        delete: Option<String>,
        /// Delete without asking.
        #[arg(long, requires = "delete")]
        yes: bool,
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
    /// Replace a profile's access key whose secret is lost or wrong with a key made in the IAM
    /// console: it is proven to work and to be the same user's, written to every profile that
    /// held the old key, then the old key is made Inactive and deleted, signed with the new one.
    Replace {
        profile: String,
        #[command(flatten)]
        choices: replace::Choices,
    },
    /// The sessions kept for the profiles of these files (roles' where the AWS CLI caches its
    /// own, ~/.aws/cli/cache; keys' MFA sessions in the keychain), and forgetting them.
    Sessions {
        #[command(subcommand)]
        command: SessionsCommand,
    },
    /// Sign in with an MFA code now, so the profile and every profile behind the same device
    /// work without asking until the session ends (`credential-process` included).
    Mfa {
        #[command(subcommand)]
        command: MfaCommand,
    },
    /// IAM Identity Center (SSO): signing in and out, and profiles for every account and role a
    /// sign-in reaches.
    Sso {
        #[command(subcommand)]
        command: sso::SsoCommand,
    },
    /// Save the access key of the .csv file the IAM console downloads (a new key's, or the
    /// user-credentials file `aws configure import` reads) as a profile, after AWS STS says
    /// it works.
    Import {
        /// The .csv file.
        #[arg(long, value_name = "FILE")]
        csv: PathBuf,
        /// The profile's name (default: the IAM user's name, when the file has it).
        #[arg(long)]
        profile: Option<String>,
        #[arg(long)]
        region: Option<String>,
        /// Save it without asking AWS first.
        #[arg(long)]
        no_check: bool,
        /// Delete the .csv afterwards (it holds the secret in plaintext), once its keys are in
        /// the files.
        #[arg(long)]
        delete_csv: bool,
        #[arg(long)]
        json: bool,
    },
    /// keyrack's own settings (when a key is due for rotation or unused, checking on start, the
    /// clipboard): shown, or one set with `keyrack settings set NAME VALUE`.
    Settings {
        #[command(subcommand)]
        command: Option<SettingsCommand>,
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
        /// Serve this MFA device's session instead of the key (`vault move` writes it for a
        /// profile with mfa_serial); a code is asked for through KEYRACK_MFA_ASKPASS, the keyrack
        /// app's prompt window or the terminal when no session is kept.
        #[arg(long, value_name = "DEVICE")]
        mfa_serial: Option<String>,
        /// How long that session lasts (default 12 hours).
        #[arg(long, value_name = "SECONDS", requires = "mfa_serial")]
        duration_seconds: Option<u32>,
        /// PROFILE is an IAM Identity Center profile of the config file: serve its role's
        /// credentials from the AWS tools' caches, refreshing the sign-in as needed, and sign in
        /// through the browser (once for every tool asking at the same time) when none works.
        #[arg(long, conflicts_with_all = ["file_set", "mfa_serial"])]
        sso: bool,
    },
}

#[derive(Subcommand)]
enum SettingsCommand {
    /// Set one: rotate_after_days, unused_after_days, check_on_start, clipboard_seconds.
    Set { name: String, value: String },
}

#[derive(Subcommand)]
enum MfaCommand {
    /// Ask for the code (on the terminal, or --mfa-code) and keep the session: a role's in the
    /// AWS CLI's cache, a key's in the keychain. A session that is still good is kept.
    Login {
        profile: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum SessionsCommand {
    /// Each profile's kept session: its role or MFA device and the time left.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove the kept sessions of these profiles (all when none is named): the next use signs in
    /// again and asks for a new MFA code. No other cache file or keychain entry is touched.
    Forget { profiles: Vec<String> },
}

impl Command {
    /// Who holds the files' lock while this command writes them.
    fn holder(&self) -> &'static str {
        match self {
            Command::Set { .. } => "keyrack set",
            Command::Unset { .. } => "keyrack unset",
            Command::Add { .. } => "keyrack add",
            Command::Copy { .. } => "keyrack copy",
            Command::Rename { .. } => "keyrack rename",
            Command::Delete { .. } => "keyrack delete",
            Command::Vault { .. } => "keyrack vault",
            Command::Clean => "keyrack clean",
            Command::Import { .. } => "keyrack import",
            _ => "keyrack",
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

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    if let Command::CredentialProcess {
        profile, sso: true, ..
    } = &cli.command
    {
        let mut paths = FilePaths::from_process_env();
        if let Some(p) = &cli.config {
            paths.config = p.clone();
        }
        let rack = Rack::from_process_env(paths, "keyrack credential-process");
        let sign_in = keyrack::browser::can_open().then_some((true, &sso::show_prompt as _));
        let runtime = tokio::runtime::Runtime::new()
            .map_err(|e| Failure(format!("could not start the async runtime: {e}")))?;
        let answer = runtime.block_on(rack.sso_credentials(profile, sign_in));
        return Ok(print::credential_process(answer, profile, false));
    }
    if let Command::CredentialProcess {
        profile,
        file_set,
        mfa_serial,
        duration_seconds,
        ..
    } = &cli.command
    {
        // It runs before every AWS call a user makes: it reads no file.
        let keychain = keyrack::keychain::Keychain::platform();
        let command = KeyrackCommand {
            program: PathBuf::new(),
            profile: profile.clone(),
            file_set: file_set.clone(),
            mfa: mfa_serial.clone().map(|serial| MfaSessionSettings {
                serial,
                duration_seconds: *duration_seconds,
            }),
        };
        let prompt = command.mfa.as_ref().and_then(|_| askpass::prompt());
        let asked = prompt.is_some();
        return Ok(print::credential_process(
            Rack::credential_process(&keychain, &command, prompt),
            profile,
            asked,
        ));
    }
    let mut paths = FilePaths::from_process_env();
    if let Some(p) = cli.config {
        paths.config = p;
    }
    if let Some(p) = cli.credentials {
        paths.credentials = p;
    }
    // Secrets are read before anything else, so a person typing one at the prompt holds up no
    // other writer (the rack takes the files' lock only around each write).
    let operation = operation_of(&cli.command)?;
    // A code of the wrong shape is refused before anything is read or sent.
    let mfa_code = match cli.mfa_code.as_deref() {
        // `-`: one line from stdin, so the code is not in the process list or the history.
        Some("-") => {
            let mut line = zeroize::Zeroizing::new(String::new());
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| Failure(format!("could not read the MFA code from stdin: {e}")))?;
            Some(MfaCode::parse(&line)?)
        }
        Some(code) => Some(MfaCode::parse(code)?),
        None => None,
    };
    let rack = Rack::from_process_env(paths, cli.command.holder()).with_mfa_code(mfa_code);
    match cli.command {
        Command::Profiles { json, dialect } => {
            let dialect = match dialect {
                As::Cli => Dialect::Cli,
                As::Sdk => Dialect::Sdk,
            };
            let listing = rack.listing(dialect, false)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&listing)?);
            } else {
                print::profiles(&listing);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Delete {
            profile,
            yes: false,
            sso_session,
        } => {
            let also = if !sso_session && rack.deleting_removes_entry(&profile)? {
                " and its key from the keychain"
            } else {
                ""
            };
            Err(Failure(format!(
                "deleting {} removes its sections from both files{also}; add --yes to confirm",
                target_text(&profile, sso_session)
            )))
        }
        Command::Set { .. }
        | Command::Unset { .. }
        | Command::Add { .. }
        | Command::Copy { .. }
        | Command::Rename { .. }
        | Command::Delete { .. } => {
            let operation = operation.expect("an edit command has its operation");
            let applied = rack.edit_now(&operation)?;
            print::applied(&rack, &done_text(&operation), &applied);
            Ok(ExitCode::SUCCESS)
        }
        Command::Clean => {
            let done = rack.clean()?;
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
        } => Ok(whoami::run(&rack, &profiles, all, json)?),
        Command::Keys {
            profile,
            make_inactive,
            delete,
            yes,
            json,
        } => {
            let change = match (make_inactive, delete) {
                (Some(key), _) => Some((key, OtherKeyChange::MakeInactive)),
                (None, Some(key)) => Some((key, OtherKeyChange::Delete)),
                (None, None) => None,
            };
            Ok(keys::run(&rack, &profile, change, yes, json)?)
        }
        Command::Sessions { command } => {
            match command {
                SessionsCommand::List { json } => print::sessions(&rack.sessions()?, json),
                SessionsCommand::Forget { profiles } => {
                    let removed = rack.forget_sessions(&profiles)?;
                    if removed.is_empty() {
                        println!("no session to forget");
                    }
                    for file in removed {
                        println!("removed {file}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Mfa {
            command: MfaCommand::Login { profile, json },
        } => {
            let runtime = tokio::runtime::Runtime::new()
                .map_err(|e| Failure(format!("could not start the async runtime: {e}")))?;
            let prompt = secret_input::terminal_mfa_prompt();
            let session = runtime.block_on(rack.mfa_login(&profile, Some(prompt)))?;
            if json {
                println!("{}", print::pretty(&session));
            } else {
                println!("signed in: {}", print::session_line(&session));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Settings { command } => {
            let (mut settings, notes) = rack.settings();
            for note in &notes {
                eprintln!("keyrack: warning: {note}");
            }
            if let Some(SettingsCommand::Set { name, value }) = command {
                let number = || {
                    value.trim().parse::<u32>().map_err(|_| {
                        Failure(format!(
                            "{name} takes a whole number of days or seconds, not {value:?}"
                        ))
                    })
                };
                match name.as_str() {
                    "rotate_after_days" => settings.rotate_after_days = number()?,
                    "unused_after_days" => settings.unused_after_days = number()?,
                    "clipboard_seconds" => settings.clipboard_seconds = number()?,
                    "check_on_start" => {
                        settings.check_on_start = match value.trim() {
                            "true" | "yes" => true,
                            "false" | "no" => false,
                            _ => return Err(Failure(format!("check_on_start is true or false, not {value:?}"))),
                        }
                    }
                    _ => {
                        return Err(Failure(format!(
                            "there is no setting {name:?}; the settings are rotate_after_days, unused_after_days, check_on_start and clipboard_seconds"
                        )))
                    }
                }
                rack.save_settings(&settings)?;
            }
            println!("{}", print::pretty(&settings));
            Ok(ExitCode::SUCCESS)
        }
        Command::Sso { command } => Ok(sso::run(&rack, command)?),
        Command::Import {
            csv,
            profile,
            region,
            no_check,
            delete_csv,
            json,
        } => {
            let runtime = tokio::runtime::Runtime::new()
                .map_err(|e| Failure(format!("could not start the async runtime: {e}")))?;
            let report = runtime.block_on(rack.import_key_file(
                &csv,
                profile.as_deref(),
                region.as_deref(),
                !no_check,
            ))?;
            let deleted = if delete_csv {
                Some(rack.delete_key_file(&csv))
            } else {
                None
            };
            if json {
                println!("{}", print::pretty(&report));
            } else {
                for key in &report.imported {
                    match &key.arn {
                        Some(arn) => println!(
                            "saved profile {} with key {} ({arn})",
                            key.profile, key.access_key_id
                        ),
                        None => println!(
                            "saved profile {} with key {} (not checked with AWS)",
                            key.profile, key.access_key_id
                        ),
                    }
                }
                match &deleted {
                    Some(Ok(())) => println!("deleted {}", csv.display()),
                    Some(Err(_)) => {}
                    None => println!(
                        "{} still holds the secret in plaintext: delete it (add --delete-csv)",
                        csv.display()
                    ),
                }
            }
            // What was saved is printed first, whatever happens to the file.
            if let Some(Err(error)) = deleted {
                return Err(Failure(error.to_string()));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Vault { command } => Ok(vault::run(&rack, command)?),
        Command::Rotate {
            profile,
            yes,
            keep_old,
            delete_inactive,
            keep_new_on_stop,
            json,
        } => Ok(rotate::run(
            &rack,
            &profile,
            rotate::Choices {
                yes,
                keep_old,
                delete_inactive,
                keep_new_on_stop,
                json,
            },
        )?),
        Command::Replace { profile, choices } => Ok(replace::run(&rack, &profile, choices)?),
        Command::CredentialProcess { .. } => {
            unreachable!("answered above, before the files are read")
        }
        Command::Check { json } => {
            let findings = rack.check()?;
            let errors = findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count();
            if json {
                print::findings_json(&findings, errors);
            } else {
                print::findings(&rack, &findings);
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

/// "profile 'NAME'" or "sso-session 'NAME'", as the engine names a section.
fn target_text(name: &str, sso_session: bool) -> String {
    let section = if sso_session {
        Section::SsoSession(name.to_string())
    } else {
        Section::Profile(name.to_string())
    };
    section.to_string()
}

/// What an edit command did, in words, before "in FILES".
fn done_text(operation: &Operation) -> String {
    let target = operation.section();
    match operation {
        Operation::Edit { changes, .. } => match changes.first() {
            Some(SettingChange::Set { key, .. }) => format!("set {key} of {target}"),
            Some(SettingChange::Unset { key }) => format!("removed {key} from {target}"),
            None => format!("changed {target}"),
        },
        Operation::Add { .. } => format!("added {target}"),
        Operation::Copy { to, .. } => format!("copied {target} to '{to}'"),
        Operation::Rename { to, .. } => format!("renamed {target} to '{to}'"),
        Operation::Delete { .. } => format!("deleted {target}"),
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

/// The change an edit command asks for, with its secrets read (no-echo prompt or stdin);
/// `None` for the other commands.
fn operation_of(command: &Command) -> Result<Option<Operation>, Failure> {
    Ok(Some(match command {
        Command::Set {
            profile,
            key,
            value,
            sso_session,
        } => {
            let key = parse_key(key, "the KEY argument")?;
            let target = target_text(profile, *sso_session);
            let flag = if *sso_session { " --sso-session" } else { "" };
            let example = || format!("keyrack set{flag} {profile} {key} -");
            let value = if is_secret_key(&key.key) {
                let source = Source::of(&key.to_string(), value.as_deref(), example)?;
                SecretReader::default().read(source, &key.to_string(), &target, example)?
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
            Operation::Edit {
                profile: profile.clone(),
                changes: vec![SettingChange::Set {
                    key: key.to_string(),
                    value,
                }],
                sso_session: *sso_session,
            }
        }
        Command::Unset {
            profile,
            key,
            sso_session,
        } => Operation::Edit {
            profile: profile.clone(),
            changes: vec![SettingChange::Unset {
                key: parse_key(key, "the KEY argument")?.to_string(),
            }],
            sso_session: *sso_session,
        },
        Command::Add {
            profile,
            settings,
            sso_session,
        } => Operation::Add {
            profile: profile.clone(),
            changes: add_settings(profile, settings, *sso_session)?,
            sso_session: *sso_session,
        },
        Command::Copy {
            source,
            destination,
            sso_session,
        } => Operation::Copy {
            profile: source.clone(),
            to: destination.clone(),
            sso_session: *sso_session,
        },
        Command::Rename {
            old,
            new,
            sso_session,
        } => Operation::Rename {
            profile: old.clone(),
            to: new.clone(),
            sso_session: *sso_session,
        },
        Command::Delete {
            profile,
            yes: true,
            sso_session,
        } => Operation::Delete {
            profile: profile.clone(),
            sso_session: *sso_session,
        },
        _ => return Ok(None),
    }))
}

/// The KEY=VALUE settings of `add`; a secret is KEY=- (stdin) or a bare KEY (the prompt).
fn add_settings(
    profile: &str,
    settings: &[String],
    sso_session: bool,
) -> Result<Vec<SettingChange>, Failure> {
    let target = target_text(profile, sso_session);
    let flag = if sso_session { " --sso-session" } else { "" };
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
            let source = Source::of(&key.to_string(), v.filter(|v| !v.is_empty()), example)?;
            reader.read(source, &key.to_string(), &target, example)?
        } else {
            Secret::from(v.unwrap_or_default())
        };
        parsed.push(SettingChange::Set {
            key: key.to_string(),
            value,
        });
    }
    Ok(parsed)
}
