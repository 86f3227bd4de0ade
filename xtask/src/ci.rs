//! `cargo xtask ci`: every check CI runs, in the order that fails fastest:
//! format, lints, docs, doctests, the build of every test binary (once:
//! the acceptance run, the chaos run and the test suite all use it), the
//! acceptance run against a devnet ([`crate::acceptance`]), the unit tests of the patched crates in
//! `third_party/`, every library crate's example against its README
//! ([`crate::examples`]), `cargo package` of every library crate
//! ([`crate::package`], without the verification build), the C library `libgont_vm` (built alone, with the `abi`
//! placement only, for `gont-ffi`'s C and Python tests to link), a
//! 3-minute chaos run ([`crate::chaos`]), then the test suite, last so
//! that its summary closes the output.

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
    // The patched third-party crates are not workspace members; their own
    // unit tests cover the patches (third_party/README.md).
    cmd(
        "cargo",
        &[
            "test",
            "--locked",
            "-p",
            "informalsystems-malachitebft-network",
            "--lib",
        ],
        &[],
    )?;
    // jsonrpsee-core has dev-dependencies, which cargo builds only for a
    // package of the workspace, and a feature to choose: tested as its own
    // package (with its own lock file, in the one target directory).
    cmd(
        "cargo",
        &[
            "test",
            "--locked",
            "--manifest-path",
            "third_party/jsonrpsee-core/Cargo.toml",
            "--target-dir",
            "target",
            "--features",
            "server",
            "--lib",
            "gont_patch",
        ],
        &[],
    )?;
    crate::examples::run(&[])?;
    crate::package::run(&["--no-verify".to_owned()])?;
    // Built here rather than by its tests, so that the build does not run
    // beside timing-sensitive tests; they find it up to date.
    cmd("cargo", &["build", "--locked", "-p", "gont-ffi"], &[])?;
    crate::chaos(&["--minutes".to_owned(), "3".to_owned()])?;
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
