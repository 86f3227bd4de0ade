//! A proposed value as a stream of parts, and the reassembly of streams
//! received from peers.
//!
//! A stream is `Init`, the borsh-encoded block in chunks of [`CHUNK`] bytes,
//! and `Fin` carrying the proposer's signature of
//! [`crate::signing::stream_sign_bytes`], each wrapped in Malachite's
//! `StreamMessage` with sequence numbers 0, 1, …, then a `StreamContent::Fin`
//! marker. The stream id is the chain, height and round. Reassembly keys
//! streams by sender (the gossip author) and id, ignores duplicate sequence
//! numbers, drops a stream that grows past a block's bytes, whose `Init` the
//! driver does not admit, or that has not completed in [`STREAM_TIMEOUT`],
//! and holds all incomplete streams within one byte budget and
//! [`MAX_PARTIAL`] streams, evicting those of senders that never sent a
//! verified stream first; the checks of what a complete stream says happen
//! in the application loop.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use malachitebft_app_channel::app::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_app_channel::app::types::PeerId;
use malachitebft_core_types::Round;

use crate::context::GontContext;
use crate::messages::{ProposalFin, ProposalInit, ProposalPart};
use crate::signing::{PrivateKey, sign_stream};
use crate::types::{Address, Height, Value};

/// Data chunk size: well under Malachite's 4 MiB gossip limit.
pub(super) const CHUNK: usize = 256 * 1024;

/// Incomplete streams kept per sender (a proposer streams one value a
/// round); the oldest is dropped beyond this.
const STREAMS_PER_PEER: usize = 2;

/// Incomplete streams kept from all senders together.
pub(super) const MAX_PARTIAL: usize = 32;

/// How long a stream may take to complete before it is dropped.
pub(super) const STREAM_TIMEOUT: Duration = Duration::from_secs(30);

/// Streams remembered as not admitted, so that their later parts are
/// dropped too.
const REFUSED: usize = 128;

/// Senders remembered as having sent a verified stream.
const TRUSTED_SENDERS: usize = 256;

/// The id of the stream of `(height, round)` on `ctx`'s chain.
pub(crate) fn stream_id(ctx: &GontContext, height: Height, round: Round) -> StreamId {
    let mut bytes = Vec::with_capacity(20);
    bytes.extend_from_slice(&ctx.chain_id().0.to_be_bytes());
    bytes.extend_from_slice(&height.0.to_be_bytes());
    bytes.extend_from_slice(&round.as_u32().unwrap_or(u32::MAX).to_be_bytes());
    StreamId::new(Bytes::from(bytes))
}

/// The parts of `value`, proposed by `proposer` (whose key is `key`) at
/// `(height, round)` with polka round `pol_round`.
pub(crate) fn split(
    ctx: &GontContext,
    key: &PrivateKey,
    proposer: Address,
    height: Height,
    round: Round,
    pol_round: Round,
    value: &Value,
) -> Vec<StreamMessage<ProposalPart>> {
    let init = ProposalInit {
        chain_id: ctx.chain_id(),
        height,
        round,
        pol_round,
        proposer,
    };
    let encoded = borsh::to_vec(value).unwrap_or_default();
    let data: Vec<Vec<u8>> = encoded.chunks(CHUNK).map(<[u8]>::to_vec).collect();
    let fin = ProposalFin {
        signature: sign_stream(ctx, key, &init, value.id()),
    };
    let id = stream_id(ctx, height, round);
    let parts = std::iter::once(ProposalPart::Init(init))
        .chain(data.into_iter().map(ProposalPart::Data))
        .chain(std::iter::once(ProposalPart::Fin(fin)));
    let mut messages: Vec<_> = parts
        .enumerate()
        .map(|(seq, part)| StreamMessage::new(id.clone(), seq as u64, StreamContent::Data(part)))
        .collect();
    messages.push(StreamMessage::new(
        id,
        messages.len() as u64,
        StreamContent::Fin,
    ));
    messages
}

