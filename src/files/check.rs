//! `keyrack check`: everything wrong or risky in the two files, each with its file and line,
//! and in the files keyrack's saves left next to them.

use super::model::{Dialect, FileKind, Problem};
use super::AwsFiles;
use crate::aws::{is_valid_region_name, region_name_fix};
use serde::Serialize;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// An AWS tool fails or misreads the files.
    Error,
    /// Works, but is risky or read differently by other tools.
    Warning,
}

/// One finding of `check`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub file: FileKind,
    pub line: Option<usize>,
    pub message: String,
    /// The keyrack command that fixes it, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

/// A keyrack command that fixes a finding (the app offers it as a button).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fix {
    /// `keyrack clean`: remove the leftovers that keep secrets ([`super::leftovers::clean`]).
    Clean,
}

/// Every AWS region name keyrack knows (all partitions), for spotting typos.
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isob-west-1",
    "us-isof-east-1",
    "us-isof-south-1",
    "eu-isoe-west-1",
    "eusc-de-east-1",
];

fn finding(severity: Severity, p: &Problem) -> Finding {
    Finding {
        severity,
        file: p.file,
        line: p.line,
        message: p.message.clone(),
        fix: None,
    }
}

/// A keychain profile's `credential_process` line serves the session of the MFA device it names
/// (`--mfa-serial`), which is what every AWS tool gets: said when that is not the `mfa_serial` of
/// the profile (changed since the key was moved, or a line written before keyrack served MFA
/// sessions).
fn keychain_line_device(name: &str, settings: &super::Settings) -> Option<Finding> {
    let line = settings.get("credential_process")?;
    let command = crate::keychain::command::KeyrackCommand::parse(line.value.as_text()?)?;
    let serial = settings
        .get("mfa_serial")
        .and_then(|s| s.value.as_text())
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let served = command.mfa.as_ref().map(|mfa| mfa.serial.as_str());
    let redo = format!(
        "run `keyrack vault restore {name}` then `keyrack vault move {name}` to write the line again"
    );
    let message = match (served, serial) {
        (Some(served), Some(serial)) if served == serial => return None,
        (None, None) => return None,
        (Some(served), Some(serial)) => format!(
            "profile '{name}' has mfa_serial = {serial}, but its credential_process line serves \
             the MFA session of {served}, which every AWS tool signs with; {redo}"
        ),
        (Some(served), None) => format!(
            "profile '{name}' has no mfa_serial, but its credential_process line serves the MFA \
             session of {served}, which every AWS tool signs with; {redo}, or add mfa_serial = {served}"
        ),
        (None, Some(serial)) => format!(
            "profile '{name}' has mfa_serial = {serial}, but its credential_process line serves \
             the key alone, so the AWS tools sign without MFA (accounts that require MFA refuse \
             them); {redo} so that it serves the device's session"
        ),
    };
    Some(Finding {
        severity: Severity::Warning,
        file: line.origin.file,
        line: Some(line.origin.line),
        message,
        fix: None,
    })
}

/// A keyrack `credential_process` line whose program is not there (keyrack uninstalled, or the
/// build folder it named removed): every AWS tool fails with "No such file or directory".
fn keychain_line_program(name: &str, settings: &super::Settings) -> Option<Finding> {
    let line = settings.get("credential_process")?;
    let command = crate::keychain::command::KeyrackCommand::parse(line.value.as_text()?)?;
    let program = &command.program;
    let found = if program.components().count() > 1 {
        program.is_file()
    } else {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
    };
    if found {
        return None;
    }
    Some(Finding {
        severity: Severity::Error,
        file: line.origin.file,
        line: Some(line.origin.line),
        message: format!(
            "profile '{name}' gets its key from the keychain through {}, which is not there any \
             more (keyrack uninstalled, or its build folder removed), so every AWS tool fails \
             with \"No such file or directory\"; install keyrack again, or run `keyrack vault \
             restore {name}` with a keyrack that works to put the key back in the credentials \
             file",
            program.display()
        ),
        fix: None,
    })
}

