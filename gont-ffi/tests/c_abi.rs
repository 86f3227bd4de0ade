//! `libgont_vm` driven from C (compiled with `cc` against the header
//! cbindgen wrote, linked shared and static) and from Python (`ctypes`):
//! each deploys a contract from a raw signed transaction, seals, calls it,
//! closes, reopens and reads the state, and gives bad input.

// Test code: a failed expect or assert is the test failing, with its message.
#![allow(clippy::expect_used, clippy::panic)]

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

/// Where cargo put `libgont_vm.so` and `libgont_vm.a`: beside this test.
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let deps = exe.parent().expect("the test's folder").to_owned();
    assert!(
        deps.join("libgont_vm.so").exists(),
        "libgont_vm.so is not in {}",
        deps.display()
    );
    deps
}

fn header_dir() -> &'static Path {
    Path::new(env!("OUT_DIR"))
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

fn compile_and_run(link: &[&str], name: &str) {
    let work = tempfile::tempdir().expect("a temporary folder");
    let exe = work.path().join(name);
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/deploy.c");
    let mut cc = Command::new("cc");
    cc.args(["-std=c11", "-D_DEFAULT_SOURCE", "-Wall", "-Werror", "-o"])
        .arg(&exe)
        .arg(&source)
        .arg("-I")
        .arg(header_dir())
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
    let lib = library_dir();
    let rpath = format!("-Wl,-rpath,{}", lib.display());
    let search = format!("-L{}", lib.display());
    compile_and_run(&[&search, "-lgont_vm", &rpath], "deploy-shared");
}

#[test]
fn a_c_program_linked_to_the_static_library_deploys_seals_calls_and_reopens() {
    let archive = library_dir().join("libgont_vm.a");
    let archive = archive.to_str().expect("a UTF-8 path");
    compile_and_run(&[archive, "-lpthread", "-ldl", "-lm"], "deploy-static");
}

#[test]
fn a_python_ctypes_script_deploys_seals_calls_and_reopens() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/deploy.py");
    let (raw, contract) = deployment();
    let out = run(Command::new("python3")
        .arg(script)
        .arg(library_dir().join("libgont_vm.so"))
        .arg(work.path().join("chain"))
        .arg(raw)
        .arg(contract));
    print!("{out}");
    assert!(
        out.trim_end().ends_with("python: 9 checks passed"),
        "the Python script's checks: {out}"
    );
}
