//! `keyrack sso login | logout | populate`: the engine signs in, out and writes the profiles
//! ([`Rack::sso_login`] and friends); this module words what the person must do and what was
//! done.

use std::process::ExitCode;

use clap::Subcommand;

use keyrack::identity::sso_login::{Flow, SignInPrompt};
use keyrack::rack::SsoTarget;
use keyrack::{Error, Rack};

use crate::print::pretty;

#[derive(Subcommand)]
pub enum SsoCommand {
    /// Sign in to IAM Identity Center in the browser (the authorization-code flow with PKCE, as
    /// the AWS CLI does), keeping the sign-in where the AWS CLI keeps it: every AWS tool and
    /// every profile of the sign-in then uses it, and keyrack refreshes it before it ends.
    Login {
        /// The `[sso-session NAME]` to sign in to (default: the one of --profile).
        #[arg(conflicts_with = "profile")]
        session: Option<String>,
        /// Sign in for this profile: its sso-session's sign-in, or (a legacy profile, with
        /// sso_start_url of its own) its start URL, with the device code flow.
        #[arg(long)]
        profile: Option<String>,
        /// Approve with a code on any device instead of this computer's browser.
        #[arg(long)]
        use_device_code: bool,
        /// Do not open the browser; print the page to open.
        #[arg(long)]
        no_browser: bool,
        #[arg(long)]
        json: bool,
    },
    /// Sign out of every IAM Identity Center sign-in, as `aws sso logout` does: each is ended at
    /// its portal, and its token and the SSO role credentials the AWS tools cached are removed.
    Logout {
        #[arg(long)]
        json: bool,
    },
    /// Show the profiles that the accounts and roles of SESSION's sign-in would add (and, with
    /// --prune, the generated ones no longer assigned that would go); --yes writes them.
    Populate {
        /// The `[sso-session NAME]` whose sign-in (from `keyrack sso login`) is used.
        session: String,
        /// How new profiles are named: {account_name}, {account_id}, {role_name}.
        #[arg(long, default_value = keyrack::sso_profiles::DEFAULT_TEMPLATE)]
        template: String,
        /// The region new profiles get (default: the session's sso_region).
        #[arg(long)]
        region: Option<String>,
        /// Also remove the profiles keyrack generated for SESSION whose role is no longer
        /// assigned (never a profile you wrote).
        #[arg(long)]
        prune: bool,
        /// Write the changes (without it, nothing is changed).
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
}

/// What the person must do to sign in, on stderr (stdout is the result, or credential_process's
/// JSON). The user code is always shown: since 2026-09 the page no longer carries it.
pub fn show_prompt(prompt: &SignInPrompt) {
    let mut text = String::new();
    if prompt.browser_opened {
        text.push_str(&format!(
            "Sign in to IAM Identity Center ({}) in the browser page that opened.\nIf it did not open, open this page:\n\n  {}\n",
            prompt.sign_in, prompt.url
        ));
    } else {
        text.push_str(&format!(
            "To sign in to IAM Identity Center ({}), open this page:\n\n  {}\n",
            prompt.sign_in, prompt.url
        ));
    }
    match &prompt.user_code {
        Some(code) => text.push_str(&format!(
            "\nThen check that it shows this code, and approve:\n\n  {code}\n"
        )),
        None => text.push_str(
            "\nIf you cannot open it on this computer, run the command again with --use-device-code.\n",
        ),
    }
    text.push_str("\nWaiting for the sign-in to be approved...\n");
    eprint!("{text}");
}

pub fn run(rack: &Rack, command: SsoCommand) -> Result<ExitCode, Error> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| {
        Error::new(
            "internal",
            format!("could not start the async runtime: {e}"),
        )
    })?;
    match command {
        SsoCommand::Login {
            session,
            profile,
            use_device_code,
            no_browser,
            json,
        } => {
            let target = match (session, profile) {
                (Some(session), _) => SsoTarget::Session(session),
                (None, Some(profile)) => SsoTarget::Profile(profile),
                (None, None) => SsoTarget::Profile(
                    std::env::var("AWS_PROFILE")
                        .ok()
                        .filter(|p| !p.is_empty())
                        .unwrap_or_else(|| "default".into()),
                ),
            };
            let flow = if use_device_code {
                Flow::DeviceCode
            } else {
                Flow::AuthorizationCode
            };
            let signed_in =
                runtime.block_on(rack.sso_login(&target, flow, !no_browser, &show_prompt))?;
            if json {
                println!("{}", pretty(&signed_in));
            } else {
                println!(
                    "Signed in to {} ({}) until {}{}.",
                    signed_in.sign_in,
                    signed_in.start_url,
                    signed_in.expires,
                    if signed_in.refreshable {
                        "; keyrack and the AWS tools refresh it before then"
                    } else {
                        " (a legacy sign-in, which cannot be refreshed: put it in an [sso-session] section to stay signed in longer)"
                    }
                );
            }
        }
        SsoCommand::Logout { json } => {
            let done = runtime.block_on(rack.sso_logout())?;
            if json {
                println!("{}", pretty(&done));
            } else if done.removed_files == 0 {
                println!("No IAM Identity Center sign-in was kept; nothing to sign out of.");
            } else {
                println!(
                    "Signed out: {} sign-in(s) ended at IAM Identity Center, {} file(s) with tokens or role credentials removed.",
                    done.signed_out, done.removed_files
                );
                if done.logout_failed > 0 {
                    println!(
                        "{} sign-in(s) could not be ended at IAM Identity Center (no network, or it had ended already); their tokens are removed from this computer all the same.",
                        done.logout_failed
                    );
                }
            }
        }
        SsoCommand::Populate {
            session,
            template,
            region,
            prune,
            yes,
            json,
        } => {
            let plan = runtime.block_on(rack.sso_populate_plan(
                &session,
                Some(&template),
                region.as_deref(),
            ))?;
            if json {
                println!("{}", pretty(&plan));
            } else {
                crate::print::populate_plan(&plan, prune, yes);
            }
            if yes {
                rack.sso_populate(&plan, prune)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
