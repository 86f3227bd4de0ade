//! `libgont_vm` driven from C (compiled with `cc` against the header
//! cbindgen wrote, linked shared and static) and from Python (`ctypes`):
//! each deploys a contract from a raw signed transaction, seals, calls it,
//! closes, reopens and reads the state, and gives bad input.

// Test code: a failed expect or assert is the test failing, with its
// message; `serde_json::Value` indexing gives `Null` for a missing key,
// it never panics.
#![allow(clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::Command;

use alloy_consensus::TxEip1559;
use alloy_primitives::{Bytes, TxKind, U256, hex};
use gont_vm::testing::{address_of, dev_key, raw, sign};

/// Stores 42 in slot 0; its code returns slot 0.
const INIT_CODE: &str = concat!(
    "602a600055",       // SSTORE(0, 42)
    "600b601160003960", // CODECOPY(0, 17, 11)
    "0b6000f3",         // RETURN(0, 11)
    "600054600052",     // code: MSTORE(0, SLOAD(0))
    "60206000f3",       // RETURN(0, 32)
);

/// The deployment from development account 0 at nonce 0 on chain 31337,
/// and the contract's address.
fn deployment() -> (String, String) {
    let key = dev_key(0).expect("development key 0");
    let tx = TxEip1559 {
        chain_id: 31_337,
        nonce: 0,
        gas_limit: 200_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Create,
        value: U256::ZERO,
        access_list: Default::default(),
        input: Bytes::from(hex::decode(INIT_CODE).expect("hex")),
    };
    let raw = raw(&sign(tx, &key).expect("signed"));
    let contract = address_of(&key).create(0);
    (format!("0x{}", hex::encode(&raw.0)), contract.to_string())
}

/// `libgont_vm` as `cargo xtask dist` builds it: `gont-ffi` alone (so
/// `gont-node` with the `abi` placement only), debug profile.
struct Library {
    shared: PathBuf,
    archive: PathBuf,
    /// Where its build script wrote `gont_vm.h`.
    include: PathBuf,
}

/// Builds the library (cargo does nothing if it is up to date: `cargo
/// xtask ci` builds it before the tests) and finds its files in cargo's
/// messages. Cargo does not build a `cdylib` for a crate's own
/// integration tests, so the tests ask for it.
fn library() -> Library {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace");
    let output = Command::new(env!("CARGO"))
        .args([
            "build",
            "--locked",
            "-p",
            "gont-ffi",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(workspace)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "cargo build -p gont-ffi failed");
    let (mut shared, mut archive, mut include) = (None, None, None);
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let ours = message["package_id"]
            .as_str()
            .is_some_and(|id| id.contains("gont-ffi"));
        if !ours {
            continue;
        }
        match message["reason"].as_str() {
            Some("compiler-artifact") => {
                for file in message["filenames"].as_array().into_iter().flatten() {
                    let file = PathBuf::from(file.as_str().unwrap_or_default());
                    match file.extension().and_then(|e| e.to_str()) {
                        Some("so") => shared = Some(file),
                        Some("a") => archive = Some(file),
                        _ => {}
                    }
                }
            }
            Some("build-script-executed") => {
                include = message["out_dir"].as_str().map(PathBuf::from);
            }
            _ => {}
        }
    }
    Library {
        shared: shared.expect("cargo built libgont_vm.so"),
        archive: archive.expect("cargo built libgont_vm.a"),
        include: include.expect("gont-ffi's build script ran"),
    }
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("the command starts");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn compile_and_run(include: &Path, link: &[&str], name: &str) {
    let work = tempfile::tempdir().expect("a temporary folder");
    let exe = work.path().join(name);
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/deploy.c");
    let mut cc = Command::new("cc");
    cc.args(["-std=c11", "-D_DEFAULT_SOURCE", "-Wall", "-Werror", "-o"])
        .arg(&exe)
        .arg(&source)
        .arg("-I")
        .arg(include)
        .args(link);
    run(&mut cc);
    let (raw, contract) = deployment();
    let out = run(Command::new(&exe)
        .arg(work.path().join("chain"))
        .arg(raw)
        .arg(contract));
    print!("{out}");
    assert!(
        out.trim_end().ends_with("c: 18 checks passed"),
        "the C program's checks: {out}"
    );
}

#[test]
fn a_c_program_linked_to_the_shared_library_deploys_seals_calls_and_reopens() {
    let lib = library();
    let dir = lib.shared.parent().expect("the library's folder");
    let rpath = format!("-Wl,-rpath,{}", dir.display());
    let search = format!("-L{}", dir.display());
    compile_and_run(
        &lib.include,
        &[&search, "-lgont_vm", &rpath],
        "deploy-shared",
    );
}

#[test]
fn a_c_program_linked_to_the_static_library_deploys_seals_calls_and_reopens() {
    let lib = library();
    let archive = lib.archive.to_str().expect("a UTF-8 path");
    compile_and_run(
        &lib.include,
        &[archive, "-lpthread", "-ldl", "-lm"],
        "deploy-static",
    );
}

#[test]
fn a_python_ctypes_script_deploys_seals_calls_and_reopens() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/deploy.py");
    let (raw, contract) = deployment();
    let out = run(Command::new("python3")
        .arg(script)
        .arg(library().shared)
        .arg(work.path().join("chain"))
        .arg(raw)
        .arg(contract));
    print!("{out}");
    assert!(
        out.trim_end().ends_with("python: 9 checks passed"),
        "the Python script's checks: {out}"
    );
}
