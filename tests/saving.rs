//! Saving never loses a byte: atomic replace, modes and owners kept, outside changes never
//! overwritten, the previous version kept as a backup.

use keyrack::files::edit::{KeyPath, Section};
use keyrack::files::save::{self, SaveError};
use keyrack::files::{AwsFiles, FilePaths, FilesError};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn paths_in(dir: &Path) -> FilePaths {
    FilePaths {
        config: dir.join(".aws/config"),
        credentials: dir.join(".aws/credentials"),
    }
}

fn set(files: &mut AwsFiles, profile: &str, key: &str, value: &str) {
    files
        .set(
            &Section::Profile(profile.into()),
            &KeyPath::parse(key).unwrap(),
            value,
        )
        .unwrap();
}

#[test]
fn new_files_are_created_0600_in_a_new_0700_folder() {
    let home = tempfile::tempdir().unwrap();
    let paths = paths_in(home.path());
    let mut files = AwsFiles::load(&paths).unwrap();
    set(
        &mut files,
        "default",
        "aws_access_key_id",
        "AKIAIOSFODNN7EXAMPLE",
    );
    set(&mut files, "default", "region", "us-east-1");
    files.save().unwrap();
    assert_eq!(mode(&home.path().join(".aws")), 0o700);
    assert_eq!(mode(&paths.config), 0o600);
    assert_eq!(mode(&paths.credentials), 0o600);
    assert_eq!(
        fs::read_to_string(&paths.config).unwrap(),
        "[default]\nregion = us-east-1\n"
    );
}

#[test]
fn a_save_keeps_the_mode_and_leaves_a_backup_of_the_previous_version() {
    let home = tempfile::tempdir().unwrap();
    let paths = paths_in(home.path());
    fs::create_dir_all(paths.config.parent().unwrap()).unwrap();
    fs::write(&paths.config, "[default]\nregion = us-east-1\n").unwrap();
    fs::set_permissions(&paths.config, fs::Permissions::from_mode(0o640)).unwrap();
    let mut files = AwsFiles::load(&paths).unwrap();
    set(&mut files, "default", "region", "eu-west-1");
    files.save().unwrap();
    assert_eq!(mode(&paths.config), 0o640);
    let backup = save::backup_path(&paths.config);
    assert_eq!(
        fs::read_to_string(&backup).unwrap(),
        "[default]\nregion = us-east-1\n"
    );
    assert_eq!(mode(&backup), 0o640);
    // No temporary file is left behind.
    let leftovers: Vec<_> = fs::read_dir(paths.config.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_backup_of_a_credentials_file_others_can_read_is_readable_by_its_owner_only() {
    let home = tempfile::tempdir().unwrap();
    let paths = paths_in(home.path());
    fs::create_dir_all(paths.credentials.parent().unwrap()).unwrap();
    let before = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    fs::write(&paths.credentials, before).unwrap();
    fs::set_permissions(&paths.credentials, fs::Permissions::from_mode(0o644)).unwrap();
    let mut files = AwsFiles::load(&paths).unwrap();
    set(
        &mut files,
        "default",
        "aws_access_key_id",
        "AKIAI44QH8DHBEXAMPLE",
    );
    files.save().unwrap();
    assert_eq!(
        mode(&paths.credentials),
        0o644,
        "the live file keeps the mode its owner gave it"
    );
    let backup = save::backup_path(&paths.credentials);
    assert_eq!(fs::read_to_string(&backup).unwrap(), before);
    assert_eq!(mode(&backup), 0o600, "a backup holding a secret is private");
}

#[test]
fn a_change_made_outside_since_loading_is_never_overwritten() {
    let home = tempfile::tempdir().unwrap();
    let paths = paths_in(home.path());
    fs::create_dir_all(paths.config.parent().unwrap()).unwrap();
    fs::write(&paths.config, "[default]\nregion = us-east-1\n").unwrap();
    let mut files = AwsFiles::load(&paths).unwrap();
    set(&mut files, "default", "region", "eu-west-1");
    fs::write(
        &paths.config,
        "[default]\nregion = ap-south-1\n# edited in vim\n",
    )
    .unwrap();
    let err = files.save().unwrap_err();
    assert!(
        matches!(err, FilesError::Save(SaveError::Conflict { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("changed on disk"), "{err}");
    assert_eq!(
        fs::read_to_string(&paths.config).unwrap(),
        "[default]\nregion = ap-south-1\n# edited in vim\n"
    );
}

#[test]
fn a_file_created_outside_since_loading_is_never_overwritten() {
    let home = tempfile::tempdir().unwrap();
    let paths = paths_in(home.path());
    let mut files = AwsFiles::load(&paths).unwrap();
    set(&mut files, "default", "region", "eu-west-1");
    fs::create_dir_all(paths.config.parent().unwrap()).unwrap();
    fs::write(&paths.config, "[default]\nregion = ap-south-1\n").unwrap();
    assert!(matches!(
        files.save(),
        Err(FilesError::Save(SaveError::Conflict { .. }))
    ));
    assert_eq!(
        fs::read_to_string(&paths.config).unwrap(),
        "[default]\nregion = ap-south-1\n"
    );
}

#[test]
fn a_symlinked_file_is_written_through_and_the_link_survives() {
    let home = tempfile::tempdir().unwrap();
    let dotfiles = home.path().join("dotfiles");
    fs::create_dir_all(&dotfiles).unwrap();
    fs::create_dir_all(home.path().join(".aws")).unwrap();
    fs::write(
        dotfiles.join("aws-config"),
        "[default]\nregion = us-east-1\n",
    )
    .unwrap();
    let paths = paths_in(home.path());
    std::os::unix::fs::symlink("../dotfiles/aws-config", &paths.config).unwrap();
    let mut files = AwsFiles::load(&paths).unwrap();
    set(&mut files, "default", "region", "eu-west-1");
    files.save().unwrap();
    assert!(fs::symlink_metadata(&paths.config)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read_to_string(dotfiles.join("aws-config")).unwrap(),
        "[default]\nregion = eu-west-1\n"
    );
}