/// A complete stream: the `Init`, the data chunks in order and the `Fin`.
#[derive(Debug)]
pub(super) struct Assembled {
    pub(super) init: ProposalInit,
    pub(super) data: Vec<Vec<u8>>,
    pub(super) fin: ProposalFin,
}

impl Assembled {
    /// The block the chunks encode.
    pub(super) fn value(&self) -> Result<Value, std::io::Error> {
        borsh::from_slice(&self.data.concat())
    }

    /// The bytes of its data chunks.
    fn bytes(&self) -> usize {
        self.data.iter().map(Vec::len).sum()
    }
}

/// Rounds of a later height whose streams wait for it: a node whose peers
/// are further ahead catches up by value sync, not by streams.
pub(super) const WAITING_ROUNDS: u32 = 4;

/// How many heights ahead of its current one a node holds streams for.
/// Malachite's consensus keeps the votes of the next heights for when it
/// gets there (as many as value sync's parallel requests, 5 by default);
/// with those heights' blocks held too, a node that value sync brought
/// near the tip decides each height on arrival instead of trailing its
/// peers a sync round-trip behind.
pub(crate) const HEIGHTS_AHEAD: u64 = 4;

/// Complete streams of later heights, held unchecked until their height
/// starts (its validator set is not known before): only the next
/// [`HEIGHTS_AHEAD`] heights, their first [`WAITING_ROUNDS`] rounds, one
/// stream per sender and round, and at most a byte budget in all, so that
/// no peer can make a node hold more.
#[derive(Debug)]
pub(super) struct Waiting {
    streams: BTreeMap<(Height, u32, PeerId), Assembled>,
    bytes: usize,
    max_bytes: usize,
}

/// Why a stream of a later height is not held.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum NotHeld {
    /// It is for a height not above the current one or more than
    /// [`HEIGHTS_AHEAD`] above it, or a round beyond [`WAITING_ROUNDS`].
    TooFarAhead,
    /// The streams held already take the whole budget.
    Full,
}

impl Waiting {
    /// At most `max_bytes` of data held.
    pub(super) fn new(max_bytes: usize) -> Self {
        Self {
            streams: BTreeMap::new(),
            bytes: 0,
            max_bytes,
        }
    }

    /// Holds `stream` from `from` while the node is at height `current`;
    /// a sender's second stream for a round replaces its first.
    pub(super) fn hold(
        &mut self,
        current: Height,
        from: PeerId,
        stream: Assembled,
    ) -> Result<(), NotHeld> {
        let height = stream.init.height;
        let round = stream.init.round.as_u32().unwrap_or(u32::MAX);
        if !ahead(current, height) || round >= WAITING_ROUNDS {
            return Err(NotHeld::TooFarAhead);
        }
        let key = (height, round, from);
        let replaced = self.streams.get(&key).map_or(0, Assembled::bytes);
        let bytes = self.bytes - replaced + stream.bytes();
        if bytes > self.max_bytes {
            return Err(NotHeld::Full);
        }
        self.bytes = bytes;
        self.streams.insert(key, stream);
        Ok(())
    }

    /// The streams held for `(height, round)`, no longer held; streams of
    /// lower heights are dropped.
    pub(super) fn take(&mut self, height: Height, round: u32) -> Vec<Assembled> {
        self.prune_below(height);
        let keys: Vec<_> = self
            .streams
            .keys()
            .filter(|(h, r, _)| *h == height && *r == round)
            .cloned()
            .collect();
        keys.into_iter()
            .filter_map(|key| self.release(&key))
            .collect()
    }

    /// Drops the streams of heights below `height`.
    pub(super) fn prune_below(&mut self, height: Height) {
        let keys: Vec<_> = self
            .streams
            .keys()
            .filter(|(h, ..)| *h < height)
            .cloned()
            .collect();
        for key in keys {
            self.release(&key);
        }
    }

