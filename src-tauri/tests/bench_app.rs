//! The desktop app's benchmarks (not timed tests; `scripts/bench-app` runs them with the release
//! build): launch to the profile list rendered with 200 profiles, and memory as PSS summed over
//! the app and its WebKit processes; and at 2,000 profiles (what `sso populate` makes of a large
//! organisation) launch, a filter keystroke, Check all of 200 against moto next to the AWS CLI
//! once per profile (200 profiles sharing one key, then 200 profiles of 200 IAM users), and
//! memory, next to the same window on no files.

mod support;

use std::fs;
use std::time::{Duration, UNIX_EPOCH};

use keyrack::aws::Credentials;
use support::desktop::{app_env, group_members, Desktop};

/// Profiles of every kind, as a heavy user's files look.
fn files_with(count: usize) -> (String, String) {
    let (mut config, mut credentials) = (
        String::from("[default]\nregion = us-east-1\noutput = json\n\n"),
        String::new(),
    );
    for i in 0..count - 1 {
        let name = format!("account-{i:03}");
        match i % 4 {
            0 | 1 => {
                config.push_str(&format!("[profile {name}]\nregion = eu-west-{}\n\n", 1 + i % 3));
                credentials.push_str(&format!("[{name}]\naws_access_key_id = AKIA{i:016}\naws_secret_access_key = {}\n\n", "s".repeat(40)));
            }
            2 => config.push_str(&format!("# role in account {i}\n[profile {name}]\nrole_arn = arn:aws:iam::{:012}:role/Admin\nsource_profile = default\nregion = us-west-2\n\n", 100000000000u64 + i as u64)),
            _ => config.push_str(&format!("[profile {name}]\ncredential_process = /usr/local/bin/creds {name}\noutput = table\n\n")),
        }
    }
    (config, credentials)
}

/// The median and the largest of `values`.
fn median_max(values: &mut [f64]) -> (f64, f64) {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (values[values.len() / 2], values[values.len() - 1])
}

/// PSS of the app and its WebKit processes (KiB), and each one's share.
fn app_pss(app: &Desktop) -> (u64, String) {
    let members: Vec<u32> = group_members(app.process_group())
        .into_iter()
        .filter(|pid| {
            matches!(
                command_name(*pid).as_str(),
                "keyrack-app" | "WebKitWebProces" | "WebKitNetworkPr"
            )
        })
        .collect();
    let detail: Vec<String> = members
        .iter()
        .map(|p| format!("{} {} MiB", command_name(*p), pss_kib(*p) / 1024))
        .collect();
    (members.iter().map(|p| pss_kib(*p)).sum(), detail.join(", "))
}

/// When `pid` started, in milliseconds since the epoch (to the kernel's 10 ms tick): its start
/// after boot, placed by how long ago boot was now (/proc/uptime, as precise as the tick).
fn process_started_ms(pid: u32) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
    // Field 22 of stat (the 20th after pid and comm): clock ticks after boot.
    let ticks: f64 = after_comm.split(' ').nth(19).unwrap().parse().unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0;
    let up_s: f64 = fs::read_to_string("/proc/uptime")
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    now_ms - (up_s - ticks / clock_ticks_per_second()) * 1000.0
}

fn clock_ticks_per_second() -> f64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// CPU seconds `pid` has used (user and system).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some(close) = stat.rfind(')') else {
        return 0.0;
    };
    let fields: Vec<f64> = stat[close + 2..]
        .split(' ')
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    fields.iter().sum::<f64>() / clock_ticks_per_second()
}

/// The app's own process in `app`'s process group.
fn app_pid(app: &Desktop) -> u32 {
    group_members(app.process_group())
        .into_iter()
        .find(|pid| command_name(*pid) == "keyrack-app")
        .expect("the keyrack-app process")
}

