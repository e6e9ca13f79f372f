//! Secret values (secret access keys, session tokens) that never print themselves and are
//! wiped from memory when dropped.

use std::fmt;

use zeroize::Zeroize;

/// A secret string. `Debug` and `Display` print `<redacted>`, there is no `Serialize`, and its
/// bytes are overwritten with zeros when it is dropped. The value is read only through
/// [`Secret::expose`], so every place that handles the real value is easy to find.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value. Call it only where the value must leave the program (signing, writing
    /// the credentials file), never to build a message.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

/// A secret arrives from the window (a typed secret in an edit) as a plain JSON string; it is
/// never sent back out that way (no `Serialize`).
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The credentials that sign a request: a long-term access key, or temporary credentials with a
/// session token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

impl Credentials {
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<Secret>,
        session_token: Option<Secret>,
    ) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token,
        }
    }

    /// Replaces every occurrence of the secret key or session token in `text` with
    /// `<redacted>`, for text that came from elsewhere (a server's message) before it is shown.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        let secrets = std::iter::once(&self.secret_access_key).chain(self.session_token.as_ref());
        for secret in secrets {
            if !secret.expose().is_empty() {
                out = out.replace(secret.expose(), "<redacted>");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const TOKEN: &str = "FwoGZXIvYXdzEXAMPLETOKEN";

    #[test]
    fn secret_prints_redacted_in_debug_and_display() {
        let secret = Secret::new(SECRET);
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(format!("{secret}"), "<redacted>");
        assert_eq!(secret.expose(), SECRET);
    }

    #[test]
    fn credentials_debug_shows_the_key_id_but_no_secret() {
        let creds = Credentials::new("AKIAEXAMPLE", SECRET, Some(Secret::new(TOKEN)));
        let debug = format!("{creds:?} {creds:#?}");
        assert!(debug.contains("AKIAEXAMPLE"));
        assert!(!debug.contains(SECRET));
        assert!(!debug.contains(TOKEN));
    }

    #[test]
    fn scrub_removes_secret_and_token_from_foreign_text() {
        let creds = Credentials::new("AKIAEXAMPLE", SECRET, Some(Secret::new(TOKEN)));
        let text = format!("server said {SECRET} and {TOKEN}");
        assert_eq!(creds.scrub(&text), "server said <redacted> and <redacted>");
    }
}
