//! The private Secret Service that the keychain tests write to: the one
//! `tests/tools/with-keyring.sh` starts (a fresh, unlocked gnome-keyring on a private D-Bus
//! session). The tests refuse to run against any other keyring, so they never touch yours.

use keyrack::keychain::Keychain;

/// The test keyring, or a panic that says how to get one. Never a silent pass.
pub fn keychain() -> Keychain {
    assert!(
        std::env::var_os("KEYRACK_TEST_KEYRING").is_some(),
        "this test writes to a real keychain and needs the throw-away Secret Service of the test setup: \
         run the tests as `tests/tools/with-keyring.sh cargo test` (it starts a private D-Bus session \
         with an unlocked gnome-keyring)"
    );
    let keychain = Keychain::platform();
    keychain.connect().unwrap_or_else(|e| {
        panic!("no Secret Service is reachable inside tests/tools/with-keyring.sh: {e}")
    });
    keychain
}

/// A keychain account no other test uses, with no entry left from an earlier run.
pub fn fresh_account(keychain: &Keychain, name: &str) -> String {
    let account = format!("test-{name}");
    keychain.delete(&account).expect("clear the test entry");
    account
}
