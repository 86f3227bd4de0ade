//! `cargo xtask dist`: the node's binaries.
//!
//! A placement (see `ARCHITECTURE.md`) is a cargo feature of `gont-node`;
//! `dist` builds the `gont` binary once per placement that exists, with
//! that feature alone, into `dist/gont-<placement>`. The `abi` placement
//! also gives `libgont_vm.so`, `libgont_vm.a` and `gont_vm.h` (the crate
//! `gont-ffi`), and is checked to link no libp2p and no Malachite.

// `serde_json::Value` indexing returns `Null` for a missing key; it never panics.
#![allow(clippy::indexing_slicing)]

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cmd, metadata, output, workspace_root};

/// The placements, in the order of the brief, as `gont-node` features.
const PLACEMENTS: [&str; 3] = ["masternode", "service-user", "abi"];

struct NodePackage {
    has_binary: bool,
    features: Vec<String>,
}

fn node_package() -> Result<NodePackage> {
    let meta = metadata(&workspace_root()?)?;
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
        let artifact = dist.join(format!("gont-{placement}"));
        let size = copy(&root.join("target/release/gont"), &artifact)?;
        rows.push((artifact, placement, size));
        if placement == "abi" {
            rows.extend(c_library(&root, &dist)?);
            let crates = abi_dependencies()?;
            if let Some(bad) = crates.iter().find(|c| forbidden_in_abi(c)) {
                bail!("the abi placement links {bad}: it must link no consensus and no libp2p");
            }
            println!(
                "abi placement: {} crates, none of them libp2p or Malachite",
                crates.len()
            );
        }
    }
    println!("{:<28} {:<16} {:>10}", "artifact", "features", "size");
    for (artifact, features, size) in rows {
        let name = artifact
            .strip_prefix(&root)
            .unwrap_or(&artifact)
            .display()
            .to_string();
        println!("{name:<28} {features:<16} {:>12}", human(size));
    }
    for placement in absent {
        println!("{placement:<28} not built: gont-node has no `{placement}` feature yet");
    }
    Ok(())
}

/// Builds `gont-ffi` and copies the C library and its header into `dist`.
fn c_library(root: &Path, dist: &Path) -> Result<Vec<(std::path::PathBuf, &'static str, u64)>> {
    cmd(
        "cargo",
        &["build", "--release", "--locked", "-p", "gont-ffi"],
        &[],
    )?;
    let release = root.join("target/release");
    // The header gont-ffi's build script wrote last.
    let header = std::fs::read_dir(release.join("build"))
        .context("reading target/release/build")?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("gont-ffi-"))
        .map(|e| e.path().join("out/gont_vm.h"))
        .filter(|p| p.exists())
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .context("gont-ffi's build script wrote no gont_vm.h")?;
    let mut rows = Vec::new();
    for (built, name) in [
        (release.join("libgont_vm.so"), "libgont_vm.so"),
        (release.join("libgont_vm.a"), "libgont_vm.a"),
        (header, "gont_vm.h"),
    ] {
        let artifact = dist.join(name);
        let size = copy(&built, &artifact)?;
        rows.push((artifact, "abi", size));
    }
    Ok(rows)
}

/// The crates `gont-node` links with the `abi` placement alone.
pub(crate) fn abi_dependencies() -> Result<Vec<String>> {
    let out = output(
        Command::new("cargo")
            .args([
                "tree",
                "--locked",
                "-p",
                "gont-node",
                "--no-default-features",
                "--features",
                "abi",
                "-e",
                "normal",
                "--prefix",
                "none",
                "--no-dedupe",
            ])
            .current_dir(workspace_root()?),
    )?;
    let mut crates: Vec<String> = String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    crates.sort();
    crates.dedup();
    Ok(crates)
}

/// Whether a crate is consensus or peer-to-peer networking, which the
/// `abi` placement must not link.
pub(crate) fn forbidden_in_abi(name: &str) -> bool {
    name.contains("libp2p")
        || name.contains("malachite")
        || name == "gont-consensus"
        || name == "gont-net"
}

/// A size in MiB, or KiB below one MiB.
fn human(bytes: u64) -> String {
    let kib = bytes as f64 / 1024.0;
    if kib < 1024.0 {
        format!("{kib:.1} KiB")
    } else {
        format!("{:.1} MiB", kib / 1024.0)
    }
}

/// Copies a built artifact into `dist/`; returns its size.
fn copy(built: &Path, artifact: &Path) -> Result<u64> {
    std::fs::copy(built, artifact).with_context(|| {
        format!(
            "could not copy {} to {}",
            built.display(),
            artifact.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_abi_placement_links_no_consensus_and_no_libp2p() {
        let crates = abi_dependencies().unwrap_or_else(|e| panic!("{e}"));
        assert!(
            crates.iter().any(|c| c == "revm") && crates.iter().any(|c| c == "redb"),
            "the tree is read: {crates:?}"
        );
        let bad: Vec<&String> = crates.iter().filter(|c| forbidden_in_abi(c)).collect();
        assert!(bad.is_empty(), "abi links {bad:?}");
    }

    #[test]
    fn sizes_read_in_kib_or_mib() {
        assert_eq!(human(4_300), "4.2 KiB");
        assert_eq!(human(45_507_788), "43.4 MiB");
    }

    #[test]
    fn libp2p_and_malachite_are_recognised() {
        assert!(forbidden_in_abi("libp2p-gossipsub"));
        assert!(forbidden_in_abi(
            "informalsystems-malachitebft-core-consensus"
        ));
        assert!(forbidden_in_abi("gont-net"));
        assert!(!forbidden_in_abi("revm"));
    }
}
