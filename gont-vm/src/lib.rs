//! EVM execution on revm: signed transactions in, receipts and a state root out, behind the Engine-API-shaped `ExecutionEngine` boundary.
//!
//! **Not built yet** (issue 3): this crate holds no code so far. Its
//! place in the workspace is fixed now so that nothing moves when it is
//! written; `ARCHITECTURE.md` gives the dependencies it will have.
