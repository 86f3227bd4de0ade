//! The fuzz target for what this crate decodes from outside bytes: gossip
//! payloads, as the network service decodes them before the application
//! sees them. `cargo xtask fuzz` runs it under libFuzzer (the `fuzz/`
//! crate); the test below replays the committed corpus
//! (`fuzz/corpus/gossip/`), so that CI runs every input found so far.

use gont_core::ChainId;

use crate::service::{Payload, decode_gossip};
use crate::topic::{Topic, TopicKind};

/// The first byte picks the topic (transactions or checkpoints, of GONT
/// Space or a service); the rest is the message. A payload that decodes
/// must encode to the same bytes (gossip message ids are over them), and
/// a checkpoint is only taken on its own chain's topic.
// A property that fails is what the target finds: it panics for libFuzzer.
#[allow(clippy::panic)]
pub fn gossip(data: &[u8]) {
    let Some((&selector, message)) = data.split_first() else {
        return;
    };
    let chain = ChainId(1 + u64::from(selector >> 1 & 1));
    let kind = if selector & 1 == 0 {
        TopicKind::Transactions
    } else {
        TopicKind::Checkpoints
    };
    let encoded = match decode_gossip(Topic { chain, kind }, message) {
        Err(_) => return,
        Ok(Payload::Transaction(tx)) => gont_core::encode(&tx),
        Ok(Payload::Checkpoint(checkpoint)) => {
            assert_eq!(
                checkpoint.chain_id(),
                chain,
                "a checkpoint of another chain was taken"
            );
            gont_core::encode(&*checkpoint)
        }
    };
    if encoded != message {
        panic!(
            "a {kind:?} payload of {} bytes encodes to {} other bytes",
            message.len(),
            encoded.len()
        );
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is the test failing, with its message.
    #![allow(clippy::unwrap_used)]

    use gont_core::fuzz::replay;

    #[test]
    fn the_gossip_corpus_replays_without_a_failure() {
        assert!(replay("gossip", super::gossip).unwrap() > 0);
    }
}
