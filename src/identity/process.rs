//! `credential_process`: run the command as botocore does (split into words, no shell), with a
//! time limit, and read the credentials from the JSON it prints.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value as Json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::aws::Credentials;
use crate::files::python_text::shlex_split;
use crate::secret::Secret;

/// Why a credential process gave no credentials. Messages never hold what the process printed on
/// stdout (it may hold secrets) nor the command line (it may too); only the program's name and
/// the last line of its stderr, with anything that looks like a key blanked out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    #[error("is empty; set it to the command that prints the credentials")]
    Empty,

    #[error("has an unclosed quote or ends in a backslash; quote paths with spaces in them")]
    Unparsable,

    #[error("could not be started ({program}: {detail}); check the path in credential_process")]
    Start { program: String, detail: String },

    #[error("failed ({program} exited with {status}){}", stderr_suffix(.stderr))]
    Failed {
        program: String,
        status: String,
        /// The last non-empty line of the process's stderr, shortened and blanked of key-like
        /// words.
        stderr: String,
    },

    #[error("did not finish within {seconds} s ({program} was stopped)")]
    TimedOut { program: String, seconds: u64 },

    #[error(
        "printed something other than the credentials JSON ({program}: {detail}); it must print \
         {{\"Version\": 1, \"AccessKeyId\": \"...\", \"SecretAccessKey\": \"...\"}} with an \
         optional SessionToken and Expiration"
    )]
    BadOutput { program: String, detail: String },

    #[error(
        "returned credentials that expired at {expiration} ({program}); make it return fresh ones"
    )]
    Expired { program: String, expiration: String },
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    }
}

/// Splits a `credential_process` command into program and arguments as botocore's
/// `compat_shell_split` does: Python's `shlex.split` (POSIX rules), or on Windows the C
/// runtime's rules.
pub fn split_command(command: &str) -> Result<Vec<String>, ProcessError> {
    let words = if cfg!(windows) {
        split_windows(command)?
    } else {
        shlex_split(command).map_err(|_| ProcessError::Unparsable)?
    };
    if words.is_empty() {
        return Err(ProcessError::Empty);
    }
    Ok(words)
}

/// botocore's `_windows_shell_split`: space and tab separate, double quotes group, backslashes
/// are literal unless a run of them leads up to a double quote.
fn split_windows(command: &str) -> Result<Vec<String>, ProcessError> {
    let mut words = Vec::new();
    // `None` until something (even an empty pair of quotes) starts a word.
    let mut word: Option<String> = None;
    let mut quoted = false;
    let mut backslashes = 0;
    for c in command.chars() {
        if c == '\\' {
            backslashes += 1;
            continue;
        }
        let escapes_quote = c == '"' && backslashes % 2 == 1;
        let kept = if c == '"' {
            backslashes / 2
        } else {
            backslashes
        };
        if backslashes > 0 {
            word.get_or_insert_with(String::new)
                .push_str(&"\\".repeat(kept));
            backslashes = 0;
        }
        match c {
            '"' if escapes_quote => word.get_or_insert_with(String::new).push('"'),
            '"' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            ' ' | '\t' if !quoted => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    if quoted {
        return Err(ProcessError::Unparsable);
    }
    if backslashes > 0 {
        word.get_or_insert_with(String::new)
            .push_str(&"\\".repeat(backslashes));
    }
    words.extend(word);
    Ok(words)
}

/// Runs `command` and reads the credentials it prints. Stdin is closed (many checks run at once
/// and none can answer a prompt); stdout and stderr are captured; the process is killed when
/// `timeout` passes.
pub async fn run_credential_process(
    command: &str,
    timeout: Duration,
) -> Result<Credentials, ProcessError> {
    let words = split_command(command)?;
    let program = words[0].clone();
    let child = tokio::process::Command::new(&program)
        .args(&words[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ProcessError::Start {
            program: program.clone(),
            detail: e.to_string(),
        })?;
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => {
            return Err(ProcessError::Start {
                program,
                detail: e.to_string(),
            })
        }
        Err(_) => {
            return Err(ProcessError::TimedOut {
                program,
                seconds: timeout.as_secs().max(1),
            })
        }
    };
    if !output.status.success() {
        return Err(ProcessError::Failed {
            program,
            status: output
                .status
                .to_string()
                .replace("exit status: ", "status "),
            stderr: last_line_blanked(&String::from_utf8_lossy(&output.stderr)),
        });
    }
    parse_output(&output.stdout, OffsetDateTime::now_utc()).map_err(|e| match e {
        OutputError::Bad(detail) => ProcessError::BadOutput { program, detail },
        OutputError::Expired(expiration) => ProcessError::Expired {
            program,
            expiration,
        },
    })
}

enum OutputError {
    Bad(String),
    Expired(String),
}

/// Reads the credential process JSON contract (Version 1). Error details name fields, never
/// values.
fn parse_output(stdout: &[u8], now: OffsetDateTime) -> Result<Credentials, OutputError> {
    let bad = |detail: &str| OutputError::Bad(detail.to_owned());
    // A syntax error's message gives a position, not the text around it.
    let json: Json = serde_json::from_slice(stdout).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            OutputError::Bad(format!(
                "not JSON: error at line {} column {}",
                e.line(),
                e.column()
            ))
        } else {
            bad("not JSON")
        }
    })?;
    let object = json.as_object().ok_or_else(|| bad("not a JSON object"))?;
    match object.get("Version") {
        Some(v) if v.as_f64() == Some(1.0) => {}
        Some(_) => return Err(bad("unsupported Version; only Version 1 is supported")),
        None => return Err(bad("Version is missing")),
    }
    let required = |name: &str| -> Result<String, OutputError> {
        match object.get(name) {
            Some(Json::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(_) => Err(OutputError::Bad(format!(
                "{name} is not a non-empty string"
            ))),
            None => Err(OutputError::Bad(format!("{name} is missing"))),
        }
    };
    let optional = |name: &str| -> Result<Option<String>, OutputError> {
        match object.get(name) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(OutputError::Bad(format!("{name} is not a string"))),
        }
    };
    let access_key_id = required("AccessKeyId")?;
    let secret = Secret::new(required("SecretAccessKey")?);
    let token = optional("SessionToken")?
        .filter(|t| !t.is_empty())
        .map(Secret::new);
    if let Some(expiration) = optional("Expiration")? {
        let at = OffsetDateTime::parse(expiration.trim(), &Rfc3339)
            .map_err(|_| bad("Expiration is not an RFC 3339 time such as 2030-01-01T00:00:00Z"))?;
        if at <= now {
            return Err(OutputError::Expired(expiration));
        }
    }
    Ok(Credentials::new(access_key_id, secret, token))
}

