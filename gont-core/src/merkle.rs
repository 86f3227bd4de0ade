//! Binary merkle roots over blake3, in Tendermint's (RFC 6962) tree shape.
//!
//! The tree recursion is tendermint-rs's own (`merkle::MerkleHash`); GONT
//! only supplies the blake3 leaf (`0x00 ‖ leaf`) and inner (`0x01 ‖ l ‖ r`)
//! hashes, so the shape and the domain separation of leaves from inner nodes
//! are the audited ones.

use tendermint::merkle::MerkleHash;

use crate::primitives::Hash;

#[derive(Default)]
struct Blake3Merkle;

impl MerkleHash for Blake3Merkle {
    fn empty_hash(&mut self) -> [u8; 32] {
        *blake3::hash(&[]).as_bytes()
    }

    fn leaf_hash(&mut self, bytes: &[u8]) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(&[0x00]);
        h.update(bytes);
        *h.finalize().as_bytes()
    }

    fn inner_hash(&mut self, left: [u8; 32], right: [u8; 32]) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(&[0x01]);
        h.update(&left);
        h.update(&right);
        *h.finalize().as_bytes()
    }
}

/// The blake3 merkle root of `leaves`, in order.
pub fn merkle_root(leaves: &[impl AsRef<[u8]>]) -> Hash {
    Hash(tendermint::merkle::simple_hash_from_byte_vectors::<
        Blake3Merkle,
    >(leaves))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_depend_on_every_leaf_and_their_order() {
        let leaves: Vec<Vec<u8>> = (0u8..5).map(|i| vec![i; 3]).collect();
        let root = merkle_root(&leaves);
        let mut swapped = leaves.clone();
        swapped.swap(0, 4);
        assert_ne!(merkle_root(&swapped), root);
        assert_ne!(merkle_root(&leaves[..4]), root);
        assert_eq!(
            merkle_root(&[] as &[Vec<u8>]),
            Hash(*blake3::hash(&[]).as_bytes())
        );
        // A single leaf is domain-separated from its raw hash.
        assert_ne!(merkle_root(&[b"x"]), Hash::digest(b"x"));
    }
}
