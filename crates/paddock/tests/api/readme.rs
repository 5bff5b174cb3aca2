//! The README as a new user follows it: the walk-through is the one `serve --demo`
//! prints, and the CLI examples run as written.

use std::path::Path;
use std::process::Command;

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    std::fs::read_to_string(path).unwrap()
}

/// The fenced block that follows `heading_text`.
fn block_after(text: &str, heading_text: &str) -> String {
    let from = text.find(heading_text).expect("the README section");
    let rest = &text[from..];
    let start = rest.find("```").unwrap();
    let body = &rest[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").unwrap()].to_owned()
}

#[test]
fn the_readme_walk_through_is_the_one_serve_demo_prints() {
    let printed = paddock::demo::instructions("http://127.0.0.1:8080");
    let readme = readme();
    assert!(
        readme.contains(&printed),
        "README.md's walk-through differs from what `serve --demo` prints; paste this \
         into its Walk-through block:\n{printed}"
    );
}

#[test]
fn the_readme_cli_example_runs_as_written() {
    let script = block_after(&readme(), "Setting up a brokerage from scratch");
    let dir = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_paddock")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("PATH", path)
        .env("PADDOCK_DATABASE_URL", dir.path().join("readme.db"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script}\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Chart Tool"), "{stdout}");
    assert!(
        stdout.contains("paper account"),
        "the user is shown with the paper account: {stdout}"
    );
}
