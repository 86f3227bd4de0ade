//! GONT patch: a peer that (re)joins gets this node's recent votes.
//!
//! Gossipsub delivers a message only to the peers subscribed when it is
//! published. A vote published while a peer was cut off (or by a node that
//! was itself paused and publishes before its connections are back) reaches
//! that peer only at the next rebroadcast, whose interval grows by the sum
//! of the timeout deltas at every firing. After a halt of half a minute
//! that is several seconds, and the chain resumes that much later.
//!
//! CometBFT sends a peer the votes it lacks as soon as it connects; this is
//! the same idea within gossipsub: the consensus and liveness messages this
//! node published in the last [`WINDOW`] (at most [`KEEP`] per channel) are
//! published again when a peer subscribes to their channel, at most once per
//! [`PER_PEER`] for each peer and channel. Receivers drop what they already
//! have, as they do for rebroadcasts: every message is a signed vote,
//! proposal or round certificate that this node published before.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use libp2p::PeerId;

use crate::Channel;

/// How old a published message may be and still be replayed.
pub const WINDOW: Duration = Duration::from_secs(60);
/// How many messages per channel are kept.
pub const KEEP: usize = 32;
/// Least time between two replays of a channel for one peer.
pub const PER_PEER: Duration = Duration::from_secs(1);

/// Whether messages of `channel` are replayed: votes, proposals and round
/// certificates, not proposal parts (large) nor sync status.
pub fn replayed(channel: Channel) -> bool {
    matches!(channel, Channel::Consensus | Channel::Liveness)
}

/// The recently published messages and the last replay per peer.
#[derive(Debug, Default)]
pub struct Recent {
    published: HashMap<Channel, VecDeque<(Instant, Bytes)>>,
    replayed: HashMap<(PeerId, Channel), Instant>,
}

impl Recent {
    /// Remembers a message this node publishes on `channel`.
    pub fn record(&mut self, channel: Channel, data: &Bytes, now: Instant) {
        if !replayed(channel) {
            return;
        }
        let kept = self.published.entry(channel).or_default();
        kept.push_back((now, data.clone()));
        while kept.len() > KEEP {
            kept.pop_front();
        }
    }

    /// The messages to publish again because `peer` subscribed to
    /// `channel` at `now`; empty if it had them replayed less than
    /// [`PER_PEER`] ago.
    pub fn replay_for(&mut self, peer: PeerId, channel: Channel, now: Instant) -> Vec<Bytes> {
        if !replayed(channel) {
            return Vec::new();
        }
        self.replayed
            .retain(|_, at| now.saturating_duration_since(*at) < PER_PEER);
        if self.replayed.contains_key(&(peer, channel)) {
            return Vec::new();
        }
        let Some(kept) = self.published.get_mut(&channel) else {
            return Vec::new();
        };
        while kept
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) > WINDOW)
        {
            kept.pop_front();
        }
        if kept.is_empty() {
            return Vec::new();
        }
        self.replayed.insert((peer, channel), now);
        kept.iter().map(|(_, data)| data.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_votes_are_replayed_to_a_joining_peer_at_most_once_a_second() {
        let t0 = Instant::now();
        let mut recent = Recent::default();
        for i in 0..40u8 {
            recent.record(Channel::Consensus, &Bytes::from(vec![i]), t0);
        }
        recent.record(Channel::ProposalParts, &Bytes::from_static(b"part"), t0);
        let peer = PeerId::random();
        let replay = recent.replay_for(peer, Channel::Consensus, t0);
        assert_eq!(replay.len(), KEEP, "only the last {KEEP}");
        assert_eq!(replay.first().map(|b| b[0]), Some(8));
        assert!(recent.replay_for(peer, Channel::Consensus, t0).is_empty());
        assert_eq!(
            recent.replay_for(PeerId::random(), Channel::Consensus, t0).len(),
            KEEP,
            "another peer gets them too"
        );
        assert!(recent.replay_for(peer, Channel::ProposalParts, t0).is_empty());
        assert_eq!(
            recent.replay_for(peer, Channel::Consensus, t0 + PER_PEER).len(),
            KEEP
        );
        let late = t0 + WINDOW + Duration::from_secs(1);
        assert!(recent.replay_for(peer, Channel::Consensus, late).is_empty());
    }
}
