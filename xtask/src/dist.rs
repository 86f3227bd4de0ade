//! `cargo xtask dist`: the node's binaries.
//!
//! A placement (see `ARCHITECTURE.md`) is a cargo feature of `gont-node`;
//! `dist` builds the `gont` binary once per placement that exists, with
//! that feature alone, into `dist/gont-<placement>`.

// `serde_json::Value` indexing returns `Null` for a missing key; it never panics.
#![allow(clippy::indexing_slicing)]

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cmd, workspace_root};

/// The placements, in the order of the brief, as `gont-node` features.
const PLACEMENTS: [&str; 3] = ["masternode", "service-user", "abi"];

struct NodePackage {
    has_binary: bool,
    features: Vec<String>,
}

fn node_package() -> Result<NodePackage> {
    let out = Command::new("cargo")
        .args(["metadata", "--no-deps", "--format-version", "1", "--locked"])
        .current_dir(workspace_root()?)
        .output()
        .context("could not run cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("cargo metadata printed invalid JSON")?;
    let package = meta["packages"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "gont-node"))
        .context("no gont-node package in the workspace")?;
    let has_binary = package["targets"].as_array().is_some_and(|ts| {
        ts.iter().any(|t| {
            t["name"] == "gont"
                && t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
    });
    let features = package["features"]
        .as_object()
        .map(|f| f.keys().cloned().collect())
        .unwrap_or_default();
    Ok(NodePackage {
        has_binary,
        features,
    })
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    if let Some(extra) = args.first() {
        bail!("`cargo xtask dist` takes no arguments, got {extra:?}");
    }
    let node = node_package()?;
    if !node.has_binary {
        bail!(
            "gont-node has no `gont` binary yet (issue 6): there is no placement variant to build"
        );
    }
    let (placements, absent): (Vec<&str>, Vec<&str>) = PLACEMENTS
        .into_iter()
        .partition(|p| node.features.iter().any(|f| f == p));
    if placements.is_empty() {
        bail!("gont-node defines none of the placement features {PLACEMENTS:?}");
    }
    let root = workspace_root()?;
    let dist = root.join("dist");
    std::fs::create_dir_all(&dist)
        .with_context(|| format!("could not create {}", dist.display()))?;
    let mut rows = Vec::new();
    for placement in placements {
        cmd(
            "cargo",
            &[
                "build",
                "--release",
                "--locked",
                "-p",
                "gont-node",
                "--bin",
                "gont",
                "--no-default-features",
                "--features",
                placement,
            ],
            &[],
        )?;
        let built = root.join("target/release/gont");
        let artifact = dist.join(format!("gont-{placement}"));
        std::fs::copy(&built, &artifact).with_context(|| {
            format!(
                "could not copy {} to {}",
                built.display(),
                artifact.display()
            )
        })?;
        rows.push((artifact, placement, size_of(&built)?));
    }
    println!("{:<28} {:<16} {:>10}", "artifact", "features", "size");
    for (artifact, features, size) in rows {
        let name = artifact
            .strip_prefix(&root)
            .unwrap_or(&artifact)
            .display()
            .to_string();
        println!(
            "{name:<28} {features:<16} {:>8.1} MiB",
            size as f64 / (1024.0 * 1024.0)
        );
    }
    for placement in absent {
        println!("{placement:<28} not built: gont-node has no `{placement}` feature yet");
    }
    Ok(())
}

fn size_of(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("could not stat {}", path.display()))?
        .len())
}
