//! MFA codes: the six digits a virtual MFA device shows, checked for their shape before any call
//! (a code is never repeated in a message: it is a one-time secret).

use crate::secret::Secret;

/// A code of the right shape: six ASCII digits (spaces between them, as people paste them, are
/// dropped).
#[derive(Clone, PartialEq, Eq)]
pub struct MfaCode(Secret);

impl std::fmt::Debug for MfaCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaCode(******)")
    }
}

/// The code given for a run (`--mfa-code`): it works once (STS refuses a code it has seen), so it
/// is handed out once, to the first sign-in that needs one, however many sessions, plans and
/// rotations the run makes; later sign-ins ask the person instead. Clones share that.
#[derive(Clone, Debug)]
pub struct GivenCode {
    code: MfaCode,
    spent: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl GivenCode {
    pub fn new(code: MfaCode) -> GivenCode {
        GivenCode {
            code,
            spent: Default::default(),
        }
    }

    /// The code, the first time it is asked for; `None` after.
    pub fn take(&self) -> Option<MfaCode> {
        let spent = self.spent.swap(true, std::sync::atomic::Ordering::SeqCst);
        (!spent).then(|| self.code.clone())
    }
}

/// Why a code was refused before anything was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "an MFA code is the 6 digits your authenticator app shows; the code given {reason} (it is not \
     repeated here); nothing was sent to AWS"
)]
pub struct BadMfaCode {
    reason: &'static str,
}

impl MfaCode {
    pub fn parse(text: &str) -> Result<MfaCode, BadMfaCode> {
        let code: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let code = Secret::new(code);
        if !code.expose().chars().all(|c| c.is_ascii_digit()) {
            return Err(BadMfaCode {
                reason: "has something other than digits",
            });
        }
        if code.expose().len() != 6 {
            return Err(BadMfaCode {
                reason: "does not have 6 digits",
            });
        }
        Ok(MfaCode(code))
    }

    /// The digits, for the one request that sends them.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// What a person is asked for: the code of `serial`, to sign in with `profile` (its role, or its
/// key's MFA session). `retry`: AWS did not accept the code given before (wrong, already used,
/// or too old).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MfaRequest {
    pub profile: String,
    pub serial: String,
    pub retry: bool,
    /// How long the session will last (`duration_seconds`, else AWS's hour for a role and 12
    /// hours for a key's MFA session).
    pub session_seconds: u32,
    /// A role's session, kept where the AWS CLI keeps its own (it uses it too); else a key's MFA
    /// session, kept in the keychain.
    pub aws_cli_shares: bool,
    /// Every profile of the files that signs in with this device, in file order: one code
    /// unlocks them all.
    pub unlocks: Vec<String>,
}

/// Who asks a person for MFA codes: the terminal for the command line, the window for the app.
/// `None`: there is no one to ask (no terminal), or the person declined.
pub trait MfaPrompt: Send + Sync {
    fn code(&self, request: &MfaRequest) -> Option<MfaCode>;
}

impl std::fmt::Debug for dyn MfaPrompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaPrompt")
    }
}

/// How many codes a person is asked for, for one role in one run, before keyrack gives up.
pub const ATTEMPTS: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_digits_pass_spaces_are_dropped_and_anything_else_is_refused_without_repeating_it() {
        assert_eq!(MfaCode::parse("123456").unwrap().expose(), "123456");
        assert_eq!(MfaCode::parse(" 123 456\n").unwrap().expose(), "123456");
        for bad in ["12345", "1234567", "12a456", "", "１２３４５６"] {
            let error = MfaCode::parse(bad).unwrap_err().to_string();
            assert!(bad.is_empty() || !error.contains(bad), "{error}");
            assert!(error.contains("nothing was sent"), "{error}");
        }
        assert_eq!(
            format!("{:?}", MfaCode::parse("123456").unwrap()),
            "MfaCode(******)"
        );
    }
}
