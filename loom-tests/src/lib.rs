//! Running loom models of doorway's primitives: bounds, timing, and the fence
//! mutations every model must catch.
//!
//! Build and run with `RUSTFLAGS="--cfg loom" cargo test --release -p
//! doorway-loom-tests -- --nocapture`: the models run on loom's atomics and
//! need doorway's test hooks (fence mutations, Paxos flaws, spin caps), which
//! this crate's dependency on doorway switches on (the private feature
//! `__test_hooks`). Built without `--cfg loom`, it refuses to compile.
//!
//! Every model prints one line: its name, its bound, how long it took, and how
//! many spin-waits it cut short at the crate's loom spin cap (those executions
//! were explored up to the cut and then run to the end without branching).
//!
//! A primitive joins with one line of [`lock_models!`], which instantiates the
//! crate's generic models for it.

#[cfg(not(loom))]
compile_error!(
    "doorway-loom-tests holds loom models: run them with \
     RUSTFLAGS=\"--cfg loom\" cargo test --release -p doorway-loom-tests -- --nocapture \
     (or bash .ci/loom for every model and sweep; see loom-tests/README.md)"
);

#[cfg(loom)]
mod models;
#[cfg(loom)]
pub use models::*;
