//! Loom models of the user's code, with doorway's locks and Paxos register
//! inside, built with plain `RUSTFLAGS="--cfg loom"`: what a user's CI runs.
//!
//! Each model prints its bound and how long it took.

#[cfg(not(loom))]
compile_error!(
    "these are loom models of a user's crate: run them with \
     RUSTFLAGS=\"--cfg loom\" cargo test --release -p doorway-user-models -- --nocapture"
);

#[cfg(loom)]
#[path = "models/user.rs"]
mod user;