/// Milliseconds to its list of `count` profiles first rendered (the page's own mark): from the
/// WebDriver session asked for (`requested`), which includes WebKitWebDriver starting the app
/// with automation on, and from the app's own process starting, what a double-click costs.
async fn launch_to_list_ms(
    app: &Desktop,
    requested: Option<std::time::SystemTime>,
    count: usize,
) -> Launch {
    app.wait_js(
        &format!(
            "return document.querySelector('#profile-count').textContent === '({count})' && !!document.querySelector('#profiles li.profile')"
        ),
        "the list",
    )
    .await;
    let marks = app
        .driver
        .execute(
            "return [Number(document.body.dataset.listRenderedAt), performance.timeOrigin]",
            vec![],
        )
        .await
        .unwrap();
    let (rendered, page_began) = (
        marks.json()[0].as_f64().unwrap(),
        marks.json()[1].as_f64().unwrap(),
    );
    let requested_ms = requested
        .unwrap()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0;
    // The page's part, from its own marks (ui/app.js), in milliseconds after the page began.
    let timings = app
        .driver
        .execute(
            "const nav = performance.getEntriesByType('navigation')[0];
             const ms = (v) => Math.round(v);
             const marks = performance.getEntriesByType('mark')
               .map((m) => `${m.name.replace('keyrack:', '')} ${ms(m.startTime)}`);
             return `DOMContentLoaded ${ms(nav.domContentLoadedEventEnd)}, ` + marks.join(', ');",
            vec![],
        )
        .await
        .unwrap();
    eprintln!(
        "  page timings: {}",
        timings.json().as_str().unwrap_or_default()
    );
    let started = process_started_ms(app_pid(app));
    Launch {
        from_session: rendered - requested_ms,
        from_process: rendered - started,
        page: rendered - page_began,
    }
}

/// The medians of `launches` from the WebDriver session asked for and from the app's process.
fn launch_medians(launches: &[Launch]) -> (f64, f64) {
    let mut session: Vec<f64> = launches.iter().map(|l| l.from_session).collect();
    let mut process: Vec<f64> = launches.iter().map(|l| l.from_process).collect();
    (median_max(&mut session).0, median_max(&mut process).0)
}

/// Where a launch's time goes, in milliseconds until the list is first rendered.
struct Launch {
    /// From the WebDriver session asked for.
    from_session: f64,
    /// From the app's process started.
    from_process: f64,
    /// From the page's navigation start.
    page: f64,
}

impl std::fmt::Display for Launch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "list rendered {:.0} ms after the WebDriver session was asked for, {:.0} ms after the app process started (the page's part {:.0} ms)",
            self.from_session, self.from_process, self.page
        )
    }
}

