//! Scenarios shared by doorway's tests, loom models, benches and demo.
//!
//! Unpublished: it depends on doorway as a user would; its Paxos scenarios
//! also need the test hooks of `doorway::__private` (the private feature
//! `__test_hooks`), and exist only with this crate's feature `hooks`.
//!
//! - [`locks`]: mutual exclusion, `try_lock` and FIFO scenarios over any
//!   [`RawLock`](doorway::RawLock), on real threads or, under `--cfg loom`,
//!   loom's.
//! - `paxos` (feature `hooks`): Paxos races with an oracle, proposers stopped or
//!   stalled at any step, the log race, and latch reads.
//! - [`bench`] (not under loom): the pinned thread pool, the lineup of locks
//!   (doorway's and the baselines), calibrated work, fairness figures and
//!   tables, for the criterion benches and the `contention` demo.
//! - [`fifo`]: the FIFO audit of async acquisitions, by
//!   stamps around each one's first poll.

mod sync;

#[cfg(not(loom))]
pub mod bench;
pub mod fifo;
pub mod locks;
#[cfg(feature = "hooks")]
pub mod paxos;
