//! Runners for Ethereum's public conformance tests (feature
//! `conformance`), going through gont-vm's own decoding, validation,
//! environment mapping and block executor:
//!
//! - [`statetest`]: GeneralStateTests. Each case's signed transaction
//!   (`txbytes`) is decoded and its sender recovered, executed by
//!   [`crate::execute_block`] on the case's pre-state in a
//!   [`MemoryState`](crate::MemoryState), and the post-state's Ethereum
//!   Merkle-Patricia root and logs hash are compared with the fixture's.
//! - [`txtest`]: TransactionTests: decoding, sender, hash, intrinsic gas
//!   and expected refusals.
//!
//! Both print every failure and every skip with its reason, and close with
//! `N passed, N failed, N skipped`.

pub mod statetest;
pub mod txtest;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::chain::Fork;

/// Counts of a conformance run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Cases that matched the fixture.
    pub passed: usize,
    /// Cases that did not.
    pub failed: usize,
    /// Cases not run (forks gont-vm does not implement), each reported.
    pub skipped: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// Why a conformance run could not start or read its fixtures.
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// A file or folder could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
}

/// The fork a fixture's fork name stands for, if gont-vm runs it.
pub fn fork_named(name: &str) -> Option<Fork> {
    match name {
        "Cancun" => Some(Fork::Cancun),
        "Prague" => Some(Fork::Prague),
        _ => None,
    }
}

/// Every `.json` file under `path` (or `path` itself), sorted.
pub fn json_files(path: &Path) -> Result<Vec<PathBuf>, ConformanceError> {
    let io = |source| ConformanceError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| ConformanceError::Io {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| ConformanceError::Io {
                path: dir.clone(),
                source,
            })?;
            let p = entry.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "json") {
                files.push(p);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// `path` relative to `root`, for messages.
/// Runs `run_test` on each test (named `<file>::<name>`) of every JSON file
/// of `kind` tests under `path`, then writes the summary line to `out`. A
/// file that is not such a map of tests counts as one failure.
fn run_files<T: serde::de::DeserializeOwned>(
    path: &Path,
    kind: &str,
    out: &mut dyn std::io::Write,
    mut run_test: impl FnMut(&T, &str, &mut dyn std::io::Write, &mut Summary),
) -> Result<Summary, ConformanceError> {
    let root = if path.is_file() {
        path.parent().unwrap_or(path)
    } else {
        path
    };
    let mut summary = Summary::default();
    for file in json_files(path)? {
        let shown = display_path(&file, root);
        let text = std::fs::read_to_string(&file).map_err(|source| ConformanceError::Io {
            path: file.clone(),
            source,
        })?;
        let tests: std::collections::BTreeMap<String, T> = match serde_json::from_str(&text) {
            Ok(tests) => tests,
            Err(e) => {
                summary.failed += 1;
                // Output is best effort: a closed pipe must not stop the run.
                let _ = writeln!(out, "FAIL {shown}: not a {kind} file: {e}");
                continue;
            }
        };
        for (name, test) in &tests {
            run_test(test, &format!("{shown}::{name}"), out, &mut summary);
        }
    }
    let _ = writeln!(out, "{summary}");
    Ok(summary)
}

fn display_path(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
