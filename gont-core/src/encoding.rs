//! The canonical binary encoding: borsh.
//!
//! Everything GONT hashes or sends over the wire is encoded with borsh,
//! because borsh is specified to give exactly one encoding for each value
//! (fixed-width little-endian integers, length-prefixed sequences, no maps
//! with free order, no floats), which is what a hash over an encoding needs.
//! Decoding is strict: trailing bytes are an error, lengths are checked
//! against the input before any allocation grows, and types with invariants
//! (a [`crate::ValidatorSet`], a [`crate::ConsensusKey`]) check them on
//! decode. Decoders never panic, whatever the bytes.

use borsh::{BorshDeserialize, BorshSerialize};

/// The largest input [`decode`] accepts: no GONT structure is larger.
pub const MAX_DECODE_LEN: usize = 64 * 1024 * 1024;

/// Why bytes did not decode.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The input is longer than [`MAX_DECODE_LEN`].
    #[error("input of {0} bytes exceeds the limit of {MAX_DECODE_LEN} bytes")]
    TooLong(usize),
    /// The bytes are not a valid encoding of the type.
    #[error("invalid encoding: {0}")]
    Invalid(#[from] borsh::io::Error),
}

/// The canonical encoding of `value`.
pub fn encode<T: BorshSerialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec fails only for a sequence longer than u32::MAX
    // elements, which no GONT value can hold in memory bounds we accept.
    #[allow(clippy::expect_used)]
    value
        .serialize(&mut out)
        .expect("borsh encoding into a Vec does not fail");
    out
}

/// Decodes exactly one `T` from all of `bytes`.
pub fn decode<T: BorshDeserialize>(bytes: &[u8]) -> Result<T, DecodeError> {
    if bytes.len() > MAX_DECODE_LEN {
        return Err(DecodeError::TooLong(bytes.len()));
    }
    Ok(borsh::from_slice(bytes)?)
}
