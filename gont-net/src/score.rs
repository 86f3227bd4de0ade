//! Peer scores: misbehaviour lowers a peer's score, time restores it, and a
//! peer whose score reaches the ban threshold is disconnected and banned.
//! Pure: the clock is passed in, so the rules are tested without sockets.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::PeerId;

use crate::config::ScoreConfig;

/// What a peer did wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Sent bytes that do not decode as what the topic or protocol carries.
    Undecodable,
    /// Sent a message over the topic's size limit.
    Oversized,
    /// Sent a message the application found invalid.
    Invalid,
    /// Sent more than its rate allows.
    RateLimited,
}

impl Misbehaviour {
    /// Points deducted. Undecodable and oversized messages cost most: an
    /// honest node never sends them, while an invalid transaction can be an
    /// honest race (a nonce already used).
    pub const fn penalty(self) -> i64 {
        match self {
            Self::Undecodable | Self::Oversized => 25,
            Self::Invalid => 10,
            Self::RateLimited => 2,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    points: i64,
    updated: Instant,
}

/// The outcome of a penalty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The peer stays.
    Lowered(i64),
    /// The peer crossed the threshold: disconnect and ban it until then.
    Ban { score: i64, until: Instant },
}

/// Every peer's score and the bans in force.
#[derive(Debug)]
pub(crate) struct PeerScores {
    config: ScoreConfig,
    peers: HashMap<PeerId, Entry>,
    bans: HashMap<PeerId, Instant>,
}

impl PeerScores {
    pub(crate) fn new(config: ScoreConfig) -> Self {
        Self {
            config,
            peers: HashMap::new(),
            bans: HashMap::new(),
        }
    }

    fn recovered(&self, entry: Entry, now: Instant) -> i64 {
        let secs = now.saturating_duration_since(entry.updated).as_secs();
        let gained = i64::try_from(secs)
            .unwrap_or(i64::MAX)
            .saturating_mul(self.config.recovery_per_second);
        entry.points.saturating_add(gained).min(0)
    }

    /// The peer's score now (0 for a peer never penalised).
    pub(crate) fn score(&self, peer: &PeerId, now: Instant) -> i64 {
        self.peers.get(peer).map_or(0, |e| self.recovered(*e, now))
    }

    /// Lowers the peer's score; bans it when the threshold is reached.
    pub(crate) fn penalize(&mut self, peer: PeerId, what: Misbehaviour, now: Instant) -> Outcome {
        let current = self.score(&peer, now);
        let points = current.saturating_sub(what.penalty());
        // Recovery is counted in whole seconds; keep the unspent fraction
        // by moving `updated` only by the seconds already credited.
        let updated = match self.peers.get(&peer) {
            Some(e) if current < 0 => {
                let credited = now.saturating_duration_since(e.updated).as_secs();
                e.updated + Duration::from_secs(credited)
            }
            _ => now,
        };
        self.peers.insert(peer, Entry { points, updated });
        if points <= self.config.ban_threshold && !self.bans.contains_key(&peer) {
            let until = now + self.config.ban_duration;
            self.bans.insert(peer, until);
            Outcome::Ban {
                score: points,
                until,
            }
        } else {
            Outcome::Lowered(points)
        }
    }

    /// Whether the peer is banned now.
    pub(crate) fn is_banned(&self, peer: &PeerId, now: Instant) -> bool {
        self.bans.get(peer).is_some_and(|until| *until > now)
    }

    /// Lifts the bans that have run out and forgets those peers' scores.
    pub(crate) fn expire_bans(&mut self, now: Instant) -> Vec<PeerId> {
        let expired: Vec<PeerId> = self
            .bans
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in &expired {
            self.bans.remove(peer);
            self.peers.remove(peer);
        }
        // Forget fully recovered peers so the map does not grow forever.
        let config = self.config.recovery_per_second;
        self.peers.retain(|_, e| {
            let secs = now.saturating_duration_since(e.updated).as_secs();
            let gained = i64::try_from(secs)
                .unwrap_or(i64::MAX)
                .saturating_mul(config);
            e.points.saturating_add(gained) < 0
        });
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores() -> PeerScores {
        PeerScores::new(ScoreConfig {
            ban_threshold: -100,
            recovery_per_second: 1,
            ban_duration: Duration::from_secs(60),
        })
    }

    #[test]
    fn repeated_garbage_bans_a_peer_once() {
        let mut s = scores();
        let peer = PeerId::random();
        let t = Instant::now();
        for expected in [-25, -50, -75] {
            assert_eq!(
                s.penalize(peer, Misbehaviour::Undecodable, t),
                Outcome::Lowered(expected)
            );
        }
        assert!(!s.is_banned(&peer, t));
        assert!(matches!(
            s.penalize(peer, Misbehaviour::Oversized, t),
            Outcome::Ban { score: -100, .. }
        ));
        assert!(s.is_banned(&peer, t));
        // Already banned: not banned again.
        assert!(matches!(
            s.penalize(peer, Misbehaviour::Oversized, t),
            Outcome::Lowered(-125)
        ));
        assert!(s.expire_bans(t + Duration::from_secs(59)).is_empty());
        assert_eq!(s.expire_bans(t + Duration::from_secs(60)), vec![peer]);
        assert!(!s.is_banned(&peer, t + Duration::from_secs(60)));
        assert_eq!(s.score(&peer, t + Duration::from_secs(60)), 0);
    }

    #[test]
    fn scores_recover_with_time_but_never_above_zero() {
        let mut s = scores();
        let peer = PeerId::random();
        let t = Instant::now();
        s.penalize(peer, Misbehaviour::Invalid, t);
        assert_eq!(s.score(&peer, t), -10);
        assert_eq!(s.score(&peer, t + Duration::from_secs(4)), -6);
        assert_eq!(s.score(&peer, t + Duration::from_secs(1000)), 0);
        // A slow trickle of invalid messages never reaches a ban.
        let mut now = t;
        for _ in 0..100 {
            now += Duration::from_secs(10);
            assert!(matches!(
                s.penalize(peer, Misbehaviour::Invalid, now),
                Outcome::Lowered(_)
            ));
        }
        assert!(s.expire_bans(now + Duration::from_secs(11)).is_empty());
        assert_eq!(s.score(&PeerId::random(), now), 0);
    }
}
