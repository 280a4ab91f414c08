//! The provisioner sandbox: template code cannot read or change the server's database, data
//! directory or environment; a template cannot bring its own terraform CLI configuration or
//! plugins; a job past its time limit is stopped with its processes.
//!
//! These run real terraform (and bubblewrap); without terraform on PATH they are skipped,
//! except under CI.

use std::path::Path;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use atrium_server::config::SandboxMode;

use crate::both_backends;
use crate::common::*;
use crate::fixtures::*;

fn terraform_on_path() -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("terraform").is_file()));
    if !found {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "terraform must be on PATH under CI");
        eprintln!("skipping: no terraform on PATH");
    }
    found
}

/// Imports `files` with the terraform provisioner; returns the version once its job ended.
async fn import(s: &TestServer, files: &[(&str, &[u8])]) -> Value {
    let file = upload(&s.owner, tar(files)).await;
    assert!(file.status.is_success(), "{}", file.body);
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{}/templateversions", s.default_org),
            &json!({"storage_method": "file", "file_id": file.body["hash"], "provisioner": "terraform"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = uuid_of(&r.body["id"]);
    for _ in 0..600 {
        let v = s.owner.get(&format!("/api/v2/templateversions/{id}")).await;
        if matches!(v.body["job"]["status"].as_str(), Some("succeeded" | "failed" | "canceled")) {
            return v.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("import {id} did not finish");
}

/// Creates a template from an imported `version` and a workspace from it; returns the
/// workspace's first build once its job ended, with the build's logs joined.
async fn build_once(s: &TestServer, version: Uuid) -> (Value, String) {
    let org = s.default_org;
    let t = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/templates"),
            &json!({"name": unique("sb"), "template_version_id": version}),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    let r = s
        .owner
        .send(
            Method::POST,
            &format!("/api/v2/organizations/{org}/members/me/workspaces"),
            &json!({"template_id": t.body["id"], "name": unique("ws")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ws = uuid_of(&r.body["id"]);
    for _ in 0..900 {
        let got = s.owner.get(&format!("/api/v2/workspaces/{ws}")).await;
        let build = got.body["latest_build"].clone();
        if matches!(build["job"]["status"].as_str(), Some("succeeded" | "failed" | "canceled")) {
            let id = build["id"].as_str().unwrap().to_owned();
            let logs = s.owner.get(&format!("/api/v2/workspacebuilds/{id}/logs")).await;
            let text: Vec<String> = logs
                .body
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["output"].as_str().unwrap_or_default().to_owned())
                .collect();
            return (build, text.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("build of {ws} did not finish");
}

/// A template whose apply runs `script` with `/bin/sh`.
fn local_exec(script: &str) -> String {
    format!(
        "resource \"terraform_data\" \"probe\" {{\n  provisioner \"local-exec\" {{\n    \
         command = <<-EOT\n{script}\nEOT\n  }}\n}}\n"
    )
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

// Finding 14.1: the exploit printed ATRIUM_POSTGRES_URL and wrote `owner` into the SQLite
// file. Now the template's script runs, but sees no server environment, no data directory,
// no database (file or network), and cannot write outside its own directory.
both_backends!(template_code_cannot_reach_the_server, |s: TestServer| async move {
    if !terraform_on_path() {
        return s.stop().await;
    }
    let data_dir = s.config.resolved_data_dir();
    let db = data_dir.join("atrium.db");
    let outside = tempfile::tempdir().unwrap();
    {
        // Writable by anyone, so only the sandbox can stop the write.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(outside.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let pg_url = s.config.postgres_url.as_ref().map(|u| u.0.clone()).unwrap_or_default();
    // Markers are split in the script (`A""B` prints `AB`), so only the script's output,
    // never terraform's echo of the command, can put them in the log.
    let script = format!(
        "echo probe\"\"-start\n\
         id\n\
         env | sed 's/^/ENV:/'\n\
         ls -la '{data}' && echo SAW\"\"-DATA-DIR\n\
         grep -c 'owner@''example.com' '{db}' && echo READ\"\"-DB\n\
         printf PWNED-''MARKER >> '{db}' && echo WROTE\"\"-DB\n\
         touch '{data}/pwned' && echo WROTE\"\"-DATA-DIR\n\
         echo escaped > '{outside}/escaped' && echo WROTE\"\"-OUTSIDE\n\
         if [ -n '{pg}' ] && command -v psql; then \
           psql '{pg}' -Atc 'select email from users' && echo READ\"\"-PG; \
           psql '{pg}' -c \"update users set email = 'pwned@example.com'\" && echo WROTE\"\"-PG; \
         fi\n\
         echo probe\"\"-end\n\
         exit 0",
        data = data_dir.display(),
        db = db.display(),
        outside = outside.path().display(),
        pg = pg_url,
    );
    let main_tf = local_exec(&script);
    let version = import(&s, &[("main.tf", main_tf.as_bytes())]).await;
    assert_eq!(version["job"]["status"], "succeeded", "{version}");
    let (build, logs) = build_once(&s, uuid_of(&version["id"])).await;
    assert_eq!(build["job"]["status"], "succeeded", "{build}\n{logs}");
    // The script ran to its end and its output reached the log.
    assert!(logs.contains("probe-start") && logs.contains("probe-end"), "{logs}");
    assert!(logs.contains("ENV:HOME="), "{logs}");
    // It learned nothing: no server variable, no database contents.
    assert!(!logs.contains("ATRIUM_"), "the server's environment leaked:\n{logs}");
    assert!(!logs.contains("owner@example.com"), "{logs}");
    for marker in [
        "SAW-DATA-DIR",
        "READ-DB",
        "WROTE-DB",
        "WROTE-DATA-DIR",
        "WROTE-OUTSIDE",
        "READ-PG",
        "WROTE-PG",
    ] {
        assert!(!logs.contains(marker), "{marker}:\n{logs}");
    }
    // And changed nothing.
    assert!(!outside.path().join("escaped").exists());
    assert!(!data_dir.join("pwned").exists());
    for file in files_under(&data_dir) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!contains_bytes(&bytes, b"PWNED-MARKER"), "{} was written", file.display());
    }
    let me = s.owner.get("/api/v2/users/me").await;
    assert_eq!(me.body["email"], "owner@example.com", "{}", me.body);
    s.stop().await;
});

// The data directory and the database files are the server user's alone.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_and_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let s = TestServer::start(Backend::Sqlite).await;
    let data_dir = s.config.resolved_data_dir();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data_dir), 0o700);
    for name in ["atrium.db", "atrium.db-wal", "atrium.db-shm", "atrium.lock"] {
        let path = data_dir.join(name);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{name}");
        }
    }
    assert!(data_dir.join("atrium.db").exists());
    s.stop().await;
}

// Finding 13.3: provider plugins, provider caches and CLI configuration shipped inside a
// template are refused with a clear error, never loaded.
both_backends!(templates_cannot_ship_terraform_plugins_or_cli_config, |s: TestServer| async move {
    if !terraform_on_path() {
        return s.stop().await;
    }
    let main_tf: &[u8] = b"terraform {\n  required_providers {\n    evil = { source = \"example.com/evil/evil\" }\n  }\n}\n";
    let plugin =
        "terraform.d/plugins/example.com/evil/evil/1.0.0/linux_amd64/terraform-provider-evil";
    for (shipped, shown) in [
        (plugin, "terraform.d/"),
        (".terraformrc", ".terraformrc"),
        ("terraform.rc", "terraform.rc"),
        (
            ".terraform/providers/example.com/evil/evil/1.0.0/linux_amd64/terraform-provider-evil",
            ".terraform/",
        ),
        ("modules/x/.terraformrc", "modules/x/.terraformrc"),
    ] {
        let evil: &[u8] = b"#!/bin/sh\nexit 1\n";
        let version = import(&s, &[("main.tf", main_tf), (shipped, evil)]).await;
        assert_eq!(version["job"]["status"], "failed", "{shipped}: {version}");
        let error = version["job"]["error"].as_str().unwrap();
        assert!(error.contains("terraform CLI configuration or provider plugins"), "{error}");
        assert!(error.contains(shown), "{shipped}: {error}");
    }
    s.stop().await;
});

// Finding 14.6: a job past --provisioner-job-timeout fails with a clear error and its
// processes are killed, sandboxed (bwrap's PID namespace) or not (the job's process group).
both_backends!(a_job_past_its_time_limit_is_stopped, |s: TestServer| async move {
    if !terraform_on_path() {
        return s.stop().await;
    }
    let mut s = s;
    for mode in [SandboxMode::Bwrap, SandboxMode::None] {
        let marker = unique("atrium-sleeper-");
        let main_tf = local_exec(&format!("sleep 300; echo {marker}"));
        s.restart(|c| c.provisioner_job_timeout = Duration::from_secs(30)).await;
        let version = import(&s, &[("main.tf", main_tf.as_bytes())]).await;
        assert_eq!(version["job"]["status"], "succeeded", "{version}");
        s.restart(|c| {
            c.provisioner_job_timeout = Duration::from_secs(3);
            c.provisioner_sandbox = mode;
        })
        .await;
        let (build, logs) = build_once(&s, uuid_of(&version["id"])).await;
        assert_eq!(build["job"]["status"], "failed", "{build}");
        let error = build["job"]["error"].as_str().unwrap();
        assert_eq!(
            error,
            "the job ran past its time limit of 3s (--provisioner-job-timeout) and was stopped"
        );
        assert!(logs.contains(error), "the log says why: {logs}");
        if !logs.contains("Executing:") {
            // A very slow `terraform init` used the whole limit; the error is still right.
            eprintln!("{mode:?}: the time limit ended the job before its `sleep` started");
        }
        // Whatever the job started is gone (waiting for the kill to land, not for time).
        let alive = || {
            std::fs::read_dir("/proc").unwrap().flatten().any(|p| {
                std::fs::read(p.path().join("cmdline"))
                    .is_ok_and(|c| contains_bytes(&c, marker.as_bytes()))
            })
        };
        let mut gone = false;
        for _ in 0..200 {
            if !alive() {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(gone, "{mode:?}: the job's `sleep` outlived it");
    }
    s.stop().await;
});
