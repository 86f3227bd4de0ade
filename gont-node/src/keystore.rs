//! Validator keys at rest: the Web3 Secret Storage format (version 3), the
//! keystore every Ethereum tool reads, holding a 32-byte ed25519 seed
//! instead of a secp256k1 key. scrypt derives the key from the passphrase,
//! AES-128-CTR encrypts, and a keccak MAC detects a wrong passphrase.

use std::path::Path;

use aes::cipher::{KeyIvInit, StreamCipher};
use alloy_primitives::hex;
use serde::{Deserialize, Serialize};

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// scrypt cost of new keystores: N = 2^18, r = 8, p = 1, as geth's
/// standard (not "light") setting.
const SCRYPT_LOG_N: u8 = 18;

/// Why a keystore could not be written or read.
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
    #[error("{path}: not a Web3 Secret Storage v3 keystore with scrypt and aes-128-ctr: {reason}")]
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
}

#[derive(Serialize, Deserialize)]
struct KeystoreFile {
    version: u32,
    id: String,
    crypto: Crypto,
    /// What the key is for (`gont-validator:<chain id>`); not part of the format's checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purpose: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Crypto {
    cipher: String,
    cipherparams: CipherParams,
    ciphertext: String,
    kdf: String,
    kdfparams: KdfParams,
    mac: String,
}

#[derive(Serialize, Deserialize)]
struct CipherParams {
    iv: String,
}

#[derive(Serialize, Deserialize)]
struct KdfParams {
    dklen: u32,
    n: u64,
    r: u32,
    p: u32,
    salt: String,
}

fn random<const N: usize>() -> Result<[u8; N], KeystoreError> {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out).map_err(|e| KeystoreError::Random(e.to_string()))?;
    Ok(out)
}

fn derive(
    passphrase: &[u8],
    salt: &[u8],
    log_n: u8,
    r: u32,
    p: u32,
    path: &str,
) -> Result<[u8; 32], KeystoreError> {
    let params = scrypt::Params::new(log_n, r, p, 32).map_err(|e| KeystoreError::Format {
        path: path.to_owned(),
        reason: format!("scrypt parameters: {e}"),
    })?;
    let mut key = [0u8; 32];
    scrypt::scrypt(passphrase, salt, &params, &mut key).map_err(|e| KeystoreError::Format {
        path: path.to_owned(),
        reason: format!("scrypt: {e}"),
    })?;
    Ok(key)
}

fn mac(derived: &[u8; 32], ciphertext: &[u8]) -> [u8; 32] {
    let mut input = Vec::with_capacity(16 + ciphertext.len());
    input.extend_from_slice(derived.get(16..).unwrap_or_default());
    input.extend_from_slice(ciphertext);
    alloy_primitives::keccak256(&input).0
}

