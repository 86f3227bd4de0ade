//! The JSON layout of a version-3 keystore, and its checks on reading.

use alloy_primitives::{Address, hex};
use serde::{Deserialize, Serialize};

use super::crypto::Kdf;

/// The largest scrypt N read: 2^20 (with r = 8, 1 GiB of memory), four
/// times geth's standard cost.
const MAX_SCRYPT_LOG_N: u32 = 20;

/// The most PBKDF2 iterations read: well above the 262 144 that ethers.js
/// and the definition's example use, low enough that a hostile file
/// cannot stall the node for long.
const MAX_PBKDF2_ROUNDS: u32 = 10_000_000;

/// A keystore file as serialized. Field names are the definition's; the
/// `address` (lowercase hex without `0x`) is geth's addition for accounts.
#[derive(Serialize, Deserialize)]
pub(super) struct KeystoreFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) address: Option<String>,
    /// Some older writers capitalise it.
    #[serde(alias = "Crypto")]
    pub(super) crypto: Crypto,
    pub(super) id: String,
    pub(super) version: u32,
    /// What the key is for (`gont-validator`, `gont-relayer`); not part of
    /// the format's checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) purpose: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Crypto {
    pub(super) cipher: String,
    pub(super) cipherparams: CipherParams,
    pub(super) ciphertext: String,
    pub(super) kdf: String,
    pub(super) kdfparams: KdfParams,
    pub(super) mac: String,
}

#[derive(Serialize, Deserialize)]
pub(super) struct CipherParams {
    pub(super) iv: String,
}

/// The parameters of either KDF: scrypt has `n`, `r`, `p`; PBKDF2 has `c`
/// and `prf`.
#[derive(Default, Serialize, Deserialize)]
pub(super) struct KdfParams {
    pub(super) dklen: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) n: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) r: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) p: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) c: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) prf: Option<String>,
    pub(super) salt: String,
}

/// A keystore file whose fields were checked: what decrypting needs.
pub(super) struct Checked {
    pub(super) kdf: Kdf,
    pub(super) salt: Vec<u8>,
    pub(super) iv: [u8; 16],
    pub(super) ciphertext: [u8; 32],
    pub(super) mac: Vec<u8>,
    pub(super) address: Option<Address>,
}

/// Parses and checks a keystore; the error says what is wrong.
pub(super) fn parse(json: &[u8]) -> Result<Checked, String> {
    let file: KeystoreFile = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    if file.version != 3 {
        return Err(format!("version {}, not 3", file.version));
    }
    let c = &file.crypto;
    if c.cipher != "aes-128-ctr" {
        return Err(format!("cipher {:?}, not aes-128-ctr", c.cipher));
    }
    let params = &c.kdfparams;
    if params.dklen < 32 {
        return Err(format!("dklen {} is below 32", params.dklen));
    }
    let kdf = match c.kdf.as_str() {
        "scrypt" => {
            let (Some(n), Some(r), Some(p)) = (params.n, params.r, params.p) else {
                return Err("scrypt needs kdfparams n, r and p".into());
            };
            if !n.is_power_of_two() || n < 2 || n.trailing_zeros() > MAX_SCRYPT_LOG_N {
                return Err(format!(
                    "scrypt n {n} is not a power of two from 2 to 2^{MAX_SCRYPT_LOG_N}"
                ));
            }
            let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| format!("scrypt n {n}"))?;
            Kdf::Scrypt { log_n, r, p }
        }
        "pbkdf2" => {
            let Some(c) = params.c else {
                return Err("pbkdf2 needs kdfparams c".into());
            };
            if params.prf.as_deref() != Some("hmac-sha256") {
                return Err(format!("pbkdf2 prf {:?}, not hmac-sha256", params.prf));
            }
            if c == 0 || c > MAX_PBKDF2_ROUNDS {
                return Err(format!("pbkdf2 c {c} is not from 1 to {MAX_PBKDF2_ROUNDS}"));
            }
            Kdf::Pbkdf2 { c }
        }
        other => return Err(format!("kdf {other:?}, not scrypt or pbkdf2")),
    };
    let salt = hex::decode(&params.salt).map_err(|_| "salt is not hex".to_owned())?;
    let iv = fixed_hex::<16>(&c.cipherparams.iv).ok_or("iv is not 16 hex bytes")?;
    let ciphertext = fixed_hex::<32>(&c.ciphertext).ok_or("ciphertext is not 32 hex bytes")?;
    let mac = hex::decode(&c.mac).map_err(|_| "mac is not hex".to_owned())?;
    let address = file
        .address
        .as_deref()
        .map(|a| {
            fixed_hex::<20>(a)
                .map(Address::from)
                .ok_or_else(|| format!("address {a:?} is not 20 hex bytes"))
        })
        .transpose()?;
    Ok(Checked {
        kdf,
        salt,
        iv,
        ciphertext,
        mac,
        address,
    })
}

fn fixed_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    hex::decode(text).ok().and_then(|v| v.try_into().ok())
}
