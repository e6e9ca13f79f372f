//! What keyrack accepts as a profile name, a setting name and a value: only what every AWS
//! tool reads back exactly as written.

use super::python_text::is_space;

/// Why a name or value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("it contains a line break, which would split the file's line")]
    LineBreak,
    #[error(
        "it contains {0:?}; AWS tools read back only letters, digits and _-/.%@:+ in profile names"
    )]
    ProfileChar(char),
    #[error("it contains {0:?}; setting names may use only letters, digits and _-/%@+")]
    KeyChar(char),
    #[error("it contains the control character U+{0:04X}, which AWS tools read differently")]
    Control(u32),
    #[error("it starts or ends with whitespace, which AWS tools strip when they read it")]
    OuterSpace,
}

fn no_breaks(s: &str) -> Result<(), NameError> {
    if s.contains(['\n', '\r']) {
        return Err(NameError::LineBreak);
    }
    Ok(())
}

/// A profile (or sso-session) name that both the AWS CLI and the SDKs read back.
pub fn check_profile_name(name: &str) -> Result<(), NameError> {
    no_breaks(name)?;
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_-/.%@:+".contains(*c)))
    {
        Some(c) => Err(NameError::ProfileChar(c)),
        None => Ok(()),
    }
}

/// A setting name (top-level or nested): no separators, brackets, comment marks or spaces.
pub fn check_key(key: &str) -> Result<(), NameError> {
    no_breaks(key)?;
    if key.is_empty() {
        return Err(NameError::Empty);
    }
    match key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_-/%@+".contains(*c)))
    {
        Some(c) => Err(NameError::KeyChar(c)),
        None => Ok(()),
    }
}

/// A value that reads back exactly: one line, no control characters, no outer whitespace.
pub fn check_value(value: &str) -> Result<(), NameError> {
    no_breaks(value)?;
    if let Some(c) = value
        .chars()
        .find(|c| c.is_control() && *c != '\t' || matches!(c, '\u{2028}' | '\u{2029}'))
    {
        return Err(NameError::Control(c as u32));
    }
    if value.starts_with(is_space) || value.ends_with(is_space) {
        return Err(NameError::OuterSpace);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_that_every_tool_reads_back() {
        assert!(check_profile_name("dev-account_1@corp.example/x:y+z%").is_ok());
        assert_eq!(check_profile_name("a b"), Err(NameError::ProfileChar(' ')));
        assert_eq!(check_profile_name("a\nb"), Err(NameError::LineBreak));
        assert_eq!(check_profile_name("x]"), Err(NameError::ProfileChar(']')));
        assert_eq!(check_profile_name(""), Err(NameError::Empty));
    }

    #[test]
    fn values_must_read_back_unchanged() {
        assert!(check_value("C:\\Program Files\\x.exe --flag \"q\"").is_ok());
        assert!(check_value("").is_ok());
        assert_eq!(check_value("a\r"), Err(NameError::LineBreak));
        assert_eq!(check_value(" padded"), Err(NameError::OuterSpace));
        assert_eq!(check_value("a\u{0c}b"), Err(NameError::Control(0x0c)));
    }

    #[test]
    fn an_invisible_character_is_named_in_the_message() {
        let message = check_key("\u{3000}region").unwrap_err().to_string();
        assert!(message.starts_with("it contains '\\u{3000}'"), "{message}");
        assert!(check_profile_name("a b")
            .unwrap_err()
            .to_string()
            .starts_with("it contains ' '"));
    }

    #[test]
    fn keys_cannot_hold_separators() {
        assert!(check_key("max_concurrent_requests").is_ok());
        assert_eq!(check_key("a:b"), Err(NameError::KeyChar(':')));
        assert_eq!(check_key("a=b"), Err(NameError::KeyChar('=')));
    }
}