/// Run every check over the loaded files.
pub fn check(files: &AwsFiles) -> Vec<Finding> {
    let cli = files.read(Dialect::Cli);
    let mut out: Vec<Finding> = cli
        .problems
        .iter()
        .map(|p| finding(Severity::Error, p))
        .collect();
    out.extend(
        files
            .disagreements()
            .iter()
            .map(|p| finding(Severity::Warning, p)),
    );
    let sdk = files.read(Dialect::Sdk);
    for p in sdk.problems.iter().filter(|p| {
        !cli.problems
            .iter()
            .any(|c| c.line == p.line && c.file == p.file)
    }) {
        out.push(finding(Severity::Warning, p));
    }

    // The config file on its own: a secret there is a leak even where the credentials file's
    // value for the same key is the one the AWS tools use.
    let config_alone = AwsFiles::from_bytes(&files.file(FileKind::Config).doc.to_bytes(), b"");
    for (name, settings) in &config_alone.read(Dialect::Cli).profiles {
        for (key, setting) in settings {
            if super::model::is_secret_key(key) && setting.origin.file == FileKind::Config {
                out.push(Finding {
                    severity: Severity::Warning,
                    file: FileKind::Config,
                    line: Some(setting.origin.line),
                    message: format!("profile '{name}' keeps its {key} in the config file; secrets belong in the credentials file (mode 0600), where 'aws configure' puts them"),
                    fix: None,
                });
            }
        }
    }
    for (name, settings) in &cli.profiles {
        for (key, setting) in settings {
            let o = setting.origin;
            let in_credentials_keys = super::edit::CREDENTIAL_KEYS.contains(&key.as_str());
            if o.file == FileKind::Credentials && !in_credentials_keys {
                out.push(Finding {
                    severity: Severity::Warning,
                    file: o.file,
                    line: Some(o.line),
                    message: format!("profile '{name}' sets '{key}' in the credentials file; the AWS CLI reads it there, but many tools read such settings only from the config file"),
                    fix: None,
                });
            }
        }
        let id = settings.get("aws_access_key_id");
        let secret = settings.get("aws_secret_access_key");
        if let (Some(id), Some(secret)) = (id, secret) {
            if id.origin.file == FileKind::Credentials && secret.origin.file == FileKind::Config {
                out.push(Finding {
                    severity: Severity::Error,
                    file: id.origin.file,
                    line: Some(id.origin.line),
                    message: format!("profile '{name}' has its access key id in the credentials file but its secret only in the config file; the AWS CLI fails with PartialCredentialsError. Put both in the credentials file"),
                    fix: None,
                });
            }
        }
        out.extend(incomplete_credentials(name, settings));
        out.extend(keychain_line_device(name, settings));
        out.extend(keychain_line_program(name, settings));
        if let Some(region) = settings
            .get("region")
            .and_then(|s| s.value.as_text().map(|v| (v, s.origin)))
        {
            if !region.0.trim().is_empty() && !is_valid_region_name(region.0.trim()) {
                out.push(Finding {
                    severity: Severity::Error,
                    file: region.1.file,
                    line: Some(region.1.line),
                    message: format!("profile '{name}' has region {:?}, which the AWS CLI refuses as a region name: every aws command with this profile fails. To fix it: {}", region.0, region_name_fix(region.0)),
                    fix: None,
                });
            } else if !REGIONS.contains(&region.0) {
                out.push(Finding {
                    severity: Severity::Warning,
                    file: region.1.file,
                    line: Some(region.1.line),
                    message: format!("profile '{name}' has region {:?}, which is not an AWS region keyrack knows; check for a typo", region.0),
                    fix: None,
                });
            }
        }
        if let Some(source) = settings.get("source_profile") {
            let o = source.origin;
            if let Some(target) = source.value.as_text() {
                if !cli.profiles.contains_key(target) {
                    out.push(Finding {
                        severity: Severity::Error,
                        file: o.file,
                        line: Some(o.line),
                        message: format!("profile '{name}' has source_profile = {target}, but there is no profile '{target}'"),
                        fix: None,
                    });
                } else if let Some(cycle) = source_cycle(&cli, name) {
                    out.push(Finding {
                        severity: Severity::Error,
                        file: o.file,
                        line: Some(o.line),
                        message: format!(
                            "profile '{name}' has a source_profile loop: {}",
                            cycle.join(" -> ")
                        ),
                        fix: None,
                    });
                }
            }
        }
    }

    if let Ok(meta) = std::fs::metadata(&files.credentials.path) {
        if let Some(mode) = super::private::readable_by_others(&meta) {
            out.push(Finding {
                severity: Severity::Warning,
                file: FileKind::Credentials,
                line: None,
                message: format!(
                    "{} has mode {mode:04o}: other users can read your secret keys. Run: chmod 600 {}",
                    files.credentials.path.display(),
                    files.credentials.path.display()
                ),
                fix: None,
            });
        }
    }
    out.extend(leftover_findings(files));
    out.sort_by_key(|f| (f.file as u8, f.line, f.severity));
    out
}

/// The backups and temporary files next to the files that keep secrets no longer in them, or
/// that others can read.
fn leftover_findings(files: &AwsFiles) -> Vec<Finding> {
    let finding = |file, message| Finding {
        severity: Severity::Warning,
        file,
        line: None,
        message,
        fix: Some(Fix::Clean),
    };
    match super::leftovers::find(&files.paths()) {
        Ok(found) => found
            .iter()
            .filter(|l| l.is_problem())
            .map(|l| finding(l.of, l.describe()))
            .collect(),
        Err(e) => vec![Finding {
            fix: None,
            ..finding(
                FileKind::Credentials,
                format!("{e}; keyrack could not check whether its backups hold secrets"),
            )
        }],
    }
}

