//! Signing helpers for tests, benchmarks and the conformance runner
//! (feature `test-utils`): Ethereum transactions signed with k256 keys such
//! as the well-known development keys.

use alloy_consensus::{SignableTransaction, Signed, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::Signature;
use gont_core::genesis::DEV_PRIVATE_KEYS;
use gont_core::{Address, RawTransaction};
use k256::ecdsa::SigningKey;

/// A secp256k1 key from 32 bytes of hex (with or without `0x`).
pub fn signing_key(hex: &str) -> Option<SigningKey> {
    let bytes = alloy_primitives::hex::decode(hex).ok()?;
    SigningKey::from_slice(&bytes).ok()
}

/// Development key `index` of [`DEV_PRIVATE_KEYS`].
pub fn dev_key(index: usize) -> Option<SigningKey> {
    DEV_PRIVATE_KEYS.get(index).and_then(|k| signing_key(k))
}

/// The Ethereum address of `key`.
pub fn address_of(key: &SigningKey) -> Address {
    Address::from_public_key(key.verifying_key())
}

/// Signs `tx` with `key`; `None` only if the signer refuses the hash.
pub fn sign<T>(tx: T, key: &SigningKey) -> Option<TxEnvelope>
where
    T: SignableTransaction<Signature>,
    Signed<T>: Into<TxEnvelope>,
{
    let hash = tx.signature_hash();
    let (signature, recovery) = key.sign_prehash_recoverable(hash.as_slice()).ok()?;
    let signature = Signature::from_signature_and_parity(signature, recovery.is_y_odd());
    Some(tx.into_signed(signature).into())
}

/// The EIP-2718 bytes of `tx`.
pub fn raw(tx: &TxEnvelope) -> RawTransaction {
    RawTransaction(tx.encoded_2718().into())
}
