//! `gont keys account` as a user runs it: the binary imports the
//! development mnemonic and private keys from files or stdin, creates
//! accounts, lists and exports addresses, and refuses bad input with errors
//! that name the problem; every keystore it writes decrypts back to its key.

// Test code: a failed unwrap, index or panic is the test failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gont_core::genesis::{DEV_ADDRESSES, DEV_MNEMONIC, DEV_PRIVATE_KEYS};
use gont_node::keystore::account;

const PASSPHRASE: &str = "keys test";

/// The output of `gont keys account ARGS` with `stdin` on its standard
/// input and the passphrase in the environment.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn gont_account(args: &[&str], stdin: &str, passphrase: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gont"));
    command
        .args(["keys", "account"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("GONT_PASSPHRASE");
    if let Some(p) = passphrase {
        command.env("GONT_PASSPHRASE", p);
    }
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The file a successful `new` or `import` says it created.
fn created(run: &Run) -> PathBuf {
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
    let line = run.stdout.lines().next().unwrap();
    PathBuf::from(line.strip_prefix("created ").unwrap())
}

fn dir_arg(dir: &Path) -> String {
    dir.to_str().unwrap().to_owned()
}

#[test]
fn importing_the_dev_mnemonic_gives_the_well_known_accounts() {
    let tmp = tempfile::tempdir().unwrap();
    let ks = dir_arg(&tmp.path().join("keystore"));
    let mnemonic = tmp.path().join("mnemonic.txt");
    std::fs::write(&mnemonic, format!("{DEV_MNEMONIC}\n")).unwrap();

    // Account 0 at the default path, from a file.
    let first = gont_account(
        &[
            "import",
            "--keystore-dir",
            &ks,
            "--mnemonic-file",
            mnemonic.to_str().unwrap(),
        ],
        "",
        Some(PASSPHRASE),
    );
    let first_file = created(&first);
    assert!(
        first
            .stdout
            .contains("address 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
        "{}",
        first.stdout
    );
    // Account 1, from stdin.
    let second = gont_account(
        &[
            "import",
            "--keystore-dir",
            &ks,
            "--mnemonic-file",
            "-",
            "--derivation-path",
            "m/44'/60'/0'/0/1",
        ],
        DEV_MNEMONIC,
        Some(PASSPHRASE),
    );
    let second_file = created(&second);
    assert!(
        second
            .stdout
            .contains("address 0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
        "{}",
        second.stdout
    );

    // Each keystore decrypts to the account's key.
    for (file, i) in [(&first_file, 0), (&second_file, 1)] {
        let key = account::read(file, PASSPHRASE).unwrap();
        assert_eq!(key.address(), DEV_ADDRESSES[i]);
        assert_eq!(
            format!("0x{}", alloy_hex(key.secret())),
            DEV_PRIVATE_KEYS[i]
        );
    }

    // Listed and exported without the passphrase.
    let list = gont_account(&["list", "--keystore-dir", &ks], "", None);
    assert!(list.ok, "{}", list.stderr);
    assert_eq!(
        list.stdout,
        format!(
            "{}  {}\n{}  {}\n",
            DEV_ADDRESSES[0],
            first_file.display(),
            DEV_ADDRESSES[1],
            second_file.display()
        )
    );
    let export = gont_account(&["export-address", first_file.to_str().unwrap()], "", None);
    assert!(export.ok, "{}", export.stderr);
    assert_eq!(
        export.stdout,
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\n"
    );

    // The same account again, now from its private key: refused.
    let again = gont_account(
        &["import", "--keystore-dir", &ks, "--private-key-file", "-"],
        &format!("{}\n", DEV_PRIVATE_KEYS[0]),
        Some(PASSPHRASE),
    );
    assert!(!again.ok);
    assert!(
        again.stderr.contains("already has a keystore"),
        "{}",
        again.stderr
    );
}

#[test]
fn a_new_account_decrypts_to_the_key_of_its_address() {
    let tmp = tempfile::tempdir().unwrap();
    // A node home: the accounts go into its keystore/.
    let home = dir_arg(tmp.path());
    let run = gont_account(&["new", "--home", &home], "", Some(PASSPHRASE));
    let file = created(&run);
    assert_eq!(file.parent(), Some(tmp.path().join("keystore").as_path()));
    let key = account::read(&file, PASSPHRASE).unwrap();
    assert!(
        run.stdout.contains(&format!("address {}", key.address())),
        "{}",
        run.stdout
    );
    // `gont keys list` of the home names it an account.
    let out = Command::new(env!("CARGO_BIN_EXE_gont"))
        .args(["keys", "list", "--home", &home])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains(&format!("account    {}  {}", key.address(), file.display())),
        "{listed}"
    );
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("UTC--")
            && name.ends_with(&format!("Z--{}", alloy_hex(key.address().as_slice()))),
        "{name}"
    );
}

#[test]
fn bad_input_is_refused_with_an_error_that_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let ks = dir_arg(&tmp.path().join("keystore"));
    let import_mnemonic = |phrase: &str, path: &str| {
        gont_account(
            &[
                "import",
                "--keystore-dir",
                &ks,
                "--mnemonic-file",
                "-",
                "--derivation-path",
                path,
            ],
            phrase,
            Some(PASSPHRASE),
        )
    };
    let default_path = account::DEFAULT_DERIVATION_PATH;
    let cases = [
        (
            import_mnemonic(&DEV_MNEMONIC.replacen("test", "tset", 1), default_path),
            "word 1 is not in the BIP-39 English word list",
        ),
        (
            import_mnemonic(&DEV_MNEMONIC.replace("junk", "test"), default_path),
            "checksum does not match",
        ),
        (
            import_mnemonic("test junk", default_path),
            "2 words; a BIP-39 mnemonic has 12, 15, 18, 21 or 24",
        ),
        (
            import_mnemonic(DEV_MNEMONIC, "m/44'/60'/zero"),
            "bad derivation path \"m/44'/60'/zero\"",
        ),
        (
            gont_account(
                &["import", "--keystore-dir", &ks, "--private-key-file", "-"],
                "0x1234",
                Some(PASSPHRASE),
            ),
            "bad private key: expected 64 hex digits",
        ),
        (
            gont_account(
                &["import", "--keystore-dir", &ks, "--private-key-file", "-"],
                &"0".repeat(64),
                Some(PASSPHRASE),
            ),
            "bad private key: not a secp256k1 key",
        ),
        // Secrets are never command-line arguments.
        (
            gont_account(
                &["import", "--keystore-dir", &ks, "--private-key", "0x01"],
                "",
                Some(PASSPHRASE),
            ),
            "unexpected argument '--private-key'",
        ),
        // A path with a private key means a mistake.
        (
            gont_account(
                &[
                    "import",
                    "--keystore-dir",
                    &ks,
                    "--private-key-file",
                    "-",
                    "--derivation-path",
                    default_path,
                ],
                "",
                Some(PASSPHRASE),
            ),
            "cannot be used with",
        ),
        (
            gont_account(&["new", "--keystore-dir", &ks], "", None),
            "no passphrase",
        ),
        (
            gont_account(&["new"], "", Some(PASSPHRASE)),
            "--keystore-dir",
        ),
    ];
    for (run, says) in cases {
        assert!(
            !run.ok,
            "expected a refusal naming {says:?}: {}",
            run.stdout
        );
        assert!(
            run.stderr.contains(says),
            "expected {says:?} in: {}",
            run.stderr
        );
        // No secret ever reaches the terminal.
        assert!(!run.stderr.contains("tset"), "{}", run.stderr);
    }
    // Nothing was written.
    assert!(account::scan(Path::new(&ks)).unwrap().is_empty());

    // A validator keystore has no address to export.
    let validator = tmp.path().join("validator.json");
    gont_node::keystore::write_with_cost(&validator, &[5; 32], "pw", "gont-validator", 4).unwrap();
    let run = gont_account(&["export-address", validator.to_str().unwrap()], "", None);
    assert!(!run.ok);
    assert!(
        run.stderr.contains("not an account keystore"),
        "{}",
        run.stderr
    );
}

fn alloy_hex(bytes: &[u8]) -> String {
    alloy_primitives::hex::encode(bytes)
}
