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

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use malachitebft_app_channel::app::types::sync::Status;
    use malachitebft_codec::Codec;

    use super::BorshCodec;
    use crate::context::GontContext;

    /// Any peer can send a status: one whose peer id is not a multihash
    /// must be refused, not panic the network actor (upstream 0.5.0
    /// unwrapped it; found by the `consensus_message` fuzz target).
    #[test]
    fn a_status_with_a_malformed_peer_id_is_a_decode_error_not_a_panic() {
        let mut bytes = Vec::new();
        // The peer id: a borsh byte vector that is not a multihash.
        bytes.extend_from_slice(&3u32.to_le_bytes());
        bytes.extend_from_slice(&[0x97, 0x97, 0x97]);
        // Tip height and the lowest height kept.
        bytes.extend_from_slice(&[0; 16]);
        let decoded: Result<Status<GontContext>, _> = BorshCodec.decode(Bytes::from(bytes));
        assert!(decoded.is_err(), "{decoded:?}");
    }
}
