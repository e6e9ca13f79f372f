//! Where the AWS CLI and the AWS SDKs read the same files differently, setting by setting.

use super::document::Document;
use super::model::{FileKind, OrderedMap, Origin, Problem, Reading, Settings, Value};

fn show(value: Option<&Value>) -> String {
    match value {
        None => "nothing (no such setting)".into(),
        Some(Value::Text(t)) => format!("{t:?}"),
        Some(Value::Secret(_)) => "a secret value (not shown)".into(),
        Some(Value::Nested(map)) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| match super::model::is_secret_key(k) {
                    true => format!("{k} = (a secret, not shown)"),
                    false => format!("{k} = {v}"),
                })
                .collect();
            format!("a nested block {{{}}}", inner.join(", "))
        }
    }
}

/// A hint naming the likely cause, from the text of the line where the setting is written.
fn hint(line_text: &str, cli: Option<&Value>, sdk: Option<&Value>) -> &'static str {
    if let (Some(c), Some(s)) = (cli.and_then(Value::as_text), sdk.and_then(Value::as_text)) {
        if let Some(rest) = c.strip_prefix(s) {
            let rest = rest.trim_start_matches([' ', '\t']);
            if rest.starts_with('#') || rest.starts_with(';') {
                return " The AWS CLI keeps an inline comment as part of the value; the SDKs drop it. Put the comment on its own line.";
            }
        }
    }
    let trimmed = line_text.trim_start();
    if let Some(colon) = trimmed.find(':') {
        if trimmed.find('=').is_none_or(|eq| colon < eq) {
            return " The line uses ':' as separator, which only the AWS CLI accepts. Use '='.";
        }
    }
    if cli.is_none() || sdk.is_none() {
        return "";
    }
    if line_text.starts_with([' ', '\t']) {
        return " Indented lines continue a value differently in the two families of tools.";
    }
    ""
}

fn compare_sections(
    kind: &str,
    cli: &OrderedMap<Settings>,
    sdk: &OrderedMap<Settings>,
    line_text: &dyn Fn(Origin) -> String,
    out: &mut Vec<Problem>,
) {
    let names: Vec<&String> = cli
        .keys()
        .chain(sdk.keys().filter(|k| !cli.contains_key(*k)))
        .collect();
    for name in names {
        match (cli.get(name), sdk.get(name)) {
            (Some(c), None) => {
                let origin = c.values().next().map(|s| s.origin);
                out.push(Problem {
                    file: origin.map_or(FileKind::Config, |o| o.file),
                    line: origin.map(|o| o.line),
                    message: format!(
                        "{kind} '{name}' exists for the AWS CLI but the AWS SDKs do not see it"
                    ),
                    rejects: false,
                });
            }
            (None, Some(s)) => {
                let origin = s.values().next().map(|s| s.origin);
                out.push(Problem {
                    file: origin.map_or(FileKind::Config, |o| o.file),
                    line: origin.map(|o| o.line),
                    message: format!(
                        "{kind} '{name}' exists for the AWS SDKs but the AWS CLI does not see it"
                    ),
                    rejects: false,
                });
            }
            (Some(c), Some(s)) => {
                let keys: Vec<&String> = c
                    .keys()
                    .chain(s.keys().filter(|k| !c.contains_key(*k)))
                    .collect();
                for key in keys {
                    let (cv, sv) = (c.get(key), s.get(key));
                    if cv.map(|x| &x.value) == sv.map(|x| &x.value) {
                        continue;
                    }
                    let origin = cv
                        .or(sv)
                        .map(|x| x.origin)
                        .expect("key comes from one side");
                    let secret = super::model::is_secret_key(key);
                    let values = if secret {
                        String::new()
                    } else {
                        format!(
                            ": the AWS CLI reads {}, the AWS SDKs read {}",
                            show(cv.map(|x| &x.value)),
                            show(sv.map(|x| &x.value))
                        )
                    };
                    out.push(Problem {
                        file: origin.file,
                        line: Some(origin.line),
                        message: format!(
                            "{kind} '{name}', setting '{key}' is read differently{values}.{}",
                            hint(
                                &line_text(origin),
                                cv.map(|x| &x.value),
                                sv.map(|x| &x.value)
                            )
                        ),
                        rejects: false,
                    });
                }
            }
            (None, None) => {}
        }
    }
}

/// Every difference between the two readings, with the line it comes from.
pub fn find(
    cli: &Reading,
    sdk: &Reading,
    config: &Document,
    credentials: &Document,
) -> Vec<Problem> {
    let line_text = |o: Origin| {
        let doc = if o.file == FileKind::Config {
            config
        } else {
            credentials
        };
        doc.get(o.line.wrapping_sub(1))
            .map(|l| l.lossy().into_owned())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    both_defaults(config, &mut out);
    compare_sections(
        "profile",
        &cli.profiles,
        &sdk.profiles,
        &line_text,
        &mut out,
    );
    compare_sections(
        "sso-session",
        &cli.sso_sessions,
        &sdk.sso_sessions,
        &line_text,
        &mut out,
    );
    compare_sections(
        "services",
        &cli.services,
        &sdk.services,
        &line_text,
        &mut out,
    );
    out
}

/// `[default]` and `[profile default]` both in config: the AWS CLI takes whichever comes last,
/// the SDKs always take `[profile default]`. They disagree when `[default]` comes last.
fn both_defaults(config: &Document, out: &mut Vec<Problem>) {
    use super::cli_reading::{config_section_meaning, parse, SectionMeaning};
    let syntax = parse(config);
    let mut order: Vec<(&str, usize)> = Vec::new();
    for block in &syntax.blocks {
        if config_section_meaning(&block.name) == SectionMeaning::Profile("default".into())
            && !order.iter().any(|(n, _)| *n == block.name)
        {
            order.push((&block.name, block.header_line + 1));
        }
    }
    if order.len() < 2 {
        return;
    }
    let (winner, line) = *order.last().expect("two or more");
    if winner == "default" {
        let other = order
            .iter()
            .find(|(n, _)| *n != "default")
            .map_or(0, |(_, l)| *l);
        out.push(Problem {
            file: FileKind::Config,
            line: Some(line),
            message: format!(
                "both [default] (line {line}) and [profile default] (line {other}) exist: the AWS CLI uses [default] because it comes last, the AWS SDKs always use [profile default]. Merge them into one section"
            ),
            rejects: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::files::AwsFiles;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn a_disagreement_on_a_block_never_quotes_a_secret_inside_it() {
        // `[default]` and `[profile default]`: the AWS CLI and the SDKs each read another one.
        let config = format!(
            "[profile default]\ns3 =\n  aws_secret_access_key = {SECRET}\n[default]\ns3 =\n  x = 1\n"
        );
        let files = AwsFiles::from_bytes(config.as_bytes(), b"");
        let problems = files.disagreements();
        assert!(!problems.is_empty(), "the readings disagree on the block");
        for problem in &problems {
            assert!(!problem.message.contains(SECRET), "{}", problem.message);
        }
    }
}
