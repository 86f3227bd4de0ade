//! Durable state on redb: blocks, receipts, indexes, accounts and storage, per-chain namespaces, one write transaction per block.
//!
//! **Not built yet** (issue 3): this crate holds no code so far. Its
//! place in the workspace is fixed now so that nothing moves when it is
//! written; `ARCHITECTURE.md` gives the dependencies it will have.
