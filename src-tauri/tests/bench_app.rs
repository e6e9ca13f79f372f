//! The desktop app's benchmark (not a timed test; `scripts/bench-app` runs it with the release
//! build): launch to the profile list rendered with 200 profiles, and memory as PSS summed over
//! the app and its WebKit processes.

mod support;

use std::fs;
use std::time::{Duration, UNIX_EPOCH};

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
        app.wait_js(
            "return document.querySelectorAll('#profiles li').length === 200",
            "200 rows",
        )
        .await;
        let rendered = app
            .driver
            .execute(
                "return Number(document.body.dataset.listRenderedAt)",
                vec![],
            )
            .await
            .unwrap();
        let rendered_ms = rendered.json().as_f64().unwrap();
        let requested_ms = requested
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            * 1000.0;
        launches.push(rendered_ms - requested_ms);
        // Let the window settle, then measure the app and its WebKit processes.
        tokio::time::sleep(Duration::from_secs(3)).await;
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
        let total: u64 = members.iter().map(|p| pss_kib(*p)).sum();
        pss.push(total);
        if run == 0 {
            app.screenshot("bench-200-profiles").await;
        }
        eprintln!(
            "run {}: list rendered {:.0} ms after launch; PSS {} MiB ({})",
            run + 1,
            launches[run],
            total / 1024,
            detail.join(", ")
        );
        app.close().await;
    }
    launches.sort_by(|a, b| a.partial_cmp(b).unwrap());
    pss.sort();
    println!(
        "bench-app: launch to profile list rendered (200 profiles): median {:.0} ms (runs: {:?})",
        launches[runs / 2],
        launches
            .iter()
            .map(|v| v.round() as i64)
            .collect::<Vec<_>>()
    );
    println!(
        "bench-app: memory PSS, app + WebKit processes: median {} MiB",
        pss[runs / 2] / 1024
    );
}
