//! The node's libp2p layer: identity, discovery, per-chain gossip, block sync, limits against bad peers.
//!
//! **Not built yet** (issue 5): this crate holds no code so far. Its
//! place in the workspace is fixed now so that nothing moves when it is
//! written; `ARCHITECTURE.md` gives the dependencies it will have.