/// A key id without its secret, or a secret without its key id: the AWS CLI fails with
/// PartialCredentialsError on the first and ignores the second. botocore reads static keys from
/// one file, so a key id in the config file with its secret in the credentials file is
/// incomplete too. (The other way round is found by `check` itself.)
fn incomplete_credentials(name: &str, settings: &super::Settings) -> Option<Finding> {
    let given = |key: &str| {
        settings
            .get(key)
            .filter(|s| s.value.as_text().is_some_and(|v| !v.trim().is_empty()))
    };
    let (id, secret) = (given("aws_access_key_id"), given("aws_secret_access_key"));
    let (setting, message) = match (id, secret) {
        (Some(id), None) => (id, format!("profile '{name}' has an aws_access_key_id but no aws_secret_access_key: the AWS CLI fails with PartialCredentialsError for it. Add the secret of this key next to it, or remove the key id")),
        (None, Some(secret)) => (secret, format!("profile '{name}' has an aws_secret_access_key but no aws_access_key_id: the AWS tools ignore the secret. Add the key id it belongs to next to it, or remove the secret")),
        (Some(id), Some(secret)) if id.origin.file == FileKind::Config && secret.origin.file == FileKind::Credentials => (id, format!("profile '{name}' has its access key id in the config file but its secret only in the credentials file; the AWS CLI fails with PartialCredentialsError. Put both in the credentials file")),
        _ => return None,
    };
    Some(Finding {
        severity: Severity::Error,
        file: setting.origin.file,
        line: Some(setting.origin.line),
        message,
        fix: None,
    })
}

/// The chain of source_profile names from `start` when it loops back (a role whose
/// source_profile also has static keys ends the chain, as in botocore).
fn source_cycle(reading: &super::Reading, start: &str) -> Option<Vec<String>> {
    let mut chain = vec![start.to_string()];
    let mut current = start.to_string();
    loop {
        let settings = reading.profiles.get(&current)?;
        let next = settings.get("source_profile")?.value.as_text()?.to_string();
        let has_keys = settings.contains_key("aws_access_key_id");
        if chain.len() > 1 && has_keys {
            return None;
        }
        if next == current && has_keys {
            return None; // a profile that sources itself for its own static keys is allowed
        }
        if chain.contains(&next) {
            chain.push(next);
            return Some(chain);
        }
        chain.push(next.clone());
        current = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(config: &str) -> Vec<String> {
        let files = AwsFiles::from_bytes(config.as_bytes(), b"");
        check(&files).into_iter().map(|f| f.message).collect()
    }

    /// A keyrack program that exists (in a temporary folder kept for the test's run).
    fn installed_keyrack() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("keyrack");
        std::fs::write(&program, "").unwrap();
        let shown = program.display().to_string();
        (dir, shown)
    }

    #[test]
    fn a_secret_in_the_config_file_is_pointed_out_even_when_the_credentials_file_has_the_profile() {
        let config = b"[profile dev]\nregion = us-east-1\naws_secret_access_key = leaked\n";
        let credentials =
            b"[dev]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = kept\n";
        let files = AwsFiles::from_bytes(config, credentials);
        let findings = check(&files);
        let found = findings
            .iter()
            .find(|f| {
                f.message
                    .contains("keeps its aws_secret_access_key in the config file")
            })
            .unwrap_or_else(|| panic!("{findings:?}"));
        assert_eq!((found.file, found.line), (FileKind::Config, Some(3)));
    }

    #[test]
    fn a_keychain_line_whose_keyrack_is_gone_is_an_error_that_says_what_to_do() {
        let line = "[profile dev]\ncredential_process = /nowhere/keyrack credential-process --profile dev --file-set 0123456789ab\n";
        let said = messages(line).join("\n");
        assert!(
            said.contains("/nowhere/keyrack, which is not there any more")
                && said.contains("keyrack vault restore dev"),
            "{said}"
        );
        let (_kept, program) = installed_keyrack();
        let there = line.replace("/nowhere/keyrack", &program);
        assert!(messages(&there).is_empty(), "{:?}", messages(&there));
    }

    #[test]
    fn a_keychain_line_that_serves_another_mfa_device_than_mfa_serial_is_pointed_out() {
        let (_kept, program) = installed_keyrack();
        let line = |flags: &str| {
            format!(
                "[profile dev]\ncredential_process = {program} credential-process --profile dev --file-set 0123456789ab{flags}\n"
            )
        };
        let alice = " --mfa-serial arn:aws:iam::1:mfa/alice";
        let same = format!("{}mfa_serial = arn:aws:iam::1:mfa/alice\n", line(alice));
        assert!(messages(&same).is_empty(), "{:?}", messages(&same));
        assert!(messages(&line("")).is_empty());
        let other = format!("{}mfa_serial = arn:aws:iam::1:mfa/phone2\n", line(alice));
        let said = messages(&other).join("\n");
        assert!(
            said.contains("serves the MFA session of arn:aws:iam::1:mfa/alice"),
            "{said}"
        );
        assert!(said.contains("keyrack vault restore dev"), "{said}");
        let old_line = format!("{}mfa_serial = arn:aws:iam::1:mfa/alice\n", line(""));
        let said = messages(&old_line).join("\n");
        assert!(said.contains("serves the key alone"), "{said}");
        assert!(messages(&line(alice))
            .join("\n")
            .contains("has no mfa_serial"));
    }
}