fn apply_cipher(derived: &[u8; 32], iv: &[u8; 16], data: &mut [u8]) {
    let mut key = [0u8; 16];
    key.copy_from_slice(derived.get(..16).unwrap_or(&[0; 16]));
    Aes128Ctr::new(&key.into(), &(*iv).into()).apply_keystream(data);
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
    let shown = path.display().to_string();
    let salt: [u8; 32] = random()?;
    let iv: [u8; 16] = random()?;
    let id: [u8; 16] = random()?;
    let derived = derive(passphrase.as_bytes(), &salt, log_n, 8, 1, &shown)?;
    let mut ciphertext = *secret;
    apply_cipher(&derived, &iv, &mut ciphertext);
    let file = KeystoreFile {
        version: 3,
        id: uuid::Builder::from_random_bytes(id).into_uuid().to_string(),
        crypto: Crypto {
            cipher: "aes-128-ctr".into(),
            cipherparams: CipherParams {
                iv: hex::encode(iv),
            },
            ciphertext: hex::encode(ciphertext),
            kdf: "scrypt".into(),
            kdfparams: KdfParams {
                dklen: 32,
                n: 1u64 << log_n,
                r: 8,
                p: 1,
                salt: hex::encode(salt),
            },
            mac: hex::encode(mac(&derived, &ciphertext)),
        },
        purpose: Some(purpose.to_owned()),
    };
    let json = serde_json::to_string_pretty(&file).map_err(|e| KeystoreError::Format {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(|source| KeystoreError::Io {
        path: shown.clone(),
        source,
    })?;
    std::io::Write::write_all(&mut f, json.as_bytes()).map_err(|source| KeystoreError::Io {
        path: shown,
        source,
    })
}

/// Decrypts the keystore at `path`.
pub fn read(path: &Path, passphrase: &str) -> Result<[u8; 32], KeystoreError> {
    let shown = path.display().to_string();
    let format = |reason: &str| KeystoreError::Format {
        path: shown.clone(),
        reason: reason.to_owned(),
    };
    let json = std::fs::read(path).map_err(|source| KeystoreError::Io {
        path: shown.clone(),
        source,
    })?;
    let file: KeystoreFile = serde_json::from_slice(&json).map_err(|e| format(&e.to_string()))?;
    let c = &file.crypto;
    if file.version != 3
        || c.cipher != "aes-128-ctr"
        || c.kdf != "scrypt"
        || c.kdfparams.dklen != 32
    {
        return Err(format("unsupported version, cipher, kdf or key length"));
    }
    if !c.kdfparams.n.is_power_of_two() || c.kdfparams.n < 2 || c.kdfparams.n > 1 << 20 {
        return Err(format("scrypt n must be a power of two up to 2^20"));
    }
    let log_n = u8::try_from(c.kdfparams.n.trailing_zeros()).map_err(|_| format("scrypt n"))?;
    let salt = hex::decode(&c.kdfparams.salt).map_err(|_| format("salt is not hex"))?;
    let iv: [u8; 16] = hex::decode(&c.cipherparams.iv)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| format("iv is not 16 hex bytes"))?;
    let ciphertext: [u8; 32] = hex::decode(&c.ciphertext)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| format("ciphertext is not 32 hex bytes"))?;
    let expected_mac = hex::decode(&c.mac).map_err(|_| format("mac is not hex"))?;
    let derived = derive(
        passphrase.as_bytes(),
        &salt,
        log_n,
        c.kdfparams.r,
        c.kdfparams.p,
        &shown,
    )?;
    if mac(&derived, &ciphertext).as_slice() != expected_mac.as_slice() {
        return Err(KeystoreError::WrongPassphrase { path: shown });
    }
    let mut secret = ciphertext;
    apply_cipher(&derived, &iv, &mut secret);
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_a_wrong_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.json");
        let secret = [7u8; 32];
        write_with_cost(&path, &secret, "correct horse", "gont-validator:31337", 4).unwrap();
        assert_eq!(read(&path, "correct horse").unwrap(), secret);
        assert!(matches!(
            read(&path, "wrong").unwrap_err(),
            KeystoreError::WrongPassphrase { .. }
        ));
        // Never overwrites.
        assert!(matches!(
            write_with_cost(&path, &secret, "x", "y", 4).unwrap_err(),
            KeystoreError::Io { .. }
        ));
    }

    #[test]
    fn writes_the_version_3_layout_other_tools_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.json");
        write_with_cost(&path, &[1; 32], "pw", "gont-validator:1", 4).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(v["version"], 3);
        assert_eq!(v["crypto"]["cipher"], "aes-128-ctr");
        assert_eq!(v["crypto"]["kdf"], "scrypt");
        assert_eq!(v["crypto"]["kdfparams"]["n"], 16);
        assert_eq!(v["crypto"]["kdfparams"]["dklen"], 32);
        assert_eq!(v["crypto"]["ciphertext"].as_str().unwrap().len(), 64);
        assert_eq!(v["crypto"]["mac"].as_str().unwrap().len(), 64);
    }

    #[test]
    fn garbage_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        std::fs::write(&path, b"\x00\xffnot json").unwrap();
        let e = read(&path, "x").unwrap_err().to_string();
        assert!(
            e.contains("bad.json") && e.contains("not a Web3 Secret Storage"),
            "{e}"
        );
    }
}
