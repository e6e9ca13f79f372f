//! Parsing the command line with clap, with every argument that may be a secret blanked out of
//! clap's error messages (a secret typed where it does not belong would otherwise be repeated
//! on the screen: "unexpected argument 'wJalr…' found").

use clap::error::ErrorKind;
use clap::Parser;

/// What replaces a blanked argument in a message.
const NOT_SHOWN: &str = "<not shown: it may be a secret>";

/// The parsed command line; on an error, clap's message with secrets blanked, and clap's exit.
pub fn parse<P: Parser>() -> P {
    match P::try_parse() {
        Ok(parsed) => parsed,
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            error.exit()
        }
        Err(error) => {
            let args: Vec<String> = std::env::args_os()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            eprint!("{}", blank_secrets(&error.render().to_string(), &args));
            std::process::exit(error.exit_code());
        }
    }
}

/// `message` with every argument (or `=`-separated part of one) that may be a secret replaced.
fn blank_secrets(message: &str, args: &[String]) -> String {
    let mut out = message.to_string();
    let mut parts: Vec<&str> = args
        .iter()
        .flat_map(|a| std::iter::once(a.as_str()).chain(a.split('=')))
        .filter(|p| may_be_secret(p))
        .collect();
    // Longest first, so that a whole argument goes before a part of it.
    parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for part in parts {
        out = out.replace(part, NOT_SHOWN);
    }
    out
}

/// Whether `text` may be a secret access key or session token: 16 or more characters of
/// base64, with upper and lower case letters.
fn may_be_secret(text: &str) -> bool {
    let text = text.trim_start_matches('-');
    text.len() >= 16
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        && text.chars().any(|c| c.is_ascii_uppercase())
        && text.chars().any(|c| c.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_blanked_and_plain_words_kept() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let args = [
            "set".to_string(),
            format!("--key={secret}"),
            "extra".into(),
            "aws_secret_access_key".into(),
        ];
        let message = format!(
            "unexpected argument '--key={secret}' found; also 'extra' and aws_secret_access_key"
        );
        let shown = blank_secrets(&message, &args);
        assert!(
            !shown.contains(secret)
                && shown.contains("'extra'")
                && shown.contains("aws_secret_access_key"),
            "{shown}"
        );
    }
}
