//! Sender recovery with libsecp256k1 ([`gont_core::block::recover_signer`])
//! agrees with k256 (an independent implementation of the same curve) on
//! every signature, and refuses what Ethereum refuses: a high `s`
//! (EIP-2), a zero or out-of-range `r` or `s`, a flipped recovery bit.

// Test code: a failed unwrap is the test failing, with its message.
#![allow(clippy::unwrap_used)]

use alloy_primitives::{Address, B256, Signature, U256, keccak256};
use gont_core::block::{TransactionError, recover_signer};
use k256::ecdsa::SigningKey;
use proptest::prelude::*;

/// The secp256k1 group order.
const N: U256 = U256::from_be_bytes([
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
]);

fn key(seed: u64) -> SigningKey {
    SigningKey::from_slice(keccak256(seed.to_le_bytes()).as_slice()).unwrap()
}

/// Signs `prehash` with k256, low `s` (k256 normalises).
fn sign(key: &SigningKey, prehash: B256) -> Signature {
    let (sig, id) = key.sign_prehash_recoverable(prehash.as_slice()).unwrap();
    Signature::from((sig, id))
}

proptest! {
    #[test]
    fn libsecp256k1_recovers_the_address_k256_signed_with(seed in any::<u64>(), msg in any::<[u8; 32]>()) {
        let key = key(seed);
        let prehash = B256::from(msg);
        let signature = sign(&key, prehash);
        let ours = recover_signer(&signature, prehash).unwrap();
        prop_assert_eq!(ours, Address::from_private_key(&key));
        // And k256's own recovery says the same.
        prop_assert_eq!(signature.recover_address_from_prehash(&prehash).unwrap(), ours);
    }
}

#[test]
fn a_high_s_zero_or_out_of_range_scalars_and_a_flipped_parity_are_refused() {
    let key = key(7);
    let prehash = keccak256(b"a transfer");
    let good = sign(&key, prehash);
    assert_eq!(
        recover_signer(&good, prehash).unwrap(),
        Address::from_private_key(&key)
    );

    // The same signature with s' = n - s is valid ECDSA, refused by EIP-2.
    let high = Signature::new(good.r(), N - good.s(), !good.v());
    assert_eq!(
        recover_signer(&high, prehash),
        Err(TransactionError::Signature)
    );
    // EIP-2's bound exactly: s up to n / 2 recovers (to some key), one
    // more is refused.
    let half = N >> 1;
    assert!(recover_signer(&Signature::new(good.r(), half, good.v()), prehash).is_ok());
    assert_eq!(
        recover_signer(
            &Signature::new(good.r(), half + U256::from(1), good.v()),
            prehash
        ),
        Err(TransactionError::Signature)
    );
    // r or s zero, r at or past the order.
    for bad in [
        Signature::new(U256::ZERO, good.s(), good.v()),
        Signature::new(good.r(), U256::ZERO, good.v()),
        Signature::new(N, good.s(), good.v()),
        Signature::new(U256::MAX, good.s(), good.v()),
    ] {
        assert_eq!(
            recover_signer(&bad, prehash),
            Err(TransactionError::Signature),
            "{bad:?}"
        );
    }
    // The other parity recovers another key, never the signer.
    let flipped = Signature::new(good.r(), good.s(), !good.v());
    assert_ne!(
        recover_signer(&flipped, prehash).ok(),
        Some(Address::from_private_key(&key))
    );
}
