//! Ethereum accounts in keystores as geth keeps them: a directory with one
//! file per account, named `UTC--<time>--<address>`, each file with the
//! account's `address` (lowercase hex without `0x`) so that listing needs no
//! passphrase. geth's `account import`/`--keystore` and MetaMask's "import
//! JSON file" read these files.
//!
//! An [`AccountKey`] comes from the operating system's randomness, a private
//! key, or a BIP-39 mnemonic and a BIP-32 path (the English word list, its
//! checksum checked; no mnemonic passphrase).

use std::fmt;
use std::path::{Path, PathBuf};

use alloy_primitives::{Address, hex};
use gont_core::Timestamp;
use zeroize::{Zeroize, Zeroizing};

use super::{Contents, KeystoreError, SCRYPT_LOG_N, shown};

/// The path of a mnemonic's first account, as MetaMask, Foundry and Hardhat
/// derive it; account `i` is `m/44'/60'/0'/0/i`.
pub const DEFAULT_DERIVATION_PATH: &str = "m/44'/60'/0'/0/0";

/// Why a mnemonic was refused. Words are named by position only, so that
/// no part of the mnemonic reaches a terminal or a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MnemonicError {
    /// Not 12, 15, 18, 21 or 24 words.
    #[error("{0} words; a BIP-39 mnemonic has 12, 15, 18, 21 or 24")]
    WordCount(usize),
    /// A word outside the BIP-39 English list (`position` counts from 1).
    #[error("word {position} is not in the BIP-39 English word list")]
    UnknownWord {
        /// Which word, from 1.
        position: usize,
    },
    /// Every word is in the list, but the checksum they carry is wrong.
    #[error("the checksum does not match: a word is wrong or out of place")]
    Checksum,
    /// Anything else the BIP-39 parser refused.
    #[error("{0}")]
    Other(String),
}

impl From<bip39::Error> for MnemonicError {
    fn from(e: bip39::Error) -> Self {
        match e {
            bip39::Error::BadWordCount(n) => Self::WordCount(n),
            bip39::Error::UnknownWord(i) => Self::UnknownWord {
                position: i.saturating_add(1),
            },
            bip39::Error::InvalidChecksum => Self::Checksum,
            other => Self::Other(other.to_string()),
        }
    }
}

/// A secp256k1 account key and its address. The key is zeroized when
/// dropped and never printed (`Debug` shows the address).
pub struct AccountKey {
    secret: Zeroizing<[u8; 32]>,
    address: Address,
}

impl fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountKey({})", self.address)
    }
}

impl AccountKey {
    /// A new key from the operating system's randomness.
    pub fn generate() -> Result<Self, KeystoreError> {
        loop {
            let secret = Zeroizing::new(super::random::<32>()?);
            // 32 random bytes are not a key with probability below 2^-127.
            if let Ok(key) = Self::from_secret(&secret) {
                return Ok(key);
            }
        }
    }

    /// The key with these 32 bytes (big-endian), if they are a secp256k1
    /// secret key (not zero, below the group order).
    pub fn from_secret(secret: &[u8; 32]) -> Result<Self, KeystoreError> {
        let key = k256::ecdsa::SigningKey::from_bytes(secret.into()).map_err(|_| {
            KeystoreError::PrivateKey(
                "not a secp256k1 key (zero, or not below the group order)".into(),
            )
        })?;
        Ok(Self {
            secret: Zeroizing::new(*secret),
            address: Address::from_private_key(&key),
        })
    }

    /// The key written as 64 hex digits, with or without `0x`; whitespace
    /// around it (a file's final newline) is ignored.
    pub fn from_hex(text: &str) -> Result<Self, KeystoreError> {
        let text = text.trim();
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        if digits.len() != 64 {
            return Err(KeystoreError::PrivateKey(format!(
                "expected 64 hex digits (32 bytes, 0x optional), found {} characters",
                digits.len()
            )));
        }
        let mut secret = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(digits, secret.as_mut_slice())
            .map_err(|_| KeystoreError::PrivateKey("not hex digits".into()))?;
        Self::from_secret(&secret)
    }