fn pss_kib(pid: u32) -> u64 {
    let text = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with("Pss:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn command_name(pid: u32) -> String {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[tokio::test]
#[ignore = "a benchmark: run it through scripts/bench-app"]
async fn launch_to_list_and_memory_with_200_profiles() {
    let runs: usize = std::env::var("KEYRACK_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    fs::create_dir_all(&aws).unwrap();
    let (config, credentials) = files_with(200);
    fs::write(aws.join("config"), config).unwrap();
    fs::write(aws.join("credentials"), credentials).unwrap();

    let mut launches = Vec::new();
    let mut pss = Vec::new();
    for run in 0..runs {
        let mut requested = None;
        let app = Desktop::launch(home.path(), app_env(home.path(), None), &mut requested).await;
        launches.push(launch_to_list_ms(&app, requested, 200).await);
        // Let the window settle, then measure the app and its WebKit processes.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (total, detail) = app_pss(&app);
        pss.push(total);
        if run == 0 {
            app.screenshot("bench-200-profiles").await;
        }
        eprintln!(
            "run {}: {}; PSS {} MiB ({})",
            run + 1,
            launches[run],
            total / 1024,
            detail
        );
        app.close().await;
    }
    pss.sort();
    let (session, process) = launch_medians(&launches);
    println!(
        "bench-app: launch to profile list rendered (200 profiles): median {process:.0} ms from the app's process starting, {session:.0} ms from the WebDriver session asked for ({runs} launches)"
    );
    println!(
        "bench-app: memory PSS, app + WebKit processes: median {} MiB",
        pss[runs / 2] / 1024
    );
}

/// 2,000 profiles: the 200 `live-NNN` share `key` (a working key at moto), the 200 `user-NNN`
/// hold `users`' keys, one IAM user each; the others are every kind, as [`files_with`] makes
/// them.
fn two_thousand_with_live(key: &Credentials, users: &[Credentials]) -> (String, String) {
    let (config, mut credentials) = files_with(1600);
    let holding = |name: &str, key: &Credentials| {
        format!(
            "[{name}]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n",
            key.access_key_id,
            key.secret_access_key.expose()
        )
    };
    for i in 0..200 {
        credentials.push_str(&holding(&format!("live-{i:03}"), key));
    }
    for (i, user) in users.iter().enumerate() {
        credentials.push_str(&holding(&format!("user-{i:03}"), user));
    }
    (config, credentials)
}

/// Check all of the 200 profiles the filter `filter` leaves, clicked in the window: seconds
/// until the window says all were checked, and the CPU seconds moto spent answering.
async fn check_all_200(
    app: &Desktop,
    moto: &support::moto::MotoServer,
    filter: &str,
) -> (f64, f64) {
    app.type_into("#filter", filter).await;
    app.wait_text("#profile-count", "(200 of 2000)").await;
    let moto_cpu = cpu_seconds(moto.pid());
    let started = std::time::Instant::now();
    app.click("#check-all").await;
    // Watched from inside the page (one WebDriver call): polling the text every few
    // milliseconds through WebDriver would take the CPU that the app and moto need.
    app.driver
        .execute_async(
            "const done = arguments[0]; const text = document.querySelector('#progress-text');
             const finished = () => text.textContent.includes('Checked 200 profiles');
             // Only a change after the click counts: the text may still say the last run's end.
             new MutationObserver((_, observer) => { if (finished()) { observer.disconnect(); done(); } })
               .observe(text, { childList: true, characterData: true, subtree: true });",
            vec![],
        )
        .await
        .expect("Check all finishes");
    let took = started.elapsed().as_secs_f64();
    let moto_busy = cpu_seconds(moto.pid()) - moto_cpu;
    let text = app.body_text().await;
    assert!(
        text.contains("200 working, 0 failing"),
        "every {filter} profile works: {}",
        text.lines()
            .find(|l| l.contains("Checked"))
            .unwrap_or_default()
    );
    (took, moto_busy)
}

#[tokio::test]
#[ignore = "a benchmark: run it through scripts/bench-app"]
async fn two_thousand_profiles_launch_filter_check_all_and_memory() {
    let runs: usize = std::env::var("KEYRACK_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let moto = support::moto::MotoServer::start();
    let alice = moto.set_up_user("alice").await;
    let mut users = Vec::new();
    for i in 0..200 {
        users.push(moto.set_up_user(&format!("user-{i:03}")).await);
    }
    moto.enable_auth().await;
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    fs::create_dir_all(&aws).unwrap();
    let (config, credentials) = two_thousand_with_live(&alice, &users);
    fs::write(aws.join("config"), config).unwrap();
    fs::write(aws.join("credentials"), credentials).unwrap();
    let env = app_env(home.path(), Some(&moto.url));
    // moto's first answers of a kind are slow (it compiles its templates, in every thread at
    // once when the first calls come together): it answers each call Check all makes once,
    // asked by the AWS CLI, before either side is measured.
    for call in [
        &["sts", "get-caller-identity"][..],
        &["iam", "list-access-keys"],
        &[
            "iam",
            "get-access-key-last-used",
            "--access-key-id",
            &alice.access_key_id,
        ],
    ] {
        let args = [call, &["--profile", "live-000", "--region", "us-east-1"]].concat();
        let out = support::aws_cli(home.path(), &moto.url, &args);
        assert!(out.status.success(), "warming moto with {call:?}: {out:?}");
    }

    // What the same window costs with nothing to show: GTK, WebKit and its processes.
    let empty = tempfile::tempdir().unwrap();
    let (floor, floor_detail) = {
        let mut requested = None;
        let app = Desktop::launch(empty.path(), app_env(empty.path(), None), &mut requested).await;
        app.wait_js(
            "return !!document.querySelector('#onboarding:not([hidden])')",
            "the first-run form",
        )
        .await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let pss = app_pss(&app);
        app.close().await;
        pss
    };

    // The peer of a launch: the same window listing one profile, launched just before each
    // launch with 2,000 (the machine's speed drifts by a fifth between runs here): what
    // 2,000 profiles add is what keyrack's own work costs.
    let one = tempfile::tempdir().unwrap();
    fs::create_dir_all(one.path().join(".aws")).unwrap();
    fs::write(
        one.path().join(".aws/config"),
        "[default]\nregion = us-east-1\n",
    )
    .unwrap();
    fs::write(one.path().join(".aws/credentials"), "").unwrap();

    // A first launch, not counted: the coldest one would otherwise fall to the peer.
    let mut requested = None;
    let app = Desktop::launch(one.path(), app_env(one.path(), None), &mut requested).await;
    launch_to_list_ms(&app, requested, 1).await;
    app.close().await;

    let (mut launches, mut one_launches, mut keystrokes) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let mut requested = None;
        let app = Desktop::launch(one.path(), app_env(one.path(), None), &mut requested).await;
        one_launches.push(launch_to_list_ms(&app, requested, 1).await);
        eprintln!("run {} with one profile: {}", run + 1, one_launches[run]);
        app.close().await;

        let mut requested = None;
        let app = Desktop::launch(home.path(), env.clone(), &mut requested).await;
        launches.push(launch_to_list_ms(&app, requested, 2000).await);
        // Typing "account-1598" into the filter one key at a time, then "live-1": from the input
        // event to the list painted (two animation frames later).
        let mut typed = Vec::new();
        for word in ["account-1598", "live-1"] {
            for end in 1..=word.len() {
                typed.push(word[..end].to_owned());
            }
        }
        for text in &typed {
            let took = app
                .driver
                .execute_async(
                    "const [text, done] = arguments; const box = document.querySelector('#filter');
                     const start = performance.now();
                     box.value = text; box.dispatchEvent(new Event('input', { bubbles: true }));
                     requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - start)));",
                    vec![serde_json::json!(text)],
                )
                .await
                .unwrap();
            keystrokes.push(took.json().as_f64().unwrap());
        }
        eprintln!("run {}: {}", run + 1, launches[run]);
        if run + 1 < runs {
            app.close().await;
            continue;
        }
        // The last run goes on: Check all of the 200 profiles sharing one key, then of the 200
        // users, then memory.
        let (_, detail_before) = app_pss(&app);
        let (keyrack_s, moto_busy) = check_all_200(&app, &moto, "live-").await;
        let (users_s, users_moto_busy) = check_all_200(&app, &moto, "user-").await;
        // Again: who each is, with the keys' age and last use as IAM said them minutes ago.
        let (again_s, again_moto_busy) = check_all_200(&app, &moto, "user-").await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (pss, detail) = app_pss(&app);
        app.screenshot("bench-2000-profiles").await;
        app.close().await;

        // The AWS CLI, once per profile, on the same files and the same moto (left out with
        // KEYRACK_BENCH_NO_PEER=1, to try a change quickly: no ratio is printed then).
        let peer = std::env::var_os("KEYRACK_BENCH_NO_PEER").is_none();
        let started = std::time::Instant::now();
        for i in (0..200).filter(|_| peer) {
            let profile = format!("live-{i:03}");
            let out = support::aws_cli(
                home.path(),
                &moto.url,
                &[
                    "sts",
                    "get-caller-identity",
                    "--profile",
                    &profile,
                    "--region",
                    "us-east-1",
                ],
            );
            assert!(out.status.success(), "aws for {profile}: {out:?}");
        }
        let cli_s = started.elapsed().as_secs_f64();
        let (session, process) = launch_medians(&launches);
        let (_, one_process) = launch_medians(&one_launches);
        let mut added: Vec<f64> = launches
            .iter()
            .zip(&one_launches)
            .map(|(many, one)| many.from_process - one.from_process)
            .collect();
        let (added, _) = median_max(&mut added);
        let (key, key_max) = median_max(&mut keystrokes);
        println!(
            "bench-app: 2000 profiles: launch to list rendered: median {process:.0} ms from the app's process starting, {session:.0} ms from the WebDriver session asked for ({runs} launches; goal under 500 ms)"
        );
        println!(
            "bench-app: the same window listing one profile, launched before each: median {one_process:.0} ms from the app's process starting; 2,000 profiles add a median {added:.0} ms"
        );
        println!(
            "bench-app: 2000 profiles: filter keystroke to list painted: median {key:.1} ms, slowest {key_max:.1} ms ({} keystrokes; goal under 50 ms)",
            keystrokes.len()
        );
        if peer {
            println!(
                "bench-app: Check all of 200 profiles sharing one key (identity, and the key's health once) {keyrack_s:.2} s, moto busy {moto_busy:.2} s of it; the AWS CLI once per profile (get-caller-identity only) {cli_s:.2} s: {:.1}x (goal at least 100x)",
                cli_s / keyrack_s
            );
            println!(
                "bench-app: Check all of 200 profiles of 200 IAM users (three calls each, a key health apiece) {users_s:.2} s, moto busy {users_moto_busy:.2} s of it; the AWS CLI once per profile {cli_s:.2} s: {:.1}x",
                cli_s / users_s
            );
            println!(
                "bench-app: the same Check all again, the keys' health kept from the first (one call each) {again_s:.2} s, moto busy {again_moto_busy:.2} s of it; the AWS CLI once per profile {cli_s:.2} s: {:.1}x",
                cli_s / again_s
            );
        } else {
            println!("bench-app: Check all of 200 profiles {keyrack_s:.2} s, moto busy {moto_busy:.2} s of it; of 200 IAM users {users_s:.2} s, moto busy {users_moto_busy:.2} s, again {again_s:.2} s, moto busy {again_moto_busy:.2} s (the AWS CLI not measured: no ratio)");
        }
        println!(
            "bench-app: 2000 profiles: memory PSS after Check all, app + WebKit processes: {} MiB ({detail}; before Check all: {detail_before}; goal under 200 MB)",
            pss / 1024
        );
        println!(
            "bench-app: the same window on no files (its first-run form), for comparison: {} MiB ({floor_detail})",
            floor / 1024
        );
    }
}
