//! Replacing a key whose secret is lost with a key made in the IAM console (`keyrack replace`):
//! the new key is proven to be the same user's before anything is written, then every profile
//! that held the old key gets it and the old key is retired, signed with the new one. A request
//! dropped or a process killed at any point leaves the new key where a second run finds it.

use super::*;
use keyrack::rotation::{plan_replacement, replace};

/// What the files hold where the secret was lost: the key id stays, the secret is wrong.
const WRONG_SECRET: &str = "wrongWrongWrongWrongWrongWrongWrong00000";

impl World {
    /// This world, with the secret of its key mistyped in both profiles (the key id is right).
    fn with_lost_secret(mut self) -> World {
        let lose = |text: &str| text.replace(self.old.secret_access_key.expose(), WRONG_SECRET);
        self.config = lose(&self.config);
        self.credentials = lose(&self.credentials);
        fs::write(self.dir.path().join("config"), &self.config).unwrap();
        fs::write(self.dir.path().join("credentials"), &self.credentials).unwrap();
        self
    }

    /// A key the user makes in the IAM console, and its .csv as the console downloads it.
    async fn console_key(&self) -> (Credentials, PathBuf) {
        let key = self.stand.new_key(&self.user).await;
        let csv = self.dir.path().join("Downloads/user_accessKeys.csv");
        fs::create_dir_all(csv.parent().unwrap()).unwrap();
        fs::write(
            &csv,
            format!(
                "\u{feff}Access key ID,Secret access key\r\n{},{}\r\n",
                key.access_key_id,
                key.secret_access_key.expose()
            ),
        )
        .unwrap();
        (key, csv)
    }

    /// Plan and run the replacement of `work`'s key by `new` through `url`.
    async fn replace_via(
        &self,
        url: &str,
        new: &Credentials,
    ) -> Result<RotationReport, RotationError> {
        let settings = self.settings(url);
        let plan = plan_replacement(&settings, "work", new, RotateOptions::default()).await?;
        replace(&settings, &plan, new, |_| {}).await
    }

    /// The user has `new` only; both profiles hold it, it works (for the AWS CLI too); no
    /// journal, kept key, backup or temporary file holds a secret that left the files.
    async fn assert_replaced_cleanly(&self, new: &Credentials, context: &str) {
        let listed = self.stand.keys_of(&self.user).await;
        let ids: Vec<&str> = listed.iter().map(|k| k.access_key_id.as_str()).collect();
        assert_eq!(ids, [new.access_key_id.as_str()], "{context}");
        assert_eq!(listed[0].status, AccessKeyStatus::Active, "{context}");
        assert_eq!(&self.key_of("work"), new, "{context}: work");
        assert_eq!(&self.key_of("ci"), new, "{context}: ci");
        let left = interrupted_rotations(&self.journal_dir()).unwrap();
        assert!(left.is_empty(), "{context}: journals left: {left:?}");
        assert_aws_cli_works(self, context);
        assert_nowhere_on_disk(
            self,
            &[
                WRONG_SECRET.to_owned(),
                self.old.secret_access_key.expose().to_owned(),
            ],
            context,
        );
        let kept = support::files_holding(&self.state_dir(), &[new.secret_access_key.expose()]);
        assert!(
            kept.is_empty(),
            "{context}: the new secret is still kept in {kept:?}"
        );
    }

