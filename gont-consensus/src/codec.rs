//! One borsh codec for every message Malachite encodes: gossip, sync and
//! WAL entries.
//!
//! Malachite's `borsh` features implement borsh for its generic envelopes
//! (signed messages, certificates, stream messages, sync requests), bounded
//! on the context's types, which derive it here. Decoding refuses trailing
//! bytes and inputs over [`MAX_MESSAGE_BYTES`].

use bytes::Bytes;
use malachitebft_codec::Codec;

/// The largest message decoded: Malachite's sync RPC limit (10 MiB).
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// Borsh for every Malachite message of the GONT context.
#[derive(Clone, Copy, Debug, Default)]
pub struct BorshCodec;

/// Why bytes did not decode.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// Larger than [`MAX_MESSAGE_BYTES`].
    #[error("message of {0} bytes exceeds the limit")]
    TooLarge(usize),
    /// Not a valid encoding.
    #[error("borsh: {0}")]
    Borsh(#[from] std::io::Error),
}

impl<T: borsh::BorshSerialize + borsh::BorshDeserialize> Codec<T> for BorshCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<T, CodecError> {
        if bytes.len() > MAX_MESSAGE_BYTES {
            return Err(CodecError::TooLarge(bytes.len()));
        }
        Ok(borsh::from_slice(&bytes)?)
    }

    fn encode(&self, msg: &T) -> Result<Bytes, CodecError> {
        Ok(Bytes::from(borsh::to_vec(msg)?))
    }
}
