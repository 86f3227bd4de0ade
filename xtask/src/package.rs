//! `cargo xtask package [--no-verify]`: packages every library crate as
//! `cargo publish` would, and prints each package's files and size.
//!
//! The workspace is `publish = false` until the team decides to publish,
//! and cargo packages crates that depend on one another (gont-storage on
//! gont-core, …) only when they may be published: it resolves each against
//! the ones packaged before it. So this works on a copy of the tracked
//! files (`git ls-files`) under `target/xtask-package/` whose
//! `[workspace.package]` says `publish = true`, and nothing else
//! changes. Without `--no-verify`, cargo builds each package from its
//! `.crate` file, as crates.io's users would.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{metadata, output, workspace_root};

/// The crates that are libraries for others (not `xtask`), and GONT's
/// fork of tower-abci, which gont-node's package needs.
pub(crate) const LIBRARIES: [&str; 8] = [
    "gont-tower-abci",
    "gont-core",
    "gont-storage",
    "gont-vm",
    "gont-consensus",
    "gont-net",
    "gont-node",
    "gont-ffi",
];

pub(crate) fn run(args: &[String]) -> Result<()> {
    let verify = match args {
        [] => true,
        [flag] if flag == "--no-verify" => false,
        _ => bail!("usage: cargo xtask package [--no-verify]"),
    };
    let root = workspace_root()?;
    let copy = root.join("target").join("xtask-package");
    if copy.exists() {
        std::fs::remove_dir_all(&copy).with_context(|| format!("removing {}", copy.display()))?;
    }
    copy_tracked_files(&root, &copy)?;
    let manifest = copy.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)?;
    let lifted =
        lift_publish(&text).context("Cargo.toml: no `publish = false` in [workspace.package]")?;
    std::fs::write(&manifest, lifted)?;

    let target = root.join("target");
    let target = target.to_str().context("a target path that is not UTF-8")?;
    let mut cargo = vec![
        "package",
        "--locked",
        "--allow-dirty",
        "--target-dir",
        target,
    ];
    for library in LIBRARIES {
        cargo.extend(["-p", library]);
    }
    if !verify {
        cargo.push("--no-verify");
    }
    println!("$ cargo {} (in {})", cargo.join(" "), copy.display());
    let status = Command::new("cargo")
        .args(&cargo)
        .current_dir(&copy)
        .status()
        .context("running cargo package")?;
    if !status.success() {
        bail!("cargo package failed ({status})");
    }
    println!("| crate | packaged (.crate) |");
    println!("|---|---:|");
    let meta = metadata(&copy)?;
    for library in LIBRARIES {
        let version = meta
            .get("packages")
            .and_then(serde_json::Value::as_array)
            .and_then(|ps| ps.iter().find(|p| p["name"] == library))
            .and_then(|p| p["version"].as_str())
            .with_context(|| format!("cargo metadata: no version of {library}"))?;
        let file = root
            .join("target")
            .join("package")
            .join(format!("{library}-{version}.crate"));
        let bytes = std::fs::metadata(&file)
            .with_context(|| format!("{}: not written", file.display()))?
            .len();
        println!("| {library} | {:.1} KiB |", bytes as f64 / 1024.0);
    }
    Ok(())
}

/// Copies the files git tracks in `root` (as a fresh clone has them) to `to`.
fn copy_tracked_files(root: &Path, to: &Path) -> Result<()> {
    let out = output(
        Command::new("git")
            .args(["ls-files", "-z"])
            .current_dir(root),
    )?;
    for path in out.split(|&b| b == 0).filter(|p| !p.is_empty()) {
        let path = std::str::from_utf8(path).context("a tracked path that is not UTF-8")?;
        let (from, dest) = (root.join(path), to.join(path));
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // A file deleted but not yet committed is not there to copy.
        if from.exists() {
            std::fs::copy(&from, &dest).with_context(|| format!("copying {path}"))?;
        }
    }
    Ok(())
}

/// The workspace manifest with `publish = false` of
/// `[workspace.package]` turned into `publish = true`; `None` if it is not
/// there.
fn lift_publish(manifest: &str) -> Option<String> {
    let mut section = "";
    let mut found = false;
    let mut out = String::with_capacity(manifest.len());
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed;
        }
        if section == "[workspace.package]" && trimmed == "publish = false" {
            found = true;
            out.push_str("publish = true\n");
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    found.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::lift_publish;

    #[test]
    fn publish_is_lifted_from_the_workspace_package_table_only() {
        let manifest = "[workspace.package]\nversion = \"0.1.0\"\npublish = false\n\n\
                        [workspace.dependencies]\npublish = false\n";
        let lifted = lift_publish(manifest).unwrap();
        assert_eq!(
            lifted,
            "[workspace.package]\nversion = \"0.1.0\"\npublish = true\n\n\
             [workspace.dependencies]\npublish = false\n"
        );
        assert_eq!(lift_publish("[workspace.package]\nversion = \"1\"\n"), None);
    }
}