    fn release(&mut self, key: &(Height, u32, PeerId)) -> Option<Assembled> {
        let stream = self.streams.remove(key)?;
        self.bytes -= stream.bytes();
        Some(stream)
    }

    /// The bytes held.
    #[cfg(any(test, feature = "sim"))]
    pub(super) const fn held_bytes(&self) -> usize {
        self.bytes
    }
}

/// Whether `height` is one of the [`HEIGHTS_AHEAD`] heights after
/// `current`.
pub(super) const fn ahead(current: Height, height: Height) -> bool {
    height.0 > current.0 && height.0 - current.0 <= HEIGHTS_AHEAD
}

#[derive(Debug)]
struct Partial {
    parts: BTreeMap<u64, ProposalPart>,
    end: Option<u64>,
    bytes: usize,
    arrival: u64,
    /// When its first part came, in the driver's clock's milliseconds.
    since_ms: u64,
}

/// Streams being received, by sender and id.
#[derive(Debug)]
pub(super) struct Streams {
    partial: BTreeMap<(PeerId, StreamId), Partial>,
    /// The largest stream, in data bytes.
    max_bytes: usize,
    /// All incomplete streams together, in data bytes.
    budget: usize,
    held: usize,
    arrivals: u64,
    /// Senders whose streams verified, with when they last did: their
    /// streams are evicted last.
    trusted: BTreeMap<PeerId, u64>,
    /// Streams whose `Init` was not admitted, newest last.
    refused: VecDeque<(PeerId, StreamId)>,
}

/// Why a stream was dropped.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Dropped {
    /// It grew past the byte budget.
    TooLarge,
    /// Its parts are not `Init`, data, `Fin` in that order.
    Malformed,
    /// Its `Init` names a height, round or proposer the driver does not
    /// take streams from now.
    NotAdmitted,
    /// The budget is full of streams of verified senders.
    Busy,
}

impl Streams {
    /// Streams of at most `max_bytes` of data each, `budget` in all.
    pub(super) fn new(max_bytes: usize, budget: usize) -> Self {
        Self {
            partial: BTreeMap::new(),
            max_bytes,
            budget: budget.max(max_bytes),
            held: 0,
            arrivals: 0,
            trusted: BTreeMap::new(),
            refused: VecDeque::new(),
        }
    }

    /// Adds a message from `from` at `now_ms` (the driver's clock): the
    /// complete stream once it is. `admit` judges the stream's `Init` when
    /// it arrives.
    pub(super) fn insert(
        &mut self,
        from: PeerId,
        msg: StreamMessage<ProposalPart>,
        admit: impl Fn(&ProposalInit) -> bool,
        now_ms: u64,
    ) -> Result<Option<Assembled>, Dropped> {
        self.drop_stale(now_ms);
        let key = (from, msg.stream_id.clone());
        if self.refused.contains(&key) {
            return Err(Dropped::NotAdmitted);
        }
        if !self.partial.contains_key(&key) {
            self.make_room(from)?;
            self.arrivals += 1;
            let partial = Partial {
                parts: BTreeMap::new(),
                end: None,
                bytes: 0,
                arrival: self.arrivals,
                since_ms: now_ms,
            };
            self.partial.insert(key.clone(), partial);
        }
        let Some(partial) = self.partial.get_mut(&key) else {
            return Ok(None);
        };
        match msg.content {
            StreamContent::Fin => partial.end = Some(msg.sequence),
            StreamContent::Data(part) => {
                if let ProposalPart::Init(init) = &part
                    && !admit(init)
                {
                    self.remove(&key);
                    if self.refused.len() >= REFUSED {
                        self.refused.pop_front();
                    }
                    self.refused.push_back(key);
                    return Err(Dropped::NotAdmitted);
                }
                let size = match &part {
                    ProposalPart::Data(chunk) => chunk.len(),
                    _ => 0,
                };
                if !partial.parts.contains_key(&msg.sequence) {
                    partial.bytes = partial.bytes.saturating_add(size);
                    self.held = self.held.saturating_add(size);
                    partial.parts.insert(msg.sequence, part);
                }
            }
        }
        let (bytes, parts) = (partial.bytes, partial.parts.len());
        if bytes > self.max_bytes || parts > self.max_bytes / CHUNK + 3 {
            self.remove(&key);
            return Err(Dropped::TooLarge);
        }
        while self.held > self.budget {
            if self.evict(from, Some(&key)).is_err() {
                self.remove(&key);
                return Err(Dropped::Busy);
            }
        }
        let complete = self.partial.get(&key).is_some_and(|partial| {
            partial.end.is_some_and(|end| {
                partial.parts.len() as u64 == end && partial.parts.keys().all(|s| *s < end)
            })
        });
        if !complete {
            return Ok(None);
        }
        let Some(partial) = self.remove(&key) else {
            return Ok(None);
        };
        assemble(partial).map(Some)
    }

