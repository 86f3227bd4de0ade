//! Tidy rules for the repository, checked by the tests below (as
//! rust-analyzer's `xtask/src/tidy.rs` does), so that `cargo nextest run`
//! and therefore CI fail when one is broken:
//!
//! - every crate's root file opens with a `//!` doc;
//! - a library crate depends (`[dependencies]`) on no sibling but
//!   `gont-core`; `gont-node`, which composes them, may use all, and
//!   `gont-ffi`, its C binding, `gont-node` too;
//! - no `.rs` file passes [`MAX_LINES`] lines unless [`LONG_FILES`] lists it
//!   with a reason;
//! - README's crate table names every crate;
//! - every `allow(clippy::…)` attribute says why in a comment on the line
//!   above or inside the attribute.
//!
//! `third_party/` (patched upstream crates) and `target/` are not checked.
//! Each rule is a function over a repository root, so the tests also run it
//! on a deliberately broken copy and check that it complains.

use std::path::{Path, PathBuf};

/// The longest a source file may be without a reason.
const MAX_LINES: usize = 800;

/// Files allowed past [`MAX_LINES`], each with the reason.
const LONG_FILES: &[(&str, &str)] = &[
    (
        "gont-consensus/src/driver/app.rs",
        "one state machine answering every Malachite AppMsg; its tests need the whole state",
    ),
    (
        "gont-consensus/src/sim/mod.rs",
        "the simulation's event loop and its checks, kept together so a seed reads top to bottom",
    ),
    (
        "gont-node/src/bin/gont-loadgen.rs",
        "a standalone load generator binary: signing, sending, measuring and reporting",
    ),
];

/// The crate that may depend on every sibling.
const COMPOSER: &str = "gont-node";

/// Crates that bind the composer for other languages: they may depend on
/// it (and on `gont-core`).
const BINDINGS: &[&str] = &["gont-ffi"];

/// The workspace members named in the root `Cargo.toml`, but for the
/// forks under `third_party/`, to which these rules do not apply.
fn members(root: &Path) -> Vec<String> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    let Some(start) = manifest.find("members = [") else {
        return Vec::new();
    };
    let list = manifest.get(start..).unwrap_or_default();
    let list = list.get(..list.find(']').unwrap_or(0)).unwrap_or_default();
    list.split('"')
        .skip(1)
        .step_by(2)
        .filter(|member| !member.starts_with("third_party/"))
        .map(str::to_owned)
        .collect()
}

/// Crates whose root file does not open with a `//!` doc.
pub(crate) fn undocumented_crates(root: &Path) -> Vec<String> {
    members(root)
        .into_iter()
        .filter(|krate| {
            let lib = root.join(krate).join("src/lib.rs");
            let file = if lib.exists() {
                lib
            } else {
                root.join(krate).join("src/main.rs")
            };
            !std::fs::read_to_string(file).is_ok_and(|text| text.starts_with("//!"))
        })
        .collect()
}

/// `(crate, sibling)` pairs where a library crate depends on a sibling
/// other than `gont-core` in `[dependencies]`.
pub(crate) fn sideways_dependencies(root: &Path) -> Vec<(String, String)> {
    let members = members(root);
    let mut found = Vec::new();
    for krate in members.iter().filter(|k| *k != COMPOSER) {
        let manifest =
            std::fs::read_to_string(root.join(krate).join("Cargo.toml")).unwrap_or_default();
        let mut in_dependencies = false;
        for line in manifest.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_dependencies = line == "[dependencies]";
                continue;
            }
            if !in_dependencies {
                continue;
            }
            let name = line
                .split(['=', '.', ' '])
                .next()
                .unwrap_or_default()
                .trim();
            let binding = BINDINGS.contains(&krate.as_str()) && name == COMPOSER;
            if name != "gont-core" && name != krate && !binding && members.iter().any(|m| m == name)
            {
                found.push((krate.clone(), name.to_owned()));
            }
        }
    }
    found
}

/// Every `.rs` file under `root`, outside `target/`, `third_party/` and
/// hidden folders.
fn rust_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !(name.starts_with('.')
                    || name == "target"
                    || name == "third_party"
                    || name == "node_modules")
                {
                    dirs.push(path);
                }
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Files past [`MAX_LINES`] that [`LONG_FILES`] does not list, with their
/// length.
pub(crate) fn long_files(root: &Path) -> Vec<(String, usize)> {
    rust_files(root)
        .into_iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(&path).ok()?.lines().count();
            let name = relative(root, &path);
            (lines > MAX_LINES && !LONG_FILES.iter().any(|(f, _)| *f == name))
                .then_some((name, lines))
        })
        .collect()
}

