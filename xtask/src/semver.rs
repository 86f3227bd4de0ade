//! `cargo xtask semver [--baseline REV]`: cargo-semver-checks over every
//! library crate against a baseline commit: the last release tag, or
//! `--baseline REV`.
//!
//! No tag exists before the first release; then there is nothing to
//! compare with unless a commit is named. cargo-semver-checks is not a
//! dependency of the workspace: it is installed once with
//! `cargo install --locked cargo-semver-checks`.

use std::process::Command;

use anyhow::{Result, bail};

use crate::{output, package::LIBRARIES, workspace_root};

pub(crate) fn run(args: &[String]) -> Result<()> {
    let root = workspace_root()?;
    // The nearest tag reachable from HEAD; none before the first release.
    let last_tag = output(
        Command::new("git")
            .args(["describe", "--tags", "--abbrev=0"])
            .current_dir(&root),
    )
    .ok()
    .map(|tag| String::from_utf8_lossy(&tag).trim().to_owned());
    let Some(baseline) = baseline(args, last_tag)? else {
        println!(
            "no release tag is reachable from HEAD, so there is no baseline to check \
             against; `cargo xtask semver --baseline REV` compares with a commit"
        );
        return Ok(());
    };
    if output(Command::new("cargo").args(["semver-checks", "--version"])).is_err() {
        bail!("cargo-semver-checks is not installed: `cargo install --locked cargo-semver-checks`");
    }
    let mut cargo = vec![
        "semver-checks",
        "check-release",
        "--baseline-rev",
        &baseline,
    ];
    for library in LIBRARIES {
        cargo.extend(["-p", library]);
    }
    crate::cmd("cargo", &cargo, &[])
}

/// The commit to compare with: `--baseline REV`, else the last tag, else
/// none.
fn baseline(args: &[String], last_tag: Option<String>) -> Result<Option<String>> {
    match args {
        [] => Ok(last_tag),
        [flag, rev] if flag == "--baseline" => Ok(Some(rev.clone())),
        _ => bail!("usage: cargo xtask semver [--baseline REV]"),
    }
}

#[cfg(test)]
mod tests {
    use super::baseline;

    #[test]
    fn the_baseline_is_the_commit_named_else_the_last_tag_else_none() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let tag = Some("v0.1.0".to_owned());
        assert_eq!(baseline(&args(&[]), None).unwrap(), None);
        assert_eq!(baseline(&args(&[]), tag.clone()).unwrap(), tag);
        assert_eq!(
            baseline(&args(&["--baseline", "abc123"]), tag).unwrap(),
            Some("abc123".to_owned())
        );
        assert!(baseline(&args(&["--baseline"]), None).is_err());
        assert!(baseline(&args(&["abc123"]), None).is_err());
    }
}