    /// The key at BIP-32 `path` (as `m/44'/60'/0'/0/0`) of a BIP-39 English
    /// `phrase`, with no mnemonic passphrase: the account MetaMask, Foundry
    /// and Hardhat derive. Words may be separated by any whitespace.
    pub fn from_mnemonic(phrase: &str, path: &str) -> Result<Self, KeystoreError> {
        let bad_path = |reason: String| KeystoreError::DerivationPath {
            path: path.to_owned(),
            reason,
        };
        let parsed: bip32::DerivationPath = path.parse().map_err(|_| {
            bad_path(
                "expected m/ then child indices below 2^31, each followed by ' (or h) \
                 if hardened, as m/44'/60'/0'/0/0"
                    .into(),
            )
        })?;
        let mnemonic = bip39::Mnemonic::parse_in_normalized(bip39::Language::English, phrase)
            .map_err(MnemonicError::from)?;
        let seed = Zeroizing::new(mnemonic.to_seed_normalized(""));
        let xprv = bip32::XPrv::derive_from_path(seed.as_slice(), &parsed)
            .map_err(|e| bad_path(e.to_string()))?;
        let mut bytes = xprv.private_key().to_bytes();
        let bytes: &mut [u8] = &mut bytes;
        let mut secret = Zeroizing::new([0u8; 32]);
        secret.copy_from_slice(bytes);
        bytes.zeroize();
        Self::from_secret(&secret)
    }

    /// The account's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The 32-byte secret key.
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }
}

/// The file name geth gives an account's keystore written at `now`:
/// `UTC--2006-01-02T15-04-05.000000000Z--<address in lowercase hex>`, so
/// that a directory lists in the order the accounts were added.
pub fn file_name(address: Address, now: Timestamp) -> String {
    let nanos = i128::from(now.as_millis()).saturating_mul(1_000_000);
    // Past the year 9999 (where `time` stops) the name keeps the epoch:
    // it orders files and tools read the address from the contents.
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "UTC--{:04}-{:02}-{:02}T{:02}-{:02}-{:02}.{:09}Z--{}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond(),
        hex::encode(address)
    )
}

/// Writes `key` into a new keystore in `dir` (created, owner-only, if
/// missing) under geth's name for it at `now`; refuses if `dir` already
/// holds a keystore of the account. Returns the file.
pub fn write(
    dir: &Path,
    key: &AccountKey,
    passphrase: &str,
    now: Timestamp,
) -> Result<PathBuf, KeystoreError> {
    write_with_cost(dir, key, passphrase, now, SCRYPT_LOG_N)
}

/// As [`write()`], with scrypt's cost `2^log_n` (tests use a low one).
pub fn write_with_cost(
    dir: &Path,
    key: &AccountKey,
    passphrase: &str,
    now: Timestamp,
    log_n: u8,
) -> Result<PathBuf, KeystoreError> {
    create_dir(dir)?;
    let existing = scan(dir)?.into_iter().find_map(|entry| match entry {
        Entry::Account { path, address } if address == key.address => Some(path),
        _ => None,
    });
    if let Some(path) = existing {
        return Err(KeystoreError::AccountExists {
            address: key.address,
            path: shown(&path),
        });
    }
    let path = dir.join(file_name(key.address, now));
    let contents = Contents {
        secret: &key.secret,
        purpose: None,
        address: Some(key.address),
    };
    super::create(&path, &super::encrypt(&contents, passphrase, log_n, &path)?)?;
    Ok(path)
}

fn create_dir(dir: &Path) -> Result<(), KeystoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| KeystoreError::Io {
        path: shown(dir),
        source,
    })
}

/// Decrypts the account keystore at `path` (any v3 keystore of a secp256k1
/// key, with or without an `address` field); refuses one whose `address`
/// is not its key's.
pub fn read(path: &Path, passphrase: &str) -> Result<AccountKey, KeystoreError> {
    let checked = super::open(path)?;
    let secret = super::decrypt(&checked, passphrase, path)?;
    let key = AccountKey::from_secret(&secret).map_err(|_| KeystoreError::Format {
        path: shown(path),
        reason: "the decrypted secret is not a secp256k1 key".into(),
    })?;
    match checked.address {
        Some(file) if file != key.address => Err(KeystoreError::AddressMismatch {
            path: shown(path),
            file,
            key: key.address,
        }),
        _ => Ok(key),
    }
}