/// Crates missing from README's crate table (rows start with
/// ``| [`name`](``).
pub(crate) fn crates_missing_from_readme(root: &Path) -> Vec<String> {
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap_or_default();
    members(root)
        .into_iter()
        .filter(|krate| !readme.contains(&format!("| [`{krate}`](")))
        .collect()
}

/// `file:line` of every `allow(clippy::…)` attribute with no comment on the
/// line above it nor inside it.
pub(crate) fn unexplained_clippy_allows(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for path in rust_files(root) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            if !(trimmed.starts_with("#[allow(") || trimmed.starts_with("#![allow(")) {
                continue;
            }
            // The attribute runs to the line that closes it.
            let end = (i..lines.len())
                .find(|&j| lines.get(j).is_some_and(|l| l.contains(")]")))
                .unwrap_or(i);
            let attribute = lines.get(i..=end).unwrap_or_default();
            if !attribute.iter().any(|l| l.contains("clippy::")) {
                continue;
            }
            let commented_inside = attribute.iter().any(|l| l.contains("//"));
            let commented_above = i
                .checked_sub(1)
                .and_then(|j| lines.get(j))
                .is_some_and(|l| l.trim_start().starts_with("//"));
            if !(commented_inside || commented_above) {
                found.push(format!("{}:{}", relative(root, &path), i + 1));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_owned)
            .unwrap_or_default()
    }

    #[test]
    fn every_crate_opens_with_a_doc_comment() {
        assert!(members(&root()).len() >= 7, "members are read");
        assert_eq!(undocumented_crates(&root()), Vec::<String>::new());
    }

    #[test]
    fn library_crates_depend_on_no_sibling_but_gont_core() {
        assert_eq!(sideways_dependencies(&root()), Vec::new());
    }

    #[test]
    fn no_file_passes_800_lines_without_a_listed_reason() {
        assert_eq!(long_files(&root()), Vec::new());
        for (file, _) in LONG_FILES {
            assert!(root().join(file).exists(), "{file} is listed but gone");
        }
    }

    #[test]
    fn readme_crate_table_names_every_crate() {
        assert_eq!(crates_missing_from_readme(&root()), Vec::<String>::new());
    }

    #[test]
    fn every_clippy_allow_says_why() {
        assert_eq!(unexplained_clippy_allows(&root()), Vec::<String>::new());
    }

    /// A small repository that breaks every rule once.
    struct BrokenCopy(PathBuf);

    impl BrokenCopy {
        fn new() -> Self {
            let dir = std::env::temp_dir().join(format!("gont-tidy-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let write = |path: &str, text: &str| {
                let path = dir.join(path);
                std::fs::create_dir_all(path.parent().unwrap_or(&dir)).unwrap_or_default();
                std::fs::write(path, text).unwrap_or_default();
            };
            write(
                "Cargo.toml",
                "[workspace]\nmembers = [\n    \"gont-core\",\n    \"gont-vm\",\n    \"gont-net\",\n    \"third_party/x\",\n]\n",
            );
            write(
                "README.md",
                "| [`gont-core`](gont-core) | x |\n| [`gont-vm`](gont-vm) | y |\n",
            );
            write("gont-core/Cargo.toml", "[package]\nname = \"gont-core\"\n");
            write("gont-core/src/lib.rs", "//! The model.\n");
            write(
                "gont-vm/Cargo.toml",
                "[dependencies]\ngont-core.workspace = true\ngont-net = { workspace = true }\n\n[dev-dependencies]\ngont-net.workspace = true\n",
            );
            write(
                "gont-vm/src/lib.rs",
                "//! The VM.\n// Bounded above.\n#[allow(clippy::cast_possible_truncation)]\nfn a() {}\n#[allow(\n    clippy::unwrap_used\n)]\nfn b() {}\n",
            );
            write("gont-vm/src/big.rs", &"fn x() {}\n".repeat(MAX_LINES + 1));
            write(
                "gont-net/Cargo.toml",
                "[dependencies]\ngont-core.workspace = true\n",
            );
            write("gont-net/src/lib.rs", "pub fn undocumented() {}\n");
            write(
                "third_party/x/src/lib.rs",
                &"#[allow(clippy::all)]\n".repeat(900),
            );
            Self(dir)
        }
    }

    impl Drop for BrokenCopy {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn each_rule_fails_on_a_broken_copy() {
        let broken = BrokenCopy::new();
        let root = &broken.0;
        assert_eq!(undocumented_crates(root), ["gont-net"]);
        assert_eq!(
            sideways_dependencies(root),
            [("gont-vm".to_owned(), "gont-net".to_owned())]
        );
        assert_eq!(
            long_files(root),
            [("gont-vm/src/big.rs".to_owned(), MAX_LINES + 1)]
        );
        assert_eq!(crates_missing_from_readme(root), ["gont-net"]);
        assert_eq!(unexplained_clippy_allows(root), ["gont-vm/src/lib.rs:5"]);
    }
}
