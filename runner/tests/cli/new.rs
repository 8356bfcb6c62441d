//! `runner new`: the crate it creates builds, its test passes, and the
//! runner runs it.

use std::process::Command;

use crate::support::{path_in, root, run, scratch};

#[test]
fn a_new_crate_builds_tests_and_runs_as_created() {
    let dir = scratch();
    let path = path_in(&dir, "my-script");
    let result = run(&["new", &path]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(result.stdout.starts_with("Created script crate my-script"));

    let test = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["test", "--quiet"])
        .current_dir(&path)
        .env("CARGO_TARGET_DIR", root().join("target/test-scripts"))
        .env("CI", "true") // insta must compare, never write
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&test.stdout);
    assert!(
        test.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&test.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
    // A fresh crate builds clean: no warning from it or from the harness.
    let stderr = String::from_utf8_lossy(&test.stderr);
    assert!(!stderr.contains("warning"), "{stderr}");

    let result = crate::offline_run::Offline::golden("get.mitm")
        .args(&["-q"])
        .script(&path)
        .write()
        .run()
        .ok();
    let flows = result.written();
    assert_eq!(
        waylay_proxy::http::header(flows[0].response().unwrap(), "x-waylay"),
        Some(&b"seen"[..])
    );
}

#[test]
fn new_refuses_bad_names_and_existing_crates() {
    let dir = scratch();
    let result = run(&["new", &path_in(&dir, "9lives")]);
    assert_eq!(result.code, 1);
    assert!(
        result.error_line().ends_with(
            "9lives: a crate name is letters, digits, '_' and '-', starting with a letter"
        )
    );
    for (name, why) in [
        ("test", "it conflicts with Rust's built-in test library"),
        ("fn", "it is a Rust keyword"),
        ("Self", "it is a Rust keyword"),
        (
            "core",
            "it is the name of a crate in Rust's standard library",
        ),
    ] {
        let path = path_in(&dir, name);
        let result = run(&["new", &path]);
        assert_eq!(result.code, 1, "{name}");
        assert_eq!(
            result.error_line(),
            format!("runner: error: {path}: cargo refuses the name `{name}`: {why}; pick another")
        );
        assert!(!std::path::Path::new(&path).exists(), "{name}");
    }
    let existing = path_in(&dir, "taken");
    std::fs::create_dir(&existing).unwrap();
    std::fs::write(format!("{existing}/file"), "x").unwrap();
    let result = run(&["new", &existing]);
    assert_eq!(
        result.error_line(),
        format!("runner: error: {existing}: already exists and is not empty; pick a new name")
    );
}