    /// Remembers that `from` sent a stream that verified.
    pub(super) fn trust(&mut self, from: PeerId) {
        self.arrivals += 1;
        self.trusted.insert(from, self.arrivals);
        if self.trusted.len() > TRUSTED_SENDERS
            && let Some(oldest) = self
                .trusted
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(peer, _)| *peer)
        {
            self.trusted.remove(&oldest);
        }
    }

    /// Forgets streams for heights below `height`.
    pub(super) fn prune_below(&mut self, height: Height) {
        let old: Vec<_> = self
            .partial
            .iter()
            .filter(|(_, p)| matches!(p.parts.get(&0), Some(ProposalPart::Init(init)) if init.height < height))
            .map(|(key, _)| key.clone())
            .collect();
        for key in old {
            self.remove(&key);
        }
    }

    /// Data bytes held in incomplete streams.
    #[cfg(any(test, feature = "sim"))]
    pub(super) const fn held_bytes(&self) -> usize {
        self.held
    }

    /// Incomplete streams held.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.partial.len()
    }

    /// Checks the bounds this type promises: the bytes held are the sum
    /// of the streams' and within the budget, at most [`MAX_PARTIAL`]
    /// streams and [`STREAMS_PER_PEER`] per sender, and the refused and
    /// trusted memories within theirs.
    #[cfg(any(test, feature = "fuzz"))]
    pub(super) fn check_bounds(&self) -> Result<(), String> {
        let sum: usize = self.partial.values().map(|p| p.bytes).sum();
        if sum != self.held {
            return Err(format!("held {} but the streams hold {sum}", self.held));
        }
        if self.held > self.budget {
            return Err(format!(
                "held {} over the budget {}",
                self.held, self.budget
            ));
        }
        if self.partial.len() > MAX_PARTIAL {
            return Err(format!("{} streams held", self.partial.len()));
        }
        let mut per_sender = BTreeMap::<PeerId, usize>::new();
        for (peer, _) in self.partial.keys() {
            let count = per_sender.entry(*peer).or_default();
            *count += 1;
            if *count > STREAMS_PER_PEER {
                return Err(format!("{count} streams of one sender"));
            }
        }
        if self.refused.len() > REFUSED || self.trusted.len() > TRUSTED_SENDERS {
            return Err("the refused or trusted memory outgrew its bound".to_owned());
        }
        Ok(())
    }

    fn remove(&mut self, key: &(PeerId, StreamId)) -> Option<Partial> {
        let partial = self.partial.remove(key)?;
        self.held = self.held.saturating_sub(partial.bytes);
        Some(partial)
    }

    fn drop_stale(&mut self, now_ms: u64) {
        let stale: Vec<_> = self
            .partial
            .iter()
            .filter(|(_, p)| {
                Duration::from_millis(now_ms.saturating_sub(p.since_ms)) > STREAM_TIMEOUT
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in stale {
            self.remove(&key);
        }
    }

    /// Makes room for a new stream from `from`: its own oldest beyond
    /// [`STREAMS_PER_PEER`], then another one beyond [`MAX_PARTIAL`].
    fn make_room(&mut self, from: PeerId) -> Result<(), Dropped> {
        let own = self
            .partial
            .iter()
            .filter(|((peer, _), _)| *peer == from)
            .min_by_key(|(_, p)| p.arrival)
            .map(|(key, _)| key.clone());
        let count = self
            .partial
            .keys()
            .filter(|(peer, _)| *peer == from)
            .count();
        if count >= STREAMS_PER_PEER
            && let Some(oldest) = own
        {
            self.remove(&oldest);
        }
        if self.partial.len() >= MAX_PARTIAL {
            self.evict(from, None)?;
        }
        Ok(())
    }

    /// Drops one stream other than `keep` for a stream of `from`: the
    /// oldest of a sender that never sent a verified stream, or, if `from`
    /// did, the oldest of all. `Busy` if nothing may go.
    fn evict(&mut self, from: PeerId, keep: Option<&(PeerId, StreamId)>) -> Result<(), Dropped> {
        let trusted = self.trusted.contains_key(&from);
        let victim = self
            .partial
            .iter()
            .filter(|(key, _)| Some(*key) != keep)
            .filter(|((peer, _), _)| trusted || !self.trusted.contains_key(peer))
            .min_by_key(|((peer, _), p)| (self.trusted.contains_key(peer), p.arrival))
            .map(|(key, _)| key.clone())
            .ok_or(Dropped::Busy)?;
        self.remove(&victim);
        Ok(())
    }
}

fn assemble(partial: Partial) -> Result<Assembled, Dropped> {
    let mut parts = partial.parts.into_values();
    let Some(ProposalPart::Init(init)) = parts.next() else {
        return Err(Dropped::Malformed);
    };
    let mut data = Vec::new();
    for part in parts {
        match part {
            ProposalPart::Data(chunk) => data.push(chunk),
            ProposalPart::Fin(fin) => return Ok(Assembled { init, data, fin }),
            ProposalPart::Init(_) => return Err(Dropped::Malformed),
        }
    }
    Err(Dropped::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::app::tests::block_at;
    use gont_core::ConsensusParams;

    fn peer(n: u8) -> PeerId {
        let key =
            malachitebft_app_channel::app::types::Keypair::ed25519_from_bytes([n; 32]).unwrap();
        PeerId::from_bytes(&key.public().to_peer_id().to_bytes()).unwrap()
    }

    /// Inserts `m` from `from` now, admitting any `Init`.
    fn any(
        streams: &mut Streams,
        from: PeerId,
        m: StreamMessage<ProposalPart>,
    ) -> Result<Option<Assembled>, Dropped> {
        streams.insert(from, m, |_| true, 0)
    }

    fn big_value() -> Value {
        let mut block = block_at(3, 1000);
        block.body.transactions = (0..3)
            .map(|i| gont_core::RawTransaction(vec![i; 200_000].into()))
            .collect();
        Value::new(block).unwrap()
    }

    #[test]
    fn a_stream_reassembles_in_any_order_with_duplicates() {
        let ctx = GontContext::new(gont_core::ChainId(7), ConsensusParams::default()).unwrap();
        let key = PrivateKey::from_seed([1; 32]);
        let proposer = Address(key.public_key().address());
        let value = big_value();
        let mut msgs = split(
            &ctx,
            &key,
            proposer,
            Height(3),
            Round::new(1),
            Round::Nil,
            &value,
        );
        assert!(msgs.len() > 4, "the block spans several chunks");
        msgs.reverse();
        let dup = msgs[1].clone();
        msgs.insert(2, dup);
        let mut streams = Streams::new(4 << 20, 16 << 20);
        let mut done = None;
        for m in msgs {
            if let Some(a) = any(&mut streams, peer(1), m).unwrap() {
                assert!(done.is_none(), "completes once");
                done = Some(a);
            }
        }
        let a = done.unwrap();
        assert_eq!(a.value().unwrap().id(), value.id());
        assert_eq!(a.init.height, Height(3));
        let signed = crate::signing::stream_sign_bytes(&ctx, &a.init, value.id()).unwrap();
        assert!(key.public_key().verify(&signed, &a.fin.signature.0));
    }

    /// The stream of a several-chunk block at height 3, round 0.
    fn big_stream() -> Vec<StreamMessage<ProposalPart>> {
        let ctx = GontContext::new(gont_core::ChainId(7), ConsensusParams::default()).unwrap();
        let key = PrivateKey::from_seed([1; 32]);
        let proposer = Address(key.public_key().address());
        split(
            &ctx,
            &key,
            proposer,
            Height(3),
            Round::new(0),
            Round::Nil,
            &big_value(),
        )
    }

    #[test]
    fn an_oversized_stream_is_dropped() {
        let msgs = big_stream();
        let mut streams = Streams::new(300_000, 16 << 20);
        let results: Vec<_> = msgs
            .into_iter()
            .map(|m| any(&mut streams, peer(2), m))
            .collect();
        assert!(results.iter().any(|r| matches!(r, Err(Dropped::TooLarge))));
        assert!(results.iter().all(|r| !matches!(r, Ok(Some(_)))));
    }

    #[test]
    fn streams_of_two_senders_do_not_mix() {
        let msgs = big_stream();
        let mut streams = Streams::new(4 << 20, 16 << 20);
        let (a, b) = msgs.split_at(2);
        for m in a {
            assert!(any(&mut streams, peer(1), m.clone()).unwrap().is_none());
        }
        for m in b {
            assert!(any(&mut streams, peer(2), m.clone()).unwrap().is_none());
        }
    }

    #[test]
    fn parts_from_any_number_of_senders_are_held_within_one_budget_and_verified_senders_keep_theirs()
     {
        // Before, 8 streams of up to a block each were held per sender, and
        // senders (gossip authors) are free to create: a flood of parts
        // from fresh keys grew a node's memory without limit.
        let honest = big_stream();
        let size: usize = honest
            .iter()
            .map(|m| match &m.content {
                StreamContent::Data(ProposalPart::Data(chunk)) => chunk.len(),
                _ => 0,
            })
            .sum();
        let budget = 3 * size;
        let mut streams = Streams::new(size + CHUNK, budget);
        let start = 1_000;
        let admit = |_: &ProposalInit| true;
        // A verified sender's stream, all but its last parts.
        streams.trust(peer(1));
        let (head, tail) = honest.split_at(honest.len() - 2);
        for m in head {
            assert!(
                streams
                    .insert(peer(1), m.clone(), admit, start)
                    .unwrap()
                    .is_none()
            );
        }
        // 200 fresh senders, each starting a stream of a block's worth.
        for n in 0..200u8 {
            for m in big_stream().into_iter().skip(1).take(2) {
                let _ = streams.insert(peer(n.wrapping_add(2)), m, admit, start);
            }
            assert!(
                streams.held_bytes() <= budget,
                "{} held",
                streams.held_bytes()
            );
            assert!(streams.len() <= MAX_PARTIAL, "{} streams", streams.len());
        }
        // The verified sender's stream survived the flood and completes.
        let mut done = None;
        for m in tail {
            done = done.or(streams.insert(peer(1), m.clone(), admit, start).unwrap());
        }
        assert!(done.is_some(), "the verified sender's stream was evicted");
        // A stream whose Init the driver refuses is dropped.
        let refused = |_: &ProposalInit| false;
        assert!(matches!(
            streams.insert(peer(3), big_stream()[0].clone(), refused, start),
            Err(Dropped::NotAdmitted)
        ));
        // Streams that do not complete in time are dropped.
        let late = start + u64::try_from(STREAM_TIMEOUT.as_millis()).unwrap() + 1_000;
        let _ = streams.insert(peer(4), big_stream()[1].clone(), admit, late);
        assert_eq!(streams.len(), 1, "only the stream just started is left");
    }

    /// The complete stream of a several-chunk block at `height`, `round`.
    fn assembled(height: u64, round: u32) -> Assembled {
        let ctx = GontContext::new(gont_core::ChainId(7), ConsensusParams::default()).unwrap();
        let key = PrivateKey::from_seed([1; 32]);
        let proposer = Address(key.public_key().address());
        let mut streams = Streams::new(4 << 20, 16 << 20);
        split(
            &ctx,
            &key,
            proposer,
            Height(height),
            Round::new(round),
            Round::Nil,
            &big_value(),
        )
        .into_iter()
        .find_map(|m| any(&mut streams, peer(1), m).unwrap())
        .unwrap()
    }

    #[test]
    fn streams_of_the_next_few_heights_are_held_within_a_budget_and_no_further() {
        // Before, every stream of any later height was held until its
        // height started: a peer could fill a node's memory with them.
        let size = assembled(2, 0).bytes();
        let mut waiting = Waiting::new(2 * size);
        let at = Height(1);
        let beyond = 1 + HEIGHTS_AHEAD + 1;
        assert_eq!(
            waiting.hold(at, peer(1), assembled(beyond, 0)),
            Err(NotHeld::TooFarAhead)
        );
        assert_eq!(
            waiting.hold(at, peer(1), assembled(2, WAITING_ROUNDS)),
            Err(NotHeld::TooFarAhead)
        );
        assert_eq!(
            waiting.hold(at, peer(1), assembled(1, 0)),
            Err(NotHeld::TooFarAhead),
            "not the current height"
        );
        assert_eq!(waiting.held_bytes(), 0);
        waiting.hold(at, peer(1), assembled(2, 0)).unwrap();
        // A sender's second stream for the round replaces its first.
        waiting.hold(at, peer(1), assembled(2, 0)).unwrap();
        assert_eq!(waiting.held_bytes(), size);
        waiting.hold(at, peer(2), assembled(2, 0)).unwrap();
        assert_eq!(
            waiting.hold(at, peer(3), assembled(2, 1)),
            Err(NotHeld::Full)
        );
        assert_eq!(waiting.held_bytes(), 2 * size);
        assert!(waiting.take(Height(2), 1).is_empty());
        assert_eq!(waiting.take(Height(2), 0).len(), 2);
        assert_eq!(waiting.held_bytes(), 0);
        waiting.hold(at, peer(3), assembled(2, 1)).unwrap();
        waiting.prune_below(Height(3));
        assert_eq!(waiting.held_bytes(), 0);
    }

    #[test]
    fn a_node_a_few_heights_behind_holds_the_streams_of_the_heights_it_has_yet_to_reach() {
        // A node two heights behind dropped the streams of the heights
        // it had not reached, so when value sync brought it to one its
        // proposal had passed: it waited for sync again and trailed its
        // peers for good, never voting in time (the second instance of a
        // validator in the double-signing test trailed for 150 s).
        let mut waiting = Waiting::new(4 * assembled(2, 0).bytes());
        let at = Height(1);
        waiting.hold(at, peer(1), assembled(3, 0)).unwrap();
        waiting
            .hold(at, peer(1), assembled(1 + HEIGHTS_AHEAD, 0))
            .unwrap();
        assert!(waiting.take(Height(2), 0).is_empty());
        let third = waiting.take(Height(3), 0);
        assert_eq!(third.len(), 1);
        assert_eq!(third[0].init.height, Height(3));
        assert_eq!(waiting.take(Height(1 + HEIGHTS_AHEAD), 0).len(), 1);
    }
}
