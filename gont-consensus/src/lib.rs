//! Tendermint proof-of-stake consensus per chain on Malachite, with commits that tendermint-rs verifies.
//!
//! **Not built yet** (issue 4): this crate holds no code so far. Its
//! place in the workspace is fixed now so that nothing moves when it is
//! written; `ARCHITECTURE.md` gives the dependencies it will have.
