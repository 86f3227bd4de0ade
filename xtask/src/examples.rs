//! `cargo xtask examples`: runs every library crate's example and checks
//! that it prints what the crate's README says it prints, so that neither
//! rots.
//!
//! A README holds, after the line that names `--example NAME` and then a
//! line `It prints:`, a ```` ```text ```` block of the example's output,
//! line for line; `…` in a README line stands for any text
//! (a peer id, a port, a timing). The first example whose output differs
//! stops the run, with both texts.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cmd, workspace_root};

/// One crate's example: the package and the example's name.
struct Example {
    package: &'static str,
    name: &'static str,
}

/// The examples CI runs, one or more per library crate.
const EXAMPLES: &[Example] = &[
    Example {
        package: "gont-core",
        name: "genesis",
    },
    Example {
        package: "gont-storage",
        name: "store",
    },
    Example {
        package: "gont-vm",
        name: "block",
    },
    Example {
        package: "gont-consensus",
        name: "four_validators",
    },
    Example {
        package: "gont-node",
        name: "vm_alone",
    },
    Example {
        package: "gont-node",
        name: "custom_node",
    },
    Example {
        package: "gont-net",
        name: "gossip",
    },
];

pub(crate) fn run(args: &[String]) -> Result<()> {
    if let Some(extra) = args.first() {
        bail!("`cargo xtask examples` takes no arguments, got {extra:?}");
    }
    // One build of every example, with the workspace's features (those
    // of the test build, whose artifacts it reuses); each run alone.
    cmd(
        "cargo",
        &["build", "--locked", "--workspace", "--examples"],
        &[],
    )?;
    let root = workspace_root()?;
    let binaries = root.join("target").join("debug").join("examples");
    for Example { package, name } in EXAMPLES {
        println!("$ target/debug/examples/{name}  ({package})");
        let out = Command::new(binaries.join(name))
            .current_dir(&root)
            .output()
            .with_context(|| format!("running the example {name}"))?;
        let printed = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            bail!(
                "{package} example {name} failed ({}):\n{printed}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let readme = root.join(package).join("README.md");
        let readme_text = std::fs::read_to_string(&readme)
            .with_context(|| format!("reading {}", readme.display()))?;
        let said = printed_block(&readme_text, name).with_context(|| {
            format!(
                "{}: no ```text block after `It prints:` after `--example {name}`",
                readme.display()
            )
        })?;
        if let Err(line) = matches(&said, &printed) {
            bail!(
                "{package} example {name} does not print what {} says (first difference at line {line}).\n\
                 README:\n{said}\nprinted:\n{printed}",
                readme.display()
            );
        }
        println!(
            "ok - {package} example {name}: {} lines, as its README says",
            printed.lines().count()
        );
    }
    Ok(())
}

/// The lines of the ```` ```text ```` block that follows `It prints:`,
/// the first such after the line that names `--example {name}`.
fn printed_block(readme: &str, name: &str) -> Option<String> {
    let command = format!("--example {name}");
    let longer = format!("{command}_");
    let mut lines = readme
        .lines()
        .skip_while(|l| !l.contains(&command) || l.contains(&longer))
        .skip_while(|l| l.trim() != "It prints:");
    lines.next()?;
    let mut lines = lines.skip_while(|l| l.trim().is_empty());
    if lines.next()?.trim() != "```text" {
        return None;
    }
    let mut block = String::new();
    for line in lines {
        if line.trim() == "```" {
            return Some(block);
        }
        block.push_str(line);
        block.push('\n');
    }
    None
}

/// Whether `printed` has the README's lines, `…` matching any text within
/// a line; the 1-based number of the first line that differs if not.
fn matches(said: &str, printed: &str) -> Result<(), usize> {
    let mut said_lines = said.lines();
    let mut printed_lines = printed.lines();
    for number in 1.. {
        match (said_lines.next(), printed_lines.next()) {
            (None, None) => return Ok(()),
            (Some(pattern), Some(line)) if line_matches(pattern, line) => {}
            _ => return Err(number),
        }
    }
    Ok(())
}

/// `line` against `pattern`, whose `…` stand for any text.
fn line_matches(pattern: &str, line: &str) -> bool {
    let mut parts = pattern.split('…');
    let Some(first) = parts.next() else {
        return line.is_empty();
    };
    let Some(mut rest) = line.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        // No `…`: the whole line.
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = rest.get(at + part.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::{line_matches, matches, printed_block};

    #[test]
    fn a_readme_block_matches_the_output_line_for_line_with_ellipses_for_any_text() {
        let readme = "# x\n\n`--example b_c`\nIt prints:\n\n```text\nother\n```\n\n\
                      `cargo run --example b`\n\nIt prints:\n\n```text\n\
                      node … listens on 127.0.0.1:…\ndone\n```\nmore\n";
        assert_eq!(printed_block(readme, "b_c").unwrap(), "other\n");
        let said = printed_block(readme, "b").unwrap();
        assert_eq!(said, "node … listens on 127.0.0.1:…\ndone\n");
        assert_eq!(
            matches(&said, "node 12D3 listens on 127.0.0.1:4001\ndone\n"),
            Ok(())
        );
        // A line missing, a line more, a line changed.
        assert_eq!(matches(&said, "node a listens on 127.0.0.1:1\n"), Err(2));
        assert_eq!(
            matches(&said, "node a listens on 127.0.0.1:1\ndone\nextra\n"),
            Err(3)
        );
        assert_eq!(
            matches(&said, "node a listens on 10.0.0.1:1\ndone\n"),
            Err(1)
        );

        assert!(line_matches("exact", "exact"));
        assert!(!line_matches("exact", "exact and more"));
        assert!(!line_matches("exact", "inexact"));
        assert!(line_matches("a … b … c", "a 1 b 2 c"));
        assert!(!line_matches("a … b … c", "a 1 c 2 b"));
        assert!(line_matches("…", "anything"));
        assert!(line_matches("ends …", "ends "));
        assert!(!line_matches("x…x", "x"));
        assert_eq!(printed_block("--example b\nno block here", "b"), None);
        assert_eq!(printed_block("It prints:\n\n```text\nx\n```\n", "b"), None);
        assert_eq!(
            printed_block("--example b\nIt prints:\n\n```rust\n```\n", "b"),
            None
        );
    }
}
