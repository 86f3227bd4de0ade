//! Fuzz targets for what this crate decodes from outside bytes: every
//! Malachite message of the GONT context through the wire and WAL codec,
//! and sequences of proposal parts from many senders through the stream
//! reassembly. `cargo xtask fuzz` runs them under libFuzzer (the `fuzz/`
//! crate); the tests below replay the committed corpora
//! (`fuzz/corpus/<target>/`), so that CI runs every input found so far.
//!
//! Each target panics only when a property fails: a message that decodes
//! must encode back to the same bytes, and the reassembly must stay within
//! its bounds whatever it is sent.

use bytes::Bytes;
use malachitebft_app_channel::app::streaming::StreamMessage;
use malachitebft_app_channel::app::types::sync::{Request, Response, Status};
use malachitebft_app_channel::app::types::{PeerId, ProposedValue, SignedConsensusMsg};
use malachitebft_codec::Codec;
use malachitebft_core_consensus::LivenessMsg;

use super::parts::{CHUNK, Streams};
use crate::codec::BorshCodec;
use crate::context::GontContext;
use crate::messages::ProposalPart;
use crate::types::Height;

/// The first byte picks the message type; the rest is decoded as it by
/// [`BorshCodec`]. A message that decodes must encode to the same bytes
/// (message ids and signatures are over encodings).
pub fn consensus_message(data: &[u8]) {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    match kind % 7 {
        0 => round_trip::<SignedConsensusMsg<GontContext>>(rest),
        1 => round_trip::<StreamMessage<ProposalPart>>(rest),
        2 => round_trip::<LivenessMsg<GontContext>>(rest),
        3 => round_trip::<ProposedValue<GontContext>>(rest),
        4 => round_trip::<Status<GontContext>>(rest),
        5 => round_trip::<Request<GontContext>>(rest),
        _ => round_trip::<Response<GontContext>>(rest),
    }
}

// A property that fails is what the target finds: it panics for libFuzzer.
#[allow(clippy::panic)]
fn round_trip<T>(bytes: &[u8])
where
    BorshCodec: Codec<T>,
{
    let codec = BorshCodec;
    let Ok(message) = codec.decode(Bytes::copy_from_slice(bytes)) else {
        return;
    };
    match codec.encode(&message) {
        Ok(encoded) if encoded.as_ref() == bytes => {}
        Ok(encoded) => panic!(
            "{} decoded from {} bytes encodes to {} other bytes",
            std::any::type_name::<T>(),
            bytes.len(),
            encoded.len()
        ),
        Err(e) => panic!(
            "{} decoded but does not encode: {e}",
            std::any::type_name::<T>()
        ),
    }
}

/// Senders the target's messages come from.
const SENDERS: u8 = 40;

/// A sequence of operations on one [`Streams`] with a small budget (so
/// that eviction happens): `0` a part from a sender (its index byte, a
/// two-byte length, that many bytes of a borsh `StreamMessage`), `1` a
/// sender's stream verified, `2` heights below one pruned, `3` time
/// passing. A complete stream's value is decoded. After every operation
/// the reassembly is within its bounds.
// A property that fails is what the target finds: it panics for libFuzzer.
#[allow(clippy::panic)]
pub fn proposal_parts(data: &[u8]) {
    static PEERS: std::sync::OnceLock<Vec<PeerId>> = std::sync::OnceLock::new();
    let peers = PEERS.get_or_init(|| (0..SENDERS).map(peer).collect());
    let mut streams = Streams::new(2 * CHUNK, 3 * CHUNK);
    let mut now_ms: u64 = 0;
    let mut input = data;
    while let Some((&op, rest)) = input.split_first() {
        input = rest;
        let Some((&arg, rest)) = input.split_first() else {
            break;
        };
        input = rest;
        let Some(&from) = peers.get(usize::from(arg % SENDERS)) else {
            break;
        };
        match op % 4 {
            0 => {
                let Some((len, rest)) = input.split_first_chunk::<2>() else {
                    break;
                };
                let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
                let (bytes, rest) = rest.split_at(len);
                input = rest;
                let Ok(msg) = borsh::from_slice::<StreamMessage<ProposalPart>>(bytes) else {
                    continue;
                };
                // Streams of heights divisible by 3 are not admitted.
                let admit = |init: &crate::messages::ProposalInit| !init.height.0.is_multiple_of(3);
                if let Ok(Some(assembled)) = streams.insert(from, msg, admit, now_ms) {
                    let _ = assembled.value();
                }
            }
            1 => streams.trust(from),
            2 => streams.prune_below(Height(u64::from(arg))),
            _ => now_ms += u64::from(arg) * 1_000,
        }
        if let Err(e) = streams.check_bounds() {
            panic!("stream reassembly out of bounds: {e}");
        }
    }
}

/// Sender `n`: a fixed ed25519 identity.
// Fixed inputs that cannot fail.
#[allow(clippy::expect_used)]
fn peer(n: u8) -> PeerId {
    let key = malachitebft_app_channel::app::types::Keypair::ed25519_from_bytes([n; 32])
        .expect("32 bytes are an ed25519 seed");
    PeerId::from_bytes(&key.public().to_peer_id().to_bytes()).expect("a peer id's own bytes")
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is the test failing, with its message.
    #![allow(clippy::unwrap_used)]

    use gont_core::fuzz::replay;

    #[test]
    fn the_consensus_message_corpus_replays_without_a_failure() {
        assert!(replay("consensus_message", super::consensus_message).unwrap() > 0);
    }

    #[test]
    fn the_proposal_parts_corpus_replays_without_a_failure() {
        assert!(replay("proposal_parts", super::proposal_parts).unwrap() > 0);
    }
}
