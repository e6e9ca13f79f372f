//! Generates the Tauri context (config, capabilities) and the permission set of keyrack's own
//! commands: the webview may call exactly these and nothing else.

fn main() {
    println!("cargo:rerun-if-changed=capabilities");
    println!("cargo:rerun-if-changed=../ui");
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "load",
            "save_settings",
            "vocabulary",
            "watch_files",
            "check_input",
            "reveal_secret",
            "copy_secret",
            "apply_change",
            "configure_default",
            "check_identities",
            "answer_mfa",
            "forget_sessions",
            "mfa_login",
            "listen_for_mfa",
            "rotation_plan",
            "recovery_plan",
            "rotate_key",
            "interrupted_rotations",
            "change_other_key",
            "replacement_guide",
            "replacement_plan",
            "replace_key",
            "move_to_keychain",
            "restore_from_keychain",
            "clean_leftovers",
            "sso_login",
            "sso_logout",
            "sso_populate_plan",
            "sso_populate",
            "sso_cancel",
            "listen_for_drops",
            "pick_key_file",
            "preview_key_file",
            "import_key_file",
            "delete_key_file",
            "question",
            "answer",
        ]),
    ))
    .expect("tauri-build failed");
}
