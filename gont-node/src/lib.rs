//! The GONT node: composes storage, VM, consensus and networking into the `gont` binary for each placement.
//!
//! **Not built yet** (issue 6): this crate holds no code so far. Its
//! place in the workspace is fixed now so that nothing moves when it is
//! written; `ARCHITECTURE.md` gives the dependencies it will have.