    /// The files are as they were and the user's keys are the old one and the console's.
    async fn assert_nothing_written(&self, context: &str) {
        self.assert_files_untouched();
        let listed = self.stand.keys_of(&self.user).await;
        assert!(
            listed
                .iter()
                .any(|k| k.access_key_id == self.old.access_key_id
                    && k.status == AccessKeyStatus::Active),
            "{context}: {listed:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_secret_is_replaced_by_the_consoles_key_file_in_every_profile_and_the_old_key_goes()
{
    let world = World::new().await.with_lost_secret();
    let before = world.aws_cli_identity("work");
    assert!(!before.status.success(), "the mistyped secret works?");
    let (new, csv) = world.console_key().await;
    let csv_arg = csv.display().to_string();
    let out = world.keyrack(&[
        "replace",
        "work",
        "--csv",
        &csv_arg,
        "--yes",
        "--delete-csv",
    ]);
    assert!(out.status.success(), "{}", text_of(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    for expected in [
        format!(
            "Replacing the access key {} of profile 'work' with {}, which works and is IAM user {}'s",
            world.old.access_key_id, new.access_key_id, world.user
        ),
        "Profiles that get the new key: 'ci'".to_owned(),
        format!(
            "Replaced: profile 'work' uses the new key {}",
            new.access_key_id
        ),
        format!("deleted {csv_arg}"),
    ] {
        assert!(said.contains(&expected), "missing {expected:?} in:\n{said}");
    }
    assert!(!csv.exists(), "the .csv holds the secret in plaintext");
    world
        .assert_replaced_cleanly(&new, "after keyrack replace")
        .await;
    // Only the key lines changed: comments, order and the rest are as they were.
    let swap = |text: &str| {
        text.replace(&world.old.access_key_id, &new.access_key_id)
            .replace(WRONG_SECRET, new.secret_access_key.expose())
    };
    assert_eq!(world.read("credentials"), swap(&world.credentials));
    assert_eq!(world.read("config"), swap(&world.config));
    world.assert_no_secret(&text_of(&out), &[&new]);
    support::assert_no_secret_in(&text_of(&out), &[WRONG_SECRET]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_key_can_come_as_its_id_and_a_secret_on_standard_input() {
    let world = World::new().await.with_lost_secret();
    let new = world.stand.new_key(&world.user).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyrack"))
        .args([
            "replace",
            "work",
            "--key-id",
            &new.access_key_id,
            "--secret",
            "-",
            "--yes",
            "--keep-old",
            "--json",
        ])
        .envs(world.env())
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(
        child.stdin.take().unwrap(),
        "{}",
        new.secret_access_key.expose()
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text_of(&out));
    let report = stdout_json(&out);
    assert_eq!(report["new_key_id"], new.access_key_id.as_str());
    assert_eq!(report["old_key"], "inactive");
    assert_eq!(world.key_of("work"), new);
    assert_eq!(world.key_of("ci"), new);
    let old = world
        .stand
        .keys_of(&world.user)
        .await
        .into_iter()
        .find(|k| k.access_key_id == world.old.access_key_id)
        .expect("kept, as asked");
    assert_eq!(old.status, AccessKeyStatus::Inactive);
    world.assert_no_secret(&text_of(&out), &[&new]);
    // Kept Inactive, but its wrong secret is of use to nobody: no backup keeps it.
    assert_nowhere_on_disk(&world, &[WRONG_SECRET.to_owned()], "after --keep-old");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_of_another_user_is_refused_with_whose_it_is_and_nothing_is_written() {
    let world = World::new().await.with_lost_secret();
    let someone_else = World::new().await;
    let (theirs, csv) = someone_else.console_key().await;
    let csv_arg = csv.display().to_string();
    let out = world.keyrack(&["replace", "work", "--csv", &csv_arg, "--yes"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!(
            "the new key {} belongs to {}, and the key {} of profile 'work' is not one of that \
             user's keys: it belongs to user '{}'",
            theirs.access_key_id,
            someone_else.arn(),
            world.old.access_key_id,
            world.user
        )) && said.contains("Nothing was written"),
        "{said}"
    );
    world.assert_nothing_written("another user's key").await;
    assert!(csv.exists(), "the .csv is kept: its key was not saved");
    world.assert_no_secret(&text_of(&out), &[&theirs]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_new_secret_is_refused_before_anything_is_written() {
    let world = World::new().await.with_lost_secret();
    let new = world.stand.new_key(&world.user).await;
    let typo = Credentials::new(
        new.access_key_id.clone(),
        format!("{}x", &new.secret_access_key.expose()[1..]),
        None,
    );
    let error = world
        .replace_via(&world.stand.url, &typo)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "new_key_does_not_work", "{error}");
    assert!(error.to_string().contains("Nothing was written"), "{error}");
    world.assert_nothing_written("a mistyped new secret").await;
    world.assert_no_secret(&format!("{error} {error:?}"), &[&new, &typo]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profiles_own_key_is_no_replacement() {
    let world = World::new().await.with_lost_secret();
    let error = world
        .replace_via(&world.stand.url, &world.old)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "new_key_held_already", "{error}");
    world.assert_nothing_written("the same key").await;
}

/// The requests of an undisturbed replacement (plan and run), all signed with the new key.
async fn requests_of_a_replacement() -> usize {
    let world = World::new().await.with_lost_secret();
    let new = world.stand.new_key(&world.user).await;
    let proxy = Proxy::start(&world.stand.url, Fault::None).await;
    world
        .replace_via(&proxy.url, &new)
        .await
        .expect("undisturbed replacement");
    assert!(proxy.signers().iter().all(|s| *s == new.access_key_id));
    let actions = proxy.actions();
    assert_eq!(
        actions,
        [
            "GetCallerIdentity",
            "ListAccessKeys",
            "GetAccessKeyLastUsed",
            "GetAccessKeyLastUsed",
            "GetCallerIdentity",
            "UpdateAccessKey",
            "DeleteAccessKey"
        ]
    );
    actions.len()
}

/// After an interrupted first run: the new key is in the files or kept by keyrack, never only
/// in AWS; the same replacement run again (straight to moto) finishes it.
async fn assert_replacement_recovers(
    world: &World,
    new: &Credentials,
    first_finished: bool,
    context: &str,
) {
    if !first_finished {
        let second = world.replace_via(&world.stand.url, new).await;
        if let Err(e) = &second {
            panic!("{context}: the second run failed: {e}");
        }
    }
    world.assert_replaced_cleanly(new, context).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_dropped_at_any_point_of_a_replacement_is_finished_by_a_second_run() {
    let total = requests_of_a_replacement().await;
    for k in 1..=total {
        for fault in [Fault::DropBefore(k), Fault::DropAfter(k)] {
            let world = World::new().await.with_lost_secret();
            let new = world.stand.new_key(&world.user).await;
            let proxy = Proxy::start(&world.stand.url, fault).await;
            let first = world.replace_via(&proxy.url, &new).await;
            let action = proxy.actions().get(k - 1).cloned().unwrap_or_default();
            let context = format!("{fault:?} ({action}): {first:?}");
            if let Err(error) = &first {
                world.assert_no_secret(&format!("{error} {error:?}"), &[&new]);
                support::assert_no_secret_in(&format!("{error} {error:?}"), &[WRONG_SECRET]);
            }
            if let Err(RotationError::Stopped(stopped)) = &first {
                assert!(
                    stopped.unfinished,
                    "{context}: the new key is kept for next time"
                );
            }
            assert_replacement_recovers(&world, &new, first.is_ok(), &context).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replacement_killed_at_any_step_is_finished_by_the_next_run() {
    // A panic in the progress callback stops the run right there, like a killed process.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.to_string().contains("simulated kill") {
            default_hook(info)
        }
    }));
    let mut kills = 0;
    for at in 0.. {
        let world = World::new().await.with_lost_secret();
        let new = world.stand.new_key(&world.user).await;
        let settings = world.settings(&world.stand.url);
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = events.clone();
        let given = new.clone();
        let run = tokio::spawn(async move {
            let plan =
                plan_replacement(&settings, "work", &given, RotateOptions::default()).await?;
            replace(&settings, &plan, &given, move |progress| {
                let count = seen.lock().unwrap().len();
                if count == at {
                    panic!("simulated kill");
                }
                seen.lock().unwrap().push(progress.to_string());
            })
            .await
        });
        match run.await {
            Err(join) if join.is_panic() => kills += 1,
            Ok(Ok(_)) => {
                world.assert_replaced_cleanly(&new, "undisturbed").await;
                break;
            }
            other => panic!("event {at}: {other:?}"),
        }
        let context = format!("killed at event {at} after {:?}", events.lock().unwrap());
        // The journal never holds a secret.
        for journal in interrupted_rotations(&world.journal_dir()).unwrap() {
            let text = serde_json::to_string(&journal).unwrap();
            world.assert_no_secret(&text, &[&new]);
            assert!(journal.replacement, "{context}");
        }
        assert_replacement_recovers(&world, &new, false, &context).await;
    }
    assert!(kills >= 6, "only {kills} kill points");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_replacement_is_finished_by_the_rotation_too_and_never_gives_up_the_new_key()
{
    let world = World::new().await.with_lost_secret();
    let new = world.stand.new_key(&world.user).await;
    // Killed once the files hold the new key, before the old key is touched.
    let settings = world.settings(&world.stand.url);
    let given = new.clone();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.to_string().contains("simulated kill") {
            default_hook(info)
        }
    }));
    let run = tokio::spawn(async move {
        let plan = plan_replacement(&settings, "work", &given, RotateOptions::default()).await?;
        replace(&settings, &plan, &given, |progress| {
            if matches!(
                progress,
                Progress::Started {
                    step: Step::VerifyNewKey { .. }
                }
            ) {
                panic!("simulated kill");
            }
        })
        .await
    });
    assert!(run.await.unwrap_err().is_panic());
    assert_eq!(world.key_of("work"), new, "the files hold the new key");
    // What the window offers at start-up: finish the interrupted rotation.
    let journal = interrupted_rotations(&world.journal_dir())
        .unwrap()
        .remove(0);
    let settings = world.settings(&world.stand.url);
    let plan = plan_recovery(&settings, &journal, RotateOptions::default())
        .await
        .unwrap();
    rotate(&settings, &plan, |_| {}).await.unwrap();
    world
        .assert_replaced_cleanly(&new, "finished as a rotation")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_new_key_the_command_says_where_to_make_one() {
    let world = World::new().await.with_lost_secret();
    let out = world.keyrack(&["replace", "work"]);
    assert!(out.status.success(), "{}", text_of(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    for expected in [
        format!(
            "To replace the key {} of profile 'work' (held by 'ci', 'work')",
            world.old.access_key_id
        ),
        "https://console.aws.amazon.com/iam/home#/users".to_owned(),
        // moto makes key ids as AWS does since 2019: they name the account.
        format!("in account {ACCOUNT} (the key id says so)"),
        format!(
            "keys already (Inactive keys count), delete {} there first",
            world.old.access_key_id
        ),
        "Download .csv file".to_owned(),
        "keyrack replace work --csv FILE".to_owned(),
    ] {
        assert!(said.contains(&expected), "missing {expected:?} in:\n{said}");
    }
    world.assert_nothing_written("a guide").await;
}

impl World {
    /// This world with the user's second key, which works, held by profile `spare`.
    async fn with_spare_key(mut self) -> (World, Credentials) {
        let spare = self.stand.new_key(&self.user).await;
        self.credentials.push_str(&format!(
            "\n[spare]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            spare.access_key_id,
            spare.secret_access_key.expose()
        ));
        fs::write(self.dir.path().join("credentials"), &self.credentials).unwrap();
        (self, spare)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_two_keys_the_lost_one_is_retired_with_the_users_other_key_then_replaced() {
    let (world, spare) = World::new().await.with_lost_secret().with_spare_key().await;
    let old = world.old.access_key_id.clone();
    // The guide finds the user through the other key, and says how to make room.
    let out = world.keyrack(&["replace", "work"]);
    assert!(out.status.success(), "{}", text_of(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    for expected in [
        format!("open IAM, Users, {}, Security credentials", world.user),
        format!(
            "IAM user {} has two access keys already, the most AWS allows (Inactive keys \
             count), so the console refuses a third: delete {old} first",
            world.user
        ),
        format!("To make room: keyrack keys spare --delete {old}"),
    ] {
        assert!(said.contains(&expected), "missing {expected:?} in:\n{said}");
    }
    // As AWS, moto counts an Inactive key against the two.
    let made_inactive = world.keyrack(&["keys", "spare", "--make-inactive", &old]);
    assert!(
        made_inactive.status.success(),
        "{}",
        text_of(&made_inactive)
    );
    let third = iam::create_access_key(
        &world.stand.client,
        &endpoint(&world.stand.url, Service::Iam),
        &world.stand.admin,
        Some(&world.user),
    )
    .await;
    assert!(third.is_err(), "a third key next to an Inactive one");
    // The lost key may go although profiles hold it: AWS refuses its secret in all of them.
    let out = world.keyrack(&["keys", "spare", "--delete", &old, "--yes"]);
    assert!(out.status.success(), "{}", text_of(&out));
    let keys = world.stand.keys_of(&world.user).await;
    assert!(keys.iter().all(|k| k.access_key_id != old), "{keys:?}");
    // Now the console makes a new key; keyrack noted whose the deleted key was, so the
    // replacement still proves the new key is the same user's.
    let (new, csv) = world.console_key().await;
    let csv_arg = csv.display().to_string();
    let out = world.keyrack(&["replace", "work", "--csv", &csv_arg, "--yes"]);
    assert!(out.status.success(), "{}", text_of(&out));
    let mut ids: Vec<String> = world
        .stand
        .keys_of(&world.user)
        .await
        .into_iter()
        .map(|k| k.access_key_id)
        .collect();
    ids.sort();
    let mut expected = vec![new.access_key_id.clone(), spare.access_key_id.clone()];
    expected.sort();
    assert_eq!(ids, expected, "the lost key is gone, the spare key stays");
    let noted = world.state_dir().join("keyrack/lost-keys");
    assert!(
        fs::read_dir(&noted).map_or(true, |mut d| d.next().is_none()),
        "the note goes with the replacement"
    );
    assert_eq!(world.key_of("work"), new);
    assert_eq!(world.key_of("ci"), new);
    assert_eq!(world.key_of("spare"), spare);
    world.assert_no_secret(&text_of(&out), &[&new, &spare]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_still_works_in_one_profile_here_is_never_retired_from_another() {
    let (world, _spare) = World::new().await.with_spare_key().await;
    // Only `work` lost the secret; `ci` still holds the right one.
    let lost = world
        .credentials
        .replace(world.old.secret_access_key.expose(), WRONG_SECRET);
    fs::write(world.dir.path().join("credentials"), &lost).unwrap();
    let old = world.old.access_key_id.clone();
    let out = world.keyrack(&["keys", "spare", "--make-inactive", &old]);
    assert!(!out.status.success(), "{}", text_of(&out));
    assert!(
        text_of(&out).contains(&format!("the key {old} is in profiles 'ci', 'work' here")),
        "{}",
        text_of(&out)
    );
    let keys = world.stand.keys_of(&world.user).await;
    assert!(keys.iter().all(|k| k.status == AccessKeyStatus::Active));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_key_deleted_in_the_console_is_replaced_once_the_person_says_so() {
    let world = World::new().await.with_lost_secret();
    let old = world.old.access_key_id.clone();
    world
        .stand
        .admin_call(
            "DeleteAccessKey",
            &[
                ("UserName", world.user.as_str()),
                ("AccessKeyId", old.as_str()),
            ],
        )
        .await;
    let (new, csv) = world.console_key().await;
    let csv_arg = csv.display().to_string();
    // Nobody can prove whose a deleted key was: keyrack asks.
    let out = world.keyrack(&["replace", "work", "--csv", &csv_arg, "--yes"]);
    assert!(!out.status.success());
    assert!(
        text_of(&out).contains(&format!(
            "If you deleted {old} in the console to make room, say so (--old-key-deleted"
        )),
        "{}",
        text_of(&out)
    );
    world.assert_files_untouched();
    // Said: the key id names the new key's account, so it goes ahead.
    let out = world.keyrack(&[
        "replace",
        "work",
        "--csv",
        &csv_arg,
        "--yes",
        "--old-key-deleted",
    ]);
    assert!(out.status.success(), "{}", text_of(&out));
    assert!(
        text_of(&out).contains(&format!(
            "IAM no longer shows the key {old}: only your word says it was {}'s",
            world.user
        )),
        "{}",
        text_of(&out)
    );
    world
        .assert_replaced_cleanly(&new, "old key deleted in the console")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saying_the_old_key_was_deleted_does_not_pass_another_users_key() {
    let world = World::new().await.with_lost_secret();
    let someone_else = World::new().await;
    let (_, csv) = someone_else.console_key().await;
    let csv_arg = csv.display().to_string();
    let out = world.keyrack(&[
        "replace",
        "work",
        "--csv",
        &csv_arg,
        "--yes",
        "--old-key-deleted",
    ]);
    assert!(!out.status.success());
    assert!(
        text_of(&out).contains(&format!("it belongs to user '{}'", world.user)),
        "{}",
        text_of(&out)
    );
    world.assert_nothing_written("another user's key").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replacement_killed_after_any_request_reached_aws_is_finished_by_the_next_run() {
    let total = requests_of_a_replacement().await;
    for k in 1..=total {
        let world = World::new().await.with_lost_secret();
        let new = world.stand.new_key(&world.user).await;
        let proxy = Proxy::start(&world.stand.url, Fault::HoldAfter(k)).await;
        let settings = world.settings(&proxy.url);
        let given = new.clone();
        let mut run = tokio::spawn(async move {
            let plan =
                plan_replacement(&settings, "work", &given, RotateOptions::default()).await?;
            replace(&settings, &plan, &given, |_| {}).await
        });
        tokio::select! {
            _ = proxy.held() => {
                run.abort();
                let _ = (&mut run).await;
            }
            finished = &mut run => panic!("request {k} was never sent: {finished:?}"),
        }
        let context = format!("killed after request {k} ({})", proxy.actions()[k - 1]);
        // Wherever it stopped, the new key is in the files or kept, never only in AWS.
        let kept = support::files_holding(&world.state_dir(), &[new.secret_access_key.expose()]);
        let in_files = world.key_of("work") == new;
        let started = !interrupted_rotations(&world.journal_dir())
            .unwrap()
            .is_empty();
        assert!(!started || in_files || !kept.is_empty(), "{context}");
        assert_replacement_recovers(&world, &new, false, &context).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_the_new_secret_is_asked_without_echo_and_the_plan_confirmed() {
    use std::io::Write;
    let world = World::new().await.with_lost_secret();
    let new = world.stand.new_key(&world.user).await;
    let command = format!(
        "'{}' replace work --key-id {}",
        env!("CARGO_BIN_EXE_keyrack"),
        new.access_key_id
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .envs(world.env())
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run script");
    let mut typing = child.stdin.take().unwrap();
    // Typed once the prompt has turned echo off, as a person would.
    std::thread::sleep(Duration::from_millis(1500));
    writeln!(typing, "{}", new.secret_access_key.expose()).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    writeln!(typing, "y").unwrap();
    drop(typing);
    let out = child.wait_with_output().unwrap();
    let shown = text_of(&out);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains(&format!(
            "aws_secret_access_key for the new key {} (not shown as you type)",
            new.access_key_id
        )) && shown.contains("Replace now? [y/N]"),
        "{shown}"
    );
    world.assert_no_secret(&shown, &[&new]);
    world.assert_replaced_cleanly(&new, "on a terminal").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_whose_secret_works_gets_no_offer_to_delete_it_and_no_lost_key_wording() {
    let (world, _spare) = World::new().await.with_spare_key().await;
    let out = world.keyrack(&["replace", "work", "--json"]);
    assert!(out.status.success(), "{}", text_of(&out));
    let guide = stdout_json(&out);
    assert_eq!(guide["secret_refused"], false, "{guide}");
    assert_eq!(guide["can_make_room"], false, "{guide}");
    assert_eq!(guide["seen_from"]["profile"], "spare", "{guide}");
    let steps = guide["steps"].to_string();
    assert!(
        steps.contains("this key still works, so not this one"),
        "{steps}"
    );
    let old = &world.old.access_key_id;
    assert!(!steps.contains(&format!("delete {old}")), "{steps}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_folder_that_cannot_keep_the_new_key_says_so_and_nothing_is_written() {
    let world = World::new().await.with_lost_secret();
    let new = world.stand.new_key(&world.user).await;
    // Where the new key would be kept is a file, not a folder.
    fs::create_dir_all(world.state_dir().join("keyrack")).unwrap();
    fs::write(world.state_dir().join("keyrack/new-keys"), "").unwrap();
    let error = world.replace_via(&world.stand.url, &new).await.unwrap_err();
    assert_eq!(error.code(), "new_key_not_kept", "{error}");
    let said = error.to_string();
    assert!(
        said.contains("new-keys") && said.contains("Nothing was written"),
        "{said}"
    );
    world
        .assert_nothing_written("no place to keep the new key")
        .await;
    assert!(interrupted_rotations(&world.journal_dir())
        .unwrap()
        .is_empty());
    world.assert_no_secret(&format!("{error} {error:?}"), &[&new]);
}