/// The last non-empty line of `stderr`, at most 200 characters, with every word that looks like
/// a secret key or token (30 or more characters of base64) replaced by `<redacted>`.
fn last_line_blanked(stderr: &str) -> String {
    let line = stderr
        .lines()
        .map(str::trim)
        .rev()
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= 30 {
            out.push_str("<redacted>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in line.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=') {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    if out.chars().count() > 200 {
        out = out.chars().take(200).collect::<String>() + "…";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn now() -> OffsetDateTime {
        OffsetDateTime::parse("2025-06-01T00:00:00Z", &Rfc3339).unwrap()
    }

    fn parse(text: &str) -> Result<Credentials, String> {
        parse_output(text.as_bytes(), now()).map_err(|e| match e {
            OutputError::Bad(d) => d,
            OutputError::Expired(e) => format!("expired {e}"),
        })
    }

    #[test]
    fn reads_version_1_with_and_without_session_token() {
        let c = parse(&format!(
            r#"{{"Version": 1, "AccessKeyId": "AKIAX", "SecretAccessKey": "{SECRET}"}}"#
        ))
        .unwrap();
        assert_eq!(c.access_key_id, "AKIAX");
        assert_eq!(c.secret_access_key.expose(), SECRET);
        assert!(c.session_token.is_none());
        let c = parse(&format!(
            r#"{{"Version": 1, "AccessKeyId": "ASIAX", "SecretAccessKey": "{SECRET}",
                "SessionToken": "tok", "Expiration": "2030-01-01T00:00:00Z"}}"#
        ))
        .unwrap();
        assert_eq!(c.session_token.unwrap().expose(), "tok");
    }

    #[test]
    fn rejects_other_versions_missing_fields_and_past_expiration() {
        let v2 = format!(r#"{{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "{SECRET}"}}"#);
        assert!(parse(&v2).unwrap_err().contains("Version"));
        let no_secret = r#"{"Version": 1, "AccessKeyId": "A"}"#;
        assert_eq!(parse(no_secret).unwrap_err(), "SecretAccessKey is missing");
        let old = format!(
            r#"{{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "{SECRET}",
                "Expiration": "2020-01-01T00:00:00Z"}}"#
        );
        assert_eq!(parse(&old).unwrap_err(), "expired 2020-01-01T00:00:00Z");
    }

    #[test]
    fn a_syntax_error_is_described_without_the_text_around_it() {
        let broken = format!(r#"{{"Version": 1, "SecretAccessKey": "{SECRET}" "#);
        let detail = parse(&broken).unwrap_err();
        assert!(detail.starts_with("not JSON"), "{detail}");
        assert!(!detail.contains(SECRET));
        let wrong_type = format!(r#"{{"Version": 1, "AccessKeyId": ["{SECRET}"]}}"#);
        assert!(!parse(&wrong_type).unwrap_err().contains(SECRET));
    }

    #[test]
    fn stderr_keeps_its_last_line_and_blanks_key_like_words() {
        let stderr = format!("starting\nlogin failed for {SECRET}: token expired\n\n");
        assert_eq!(
            last_line_blanked(&stderr),
            "login failed for <redacted>: token expired"
        );
        assert!(last_line_blanked(&"x ".repeat(300)).chars().count() <= 201);
    }

    #[test]
    fn commands_split_like_python_shlex() {
        assert_eq!(
            split_command("/opt/my tool/get").unwrap(),
            ["/opt/my", "tool/get"]
        );
        assert_eq!(
            split_command("'/opt/my tool/get' --profile \"a b\" x\\ y").unwrap(),
            ["/opt/my tool/get", "--profile", "a b", "x y"]
        );
        assert_eq!(split_command("  ").unwrap_err(), ProcessError::Empty);
        assert_eq!(
            split_command("'oops").unwrap_err(),
            ProcessError::Unparsable
        );
    }

    #[test]
    fn windows_commands_split_like_the_c_runtime() {
        let split = |s: &str| split_windows(s).unwrap();
        assert_eq!(
            split(r#""C:\Program Files\tool.exe" --x "a b""#),
            [r"C:\Program Files\tool.exe", "--x", "a b"]
        );
        assert_eq!(split(r#"a\\\"b c\d"#), [r#"a\"b"#, r"c\d"]);
        assert_eq!(split(r#"a\\"b c" d"#), [r"a\b c", "d"]);
        assert_eq!(split(r#"x "" y"#), ["x", "", "y"]);
        assert_eq!(split_windows(r#""open"#), Err(ProcessError::Unparsable));
    }
}
