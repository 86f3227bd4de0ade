//! Keys at rest in the Web3 Secret Storage format (version 3), the keystore
//! geth, MetaMask and every Ethereum tool read: a KDF derives a key from the
//! passphrase, AES-128-CTR encrypts the 32-byte secret, and a keccak MAC
//! detects a wrong passphrase.
//!
//! Two kinds of secret are kept so:
//! - validator keys, a 32-byte ed25519 seed with a `purpose` field:
//!   [`write()`] and [`read()`];
//! - Ethereum accounts, a secp256k1 key with the `address` field geth
//!   writes, in geth's file layout: [`account`].
//!
//! New files use scrypt (N = 2^18, r = 8, p = 1, as geth); files with
//! scrypt or PBKDF2-HMAC-SHA-256 are read. Derived keys and decrypted
//! secrets are zeroized when dropped, and the MAC is compared in constant
//! time.

pub mod account;
mod crypto;
mod file;

use std::path::Path;

use alloy_primitives::{Address, hex};
use zeroize::Zeroizing;

pub use account::MnemonicError;
use crypto::Kdf;

/// scrypt cost of new keystores: N = 2^18, r = 8, p = 1, as geth's
/// standard (not "light") setting.
pub const SCRYPT_LOG_N: u8 = 18;

/// Why a keystore could not be written or read, or an account key not made.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a version-3 keystore this node reads.
    #[error(
        "{path}: not a Web3 Secret Storage v3 keystore with scrypt or pbkdf2 and aes-128-ctr: {reason}"
    )]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The MAC does not match: the passphrase is wrong (or the file altered).
    #[error("{path}: wrong passphrase (the keystore's MAC does not match)")]
    WrongPassphrase {
        /// The file.
        path: String,
    },
    /// The operating system's randomness failed.
    #[error("no randomness from the operating system: {0}")]
    Random(String),
    /// The keystore has no `address` field: not an account's (a validator
    /// key's, say).
    #[error("{path}: not an account keystore (it has no address field)")]
    NotAnAccount {
        /// The file.
        path: String,
    },
    /// The key decrypted from an account keystore is not the one its
    /// `address` field names.
    #[error("{path}: the keystore says {file} but holds the key of {key}")]
    AddressMismatch {
        /// The file.
        path: String,
        /// Its `address` field.
        file: Address,
        /// The address of the key inside.
        key: Address,
    },
    /// The keystore directory already holds this account.
    #[error("account {address} already has a keystore: {path}")]
    AccountExists {
        /// The account.
        address: Address,
        /// Its keystore.
        path: String,
    },
    /// A private key that is not a secp256k1 secret key; the key itself is
    /// never part of the message.
    #[error("bad private key: {0}")]
    PrivateKey(String),
    /// A mnemonic that is not BIP-39 English.
    #[error("bad mnemonic: {0}")]
    Mnemonic(MnemonicError),
    /// A BIP-32 derivation path that does not parse or derive.
    #[error("bad derivation path {path:?}: {reason}")]
    DerivationPath {
        /// The path as given.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

// Not `#[from]`, which would make the mnemonic error a `source` too and
// have error chains say it twice.
impl From<MnemonicError> for KeystoreError {
    fn from(e: MnemonicError) -> Self {
        Self::Mnemonic(e)
    }
}

/// Encrypts `secret` under `passphrase` into a new keystore file at `path`;
/// refuses to overwrite one.
pub fn write(
    path: &Path,
    secret: &[u8; 32],
    passphrase: &str,
    purpose: &str,
) -> Result<(), KeystoreError> {
    write_with_cost(path, secret, passphrase, purpose, SCRYPT_LOG_N)
}

/// As [`write()`], with scrypt's cost `2^log_n` (tests use a low one).
pub fn write_with_cost(
    path: &Path,
    secret: &[u8; 32],
    passphrase: &str,
    purpose: &str,
    log_n: u8,
) -> Result<(), KeystoreError> {
    let contents = Contents {
        secret,
        purpose: Some(purpose),
        address: None,
    };
    create(path, &encrypt(&contents, passphrase, log_n, path)?)
}

/// Decrypts the keystore at `path`.
pub fn read(path: &Path, passphrase: &str) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
    let checked = open(path)?;
    decrypt(&checked, passphrase, path)
}

/// What a new keystore holds.
struct Contents<'a> {
    secret: &'a [u8; 32],
    purpose: Option<&'a str>,
    address: Option<Address>,
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

fn random<const N: usize>() -> Result<[u8; N], KeystoreError> {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).map_err(|e| KeystoreError::Random(e.to_string()))?;
    Ok(out)
}

/// The JSON of a new keystore of `contents` (`path` only names the file in
/// errors).
fn encrypt(
    contents: &Contents<'_>,
    passphrase: &str,
    log_n: u8,
    path: &Path,
) -> Result<String, KeystoreError> {
    let format = |reason: String| KeystoreError::Format {
        path: shown(path),
        reason,
    };
    let salt: [u8; 32] = random()?;
    let iv: [u8; 16] = random()?;
    let id: [u8; 16] = random()?;
    let (r, p) = (8, 1);
    let derived = crypto::derive(Kdf::Scrypt { log_n, r, p }, passphrase.as_bytes(), &salt)
        .map_err(format)?;
    let mut ciphertext = *contents.secret;
    crypto::apply_cipher(&derived, &iv, &mut ciphertext);
    let file = file::KeystoreFile {
        address: contents.address.map(hex::encode),
        crypto: file::Crypto {
            cipher: "aes-128-ctr".into(),
            cipherparams: file::CipherParams {
                iv: hex::encode(iv),
            },
            ciphertext: hex::encode(ciphertext),
            kdf: "scrypt".into(),
            kdfparams: file::KdfParams {
                dklen: 32,
                n: Some(1u64 << log_n),
                r: Some(r),
                p: Some(p),
                salt: hex::encode(salt),
                ..file::KdfParams::default()
            },
            mac: hex::encode(crypto::mac(&derived, &ciphertext)),
        },
        id: uuid::Builder::from_random_bytes(id).into_uuid().to_string(),
        version: 3,
        purpose: contents.purpose.map(str::to_owned),
    };
    serde_json::to_string_pretty(&file).map_err(|e| format(e.to_string()))
}

/// Creates `path` with `json`, readable by its owner only; never replaces a
/// file.
fn create(path: &Path, json: &str) -> Result<(), KeystoreError> {
    let io = |source| KeystoreError::Io {
        path: shown(path),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(io)?;
    std::io::Write::write_all(&mut f, json.as_bytes()).map_err(io)
}

/// Reads and checks the keystore at `path`, without decrypting it.
fn open(path: &Path) -> Result<file::Checked, KeystoreError> {
    let json = std::fs::read(path).map_err(|source| KeystoreError::Io {
        path: shown(path),
        source,
    })?;
    file::parse(&json).map_err(|reason| KeystoreError::Format {
        path: shown(path),
        reason,
    })
}

fn decrypt(
    checked: &file::Checked,
    passphrase: &str,
    path: &Path,
) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
    let derived =
        crypto::derive(checked.kdf, passphrase.as_bytes(), &checked.salt).map_err(|reason| {
            KeystoreError::Format {
                path: shown(path),
                reason,
            }
        })?;
    if !crypto::mac_matches(&derived, &checked.ciphertext, &checked.mac) {
        return Err(KeystoreError::WrongPassphrase { path: shown(path) });
    }
    let mut secret = Zeroizing::new(checked.ciphertext);
    crypto::apply_cipher(&derived, &checked.iv, secret.as_mut_slice());
    Ok(secret)
}

#[cfg(test)]
mod tests;
