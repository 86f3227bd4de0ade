//! `cargo xtask ci`: every check CI runs, in the order that fails fastest:
//! format, lints, docs, doctests, the acceptance run against a release
//! devnet ([`crate::acceptance`]), then the test suite, last so that its
//! summary closes the output.

use anyhow::{Result, bail};

use crate::cmd;

pub(crate) fn run(args: &[String]) -> Result<()> {
    if let Some(extra) = args.first() {
        bail!("`cargo xtask ci` takes no arguments, got {extra:?}");
    }
    cmd("cargo", &["fmt", "--all", "--check"], &[])?;
    cmd(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    cmd(
        "cargo",
        &["doc", "--workspace", "--no-deps", "--locked"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    cmd("cargo", &["test", "--workspace", "--doc", "--locked"], &[])?;
    crate::acceptance::run()?;
    cmd(
        "cargo",
        &[
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--profile",
            "ci",
        ],
        &[],
    )
}