/// The `address` field of the keystore at `path`, read without decrypting.
pub fn address_of(path: &Path) -> Result<Address, KeystoreError> {
    super::open(path)?
        .address
        .ok_or_else(|| KeystoreError::NotAnAccount { path: shown(path) })
}

/// A file of a keystore directory.
#[derive(Debug)]
pub enum Entry {
    /// An account's keystore.
    Account {
        /// The file.
        path: PathBuf,
        /// Its `address` field.
        address: Address,
    },
    /// A keystore with no `address` field (a validator or relayer key).
    Other {
        /// The file.
        path: PathBuf,
    },
    /// A file that is no keystore this node reads.
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        error: KeystoreError,
    },
}

/// The keystores of `dir` in file-name order, none decrypted: a directory
/// that does not exist has none. As geth, directories, other non-regular
/// files, hidden files and editor backups (`…~`) are skipped.
pub fn scan(dir: &Path) -> Result<Vec<Entry>, KeystoreError> {
    let io = |source| KeystoreError::Io {
        path: shown(dir),
        source,
    };
    let listing = match std::fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(e)),
    };
    let mut paths = Vec::new();
    for entry in listing {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        if entry.file_type().map_err(io)?.is_file() {
            paths.push(entry.path());
        }
    }
    paths.sort();
    Ok(paths
        .into_iter()
        .map(|path| match super::open(&path) {
            Ok(checked) => match checked.address {
                Some(address) => Entry::Account { path, address },
                None => Entry::Other { path },
            },
            Err(error) => Entry::Unreadable { path, error },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gont_core::genesis::DEV_MNEMONIC;

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2026-03-04T05:06:07.089Z").unwrap()
    }

    #[test]
    fn the_dev_mnemonic_derives_the_well_known_accounts() {
        let first = AccountKey::from_mnemonic(DEV_MNEMONIC, DEFAULT_DERIVATION_PATH).unwrap();
        assert_eq!(
            first.address().to_string(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
        assert_eq!(
            hex::encode(first.secret()),
            "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
        );
        let second = AccountKey::from_mnemonic(DEV_MNEMONIC, "m/44'/60'/0'/0/1").unwrap();
        assert_eq!(
            second.address().to_string(),
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
        );
        // Any whitespace between words, and `h` for hardened.
        let spaced = DEV_MNEMONIC.replace(' ', "\n  ");
        let again = AccountKey::from_mnemonic(&spaced, "m/44h/60h/0h/0/1").unwrap();
        assert_eq!(again.address(), second.address());
    }

    #[test]
    fn bad_mnemonics_say_what_is_wrong_without_repeating_words() {
        let unknown = DEV_MNEMONIC.replacen("test", "tset", 1);
        let e = AccountKey::from_mnemonic(&unknown, DEFAULT_DERIVATION_PATH).unwrap_err();
        assert!(
            matches!(
                e,
                KeystoreError::Mnemonic(MnemonicError::UnknownWord { position: 1 })
            ),
            "{e}"
        );
        assert!(!e.to_string().contains("tset"), "{e}");
        // All words in the list, but "test" is not a valid last word.
        let checksum = DEV_MNEMONIC.replace("junk", "test");
        let e = AccountKey::from_mnemonic(&checksum, DEFAULT_DERIVATION_PATH).unwrap_err();
        assert!(
            matches!(e, KeystoreError::Mnemonic(MnemonicError::Checksum)),
            "{e}"
        );
        let short = "test test test junk";
        let e = AccountKey::from_mnemonic(short, DEFAULT_DERIVATION_PATH).unwrap_err();
        assert!(
            matches!(e, KeystoreError::Mnemonic(MnemonicError::WordCount(4))),
            "{e}"
        );
    }

    #[test]
    fn bad_derivation_paths_are_refused() {
        for path in [
            "44'/60'/0'/0/0",
            "m/44'/60'/x",
            "m/2147483648",
            "m/44’/60’",
            "",
        ] {
            let e = AccountKey::from_mnemonic(DEV_MNEMONIC, path).unwrap_err();
            assert!(
                matches!(e, KeystoreError::DerivationPath { .. }),
                "{path}: {e}"
            );
        }
    }

    #[test]
    fn private_keys_are_checked_and_never_echoed() {
        let hex_key = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
        for text in [
            hex_key.to_owned(),
            format!("0x{hex_key}\n"),
            format!("  {hex_key}  "),
        ] {
            let key = AccountKey::from_hex(&text).unwrap();
            assert_eq!(
                key.address().to_string(),
                "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
            );
        }
        let order = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
        for bad in [
            &hex_key[1..],
            &hex_key.replace('a', "g"),
            &"0".repeat(64),
            order,
        ] {
            let e = AccountKey::from_hex(bad).unwrap_err();
            assert!(matches!(e, KeystoreError::PrivateKey(_)), "{e}");
            assert!(!e.to_string().contains(&bad[..8]), "{e}");
        }
        assert_eq!(
            format!("{:?}", AccountKey::from_hex(hex_key).unwrap()),
            "AccountKey(0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266)"
        );
    }

    #[test]
    fn file_names_are_geths() {
        let address: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
            .parse()
            .unwrap();
        assert_eq!(
            file_name(address, now()),
            "UTC--2026-03-04T05-06-07.089000000Z--f39fd6e51aad88f6f4ce6ab8827279cfffb92266"
        );
    }

    #[test]
    fn an_account_keystore_round_trips_and_is_listed_without_its_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keystore");
        let key = AccountKey::from_mnemonic(DEV_MNEMONIC, DEFAULT_DERIVATION_PATH).unwrap();
        let path = write_with_cost(&keys, &key, "pw", now(), 4).unwrap();
        assert_eq!(path.parent(), Some(keys.as_path()));
        let back = read(&path, "pw").unwrap();
        assert_eq!(back.secret(), key.secret());
        assert_eq!(back.address(), key.address());
        assert!(matches!(
            read(&path, "wrong").unwrap_err(),
            KeystoreError::WrongPassphrase { .. }
        ));
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(v["address"], "f39fd6e51aad88f6f4ce6ab8827279cfffb92266");
        assert!(v.get("purpose").is_none());
        assert_eq!(address_of(&path).unwrap(), key.address());

        // The same account again is refused, even at another time.
        let later = Timestamp(now().as_millis() + 1000);
        assert!(matches!(
            write_with_cost(&keys, &key, "pw", later, 4).unwrap_err(),
            KeystoreError::AccountExists { .. }
        ));

        // Validator keystores, hidden files and garbage beside it.
        super::super::write_with_cost(&keys.join("validator-1.json"), &[3; 32], "pw", "v", 4)
            .unwrap();
        std::fs::write(keys.join(".hidden"), "x").unwrap();
        std::fs::write(keys.join("notes.txt"), "not a keystore").unwrap();
        let entries = scan(&keys).unwrap();
        assert_eq!(entries.len(), 3, "{entries:?}");
        assert!(
            matches!(&entries[0], Entry::Account { path: p, address } if *p == path && *address == key.address())
        );
        assert!(
            matches!(&entries[1], Entry::Unreadable { path, .. } if path.ends_with("notes.txt"))
        );
        assert!(matches!(&entries[2], Entry::Other { path } if path.ends_with("validator-1.json")));
        assert!(matches!(
            address_of(&keys.join("validator-1.json")).unwrap_err(),
            KeystoreError::NotAnAccount { .. }
        ));
        assert!(scan(&dir.path().join("missing")).unwrap().is_empty());
    }

    #[test]
    fn a_keystore_whose_address_is_not_its_keys_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = AccountKey::from_mnemonic(DEV_MNEMONIC, DEFAULT_DERIVATION_PATH).unwrap();
        let path = write_with_cost(dir.path(), &key, "pw", now(), 4).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let forged = path.with_file_name("forged.json");
        std::fs::write(
            &forged,
            text.replace(
                "f39fd6e51aad88f6f4ce6ab8827279cfffb92266",
                "70997970c51812dc3a010c7d01b50e0d17dc79c8",
            ),
        )
        .unwrap();
        assert!(matches!(
            read(&forged, "pw").unwrap_err(),
            KeystoreError::AddressMismatch { .. }
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_new_keystore_directory_is_its_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("a/b");
        let key = AccountKey::generate().unwrap();
        let path = write_with_cost(&keys, &key, "pw", now(), 4).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&keys), 0o700);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(read(&path, "pw").unwrap().secret(), key.secret());
    }
}
