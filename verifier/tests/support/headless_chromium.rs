//! Headless Chromium for the browser tests (the HTML report, the verifier page), with the flags this
//! machine kind needs: no sandbox as root, no network chatter. Included by path from those tests.

use std::path::Path;
use std::process::Command;

/// `chromium` headless on `url`, with its own profile directory and the `extra` flags.
pub fn headless_chromium(profile: &Path, extra: &[&str], url: &str) -> Command {
    let mut c = Command::new("chromium");
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(url);
    c
}
