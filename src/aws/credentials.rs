//! The credentials that sign an AWS request, their secrets held as [`Secret`].

use crate::secret::Secret;

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
