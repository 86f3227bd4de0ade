//! Gossip topics: one set per chain, so that a node receives only the
//! traffic of the chains it runs.

use std::fmt;

use gont_core::ChainId;
use libp2p::gossipsub::{IdentTopic, TopicHash};

/// What a topic carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TopicKind {
    /// Raw EIP-2718 transactions for the chain's mempool.
    Transactions,
    /// Checkpoints of the chain, on their way to GONT Space.
    Checkpoints,
}

/// A gossip topic: `/gont/<chain id>/tx/1` or `/gont/<chain id>/checkpoint/1`.
///
/// The trailing number is the version of the payload's encoding, so that a
/// later format travels on a new topic instead of confusing old nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Topic {
    /// The chain.
    pub chain: ChainId,
    /// The payload.
    pub kind: TopicKind,
}

impl Topic {
    /// The transaction topic of `chain`.
    pub const fn transactions(chain: ChainId) -> Self {
        Self {
            chain,
            kind: TopicKind::Transactions,
        }
    }

    /// The checkpoint topic of `chain`.
    pub const fn checkpoints(chain: ChainId) -> Self {
        Self {
            chain,
            kind: TopicKind::Checkpoints,
        }
    }

    /// Parses the topic string form back; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix("/gont/")?;
        let (chain, rest) = rest.split_once('/')?;
        // Only the canonical decimal form, so each topic has one spelling.
        if chain.is_empty() || (chain.len() > 1 && chain.starts_with('0')) {
            return None;
        }
        let chain = ChainId(chain.parse().ok()?);
        match rest {
            "tx/1" => Some(Self::transactions(chain)),
            "checkpoint/1" => Some(Self::checkpoints(chain)),
            _ => None,
        }
    }

    pub(crate) fn ident(self) -> IdentTopic {
        IdentTopic::new(self.to_string())
    }

    pub(crate) fn topic_hash(self) -> TopicHash {
        self.ident().hash()
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            TopicKind::Transactions => "tx",
            TopicKind::Checkpoints => "checkpoint",
        };
        write!(f, "/gont/{}/{kind}/1", self.chain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_and_refuse_other_spellings() {
        for t in [
            Topic::transactions(ChainId(1)),
            Topic::checkpoints(ChainId(u64::MAX)),
        ] {
            assert_eq!(Topic::parse(&t.to_string()), Some(t));
        }
        assert_eq!(Topic::transactions(ChainId(7)).to_string(), "/gont/7/tx/1");
        for bad in [
            "/gont/07/tx/1",
            "/gont//tx/1",
            "/gont/7/tx/2",
            "/gont/7/block/1",
            "/eth/7/tx/1",
            "/gont/x/tx/1",
        ] {
            assert_eq!(Topic::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_chain_and_kind_has_its_own_topic_hash() {
        let a = Topic::transactions(ChainId(1)).topic_hash();
        assert_ne!(a, Topic::transactions(ChainId(2)).topic_hash());
        assert_ne!(a, Topic::checkpoints(ChainId(1)).topic_hash());
    }
}
