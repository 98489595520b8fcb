//! Mutual exclusion and agreement the way Leslie Lamport built them: from
//! atomic loads, stores and fences.
//!
//! # What is here
//!
//! - [`Bakery`]: Lamport's bakery lock (1974) for `N` participants. First come,
//!   first served, and no compare-and-swap or fetch-add anywhere, so it runs on
//!   chips whose atomics are only loads and stores, such as the Cortex-M0+
//!   cores of the RP2040 or `riscv32imc`.
//! - [`FastBakery`]: Lamport's fast mutual exclusion (1987) in front of the
//!   bakery: alone, a participant enters in a constant number of steps
//!   whatever `N` is; under contention arrivals queue in the bakery, first
//!   come, first served. Loads, stores and fences only.
//! - [`PerCore`]: the per-core bakery, Taubenfeld's Black-White Bakery with
//!   each core's `choosing` bit, color and ticket packed in one word in its
//!   own cache line; tickets bounded by the number of cores. With `std`,
//!   `MachinePerCore` is sized to the machine and hands out pinned per-core
//!   handles.
//! - [`Peterson`]: Peterson's lock (1981) for two participants, also from
//!   loads, stores and fences only; first come, first served.
//! - [`Tournament`]: a tournament tree of Peterson locks for `N` participants
//!   (a power of two), O(log N) steps per acquisition against the bakery's
//!   O(N); starvation-free but not first come, first served.
//! - [`Ticket`]: a first-come-first-served ticket lock for any number of
//!   threads, the comparison point that spends one fetch-add per acquisition
//!   (only where 32-bit fetch-add exists).
//! - [`Lock<R, T>`](Lock): data guarded by any of them, a mutex.
//! - `raw_mutex` (feature `lock_api`): the same locks as drop-in
//!   `lock_api::Mutex` types, e.g. in place of `parking_lot::Mutex`.
//! - [`PaxosRegister`]: agreement on one value among `N` threads from loads
//!   and stores only, which no stalled thread can block; [`PaxosLog`] (`std`)
//!   is a sequence of such decisions. See [`paxos`].
//!
//! # Naming
//!
//! A raw lock is named after its algorithm (`Bakery`, `PerCore`, `Peterson`,
//! `Tournament`, `Ticket`); `XLock<T>` is [`Lock`] over it, holding data
//! (`BakeryLock<N, T>`, `TicketLock<T>`, …); `raw_mutex::XMutex<T>` is the
//! `lock_api` mutex over it.
//!
//! # Participants and seats
//!
//! A bakery keeps registers per participant, so it must know who is calling,
//! and two threads acting as the same participant would break mutual
//! exclusion. `doorway` never takes a bare index from safe code. There are two
//! ways in:
//!
//! - [`Lock::participants`] borrows the lock mutably and hands out one
//!   [`Participant`] per index. The borrow makes them unique; no `std` and no
//!   read-modify-write are needed. A participant's guard borrows it mutably,
//!   so re-entry is a compile error.
//! - With `std`, [`Lock::lock`] works from any number of threads: each
//!   acquisition takes one of the lock's [] (the thread's own
//!   from last time, in one compare-and-swap) and gives it back on unlock.
//!
//! ```
//! use doorway::{Bakery, Lock};
//!
//! // Two workers, a bakery with two participant registers.
//! let mut total = Lock::<Bakery<2>, u64>::new(0);
//! let [mut alice, mut bob] = total.participants();
//! std::thread::scope(|s| {
//!     s.spawn(move || (0..1000).for_each(|_| *alice.lock() += 1));
//!     s.spawn(move || (0..1000).for_each(|_| *bob.lock() += 1));
//! });
//! assert_eq!(total.into_inner(), 2000);
//! ```
//!
//! No lock in this crate is poisoned by a panic; see [`Lock`].
//!
//! # Raw locks
//!
//! Every lock implements [`RawLock`] (lock, try_lock, unlock, is_locked, each
//! naming its participant); the FIFO ones also implement [`FifoLock`], which
//! splits acquisition into Lamport's doorway and waiting room, and those whose
//! waiters can leave the line implement [`Withdraw`] (timed locking).
//!
//! # Proof
//!
//! Every primitive is model-checked with [loom](https://docs.rs/loom): two
//! participants exhaustively, three under a preemption bound, and every fence
//! is removed and weakened in turn to show that the models then find two
//! participants in the critical section. The models live in `loom-tests/`;
//! the fences each carry a comment naming the reordering they forbid.
//!
//! # Under loom
//!
//! Built with `RUSTFLAGS="--cfg loom"`, as a user's loom model builds every
//! crate in its graph, doorway keeps its whole public API, backed by loom's
//! atomics, with every wait yielding to loom's scheduler: a model of your code
//! checks doorway's locks along with it. What differs:
//!
//! - Constructors that build atomics (`Bakery::new`, `PaxosRegister::new`, …)
//!   are plain functions, not `const fn`: loom's atomics cannot be built in
//!   `const` context. [`Lock::new`], [`ConstInit::INIT`] and lock_api's
//!   `Mutex::new` stay `const`: the lock's registers are then created by the
//!   first thread that uses it, and loom is told that this creation happens
//!   before every other thread's use, as a `OnceLock` would be. That extra
//!   edge also orders what that first thread did before its first use; a data
//!   race that only a failed `try_lock` or `is_locked` would expose there goes
//!   unreported. Build locks with `Lock::from_raw(Bakery::new(), ..)` to avoid
//!   the edge.
//! - A lock in a `static` cannot serve two loom executions (loom rebuilds its
//!   state for each); using one in a second execution panics with a message
//!   that says so. Build it inside the model, or behind `loom::lazy_static!`.
//! - `Lock::pin` holds the core's register without moving the thread: loom's
//!   threads share one OS thread.
//! - `lock_api::Mutex` keeps its data in a cell loom does not track, so loom
//!   checks doorway's lock and its ordering there, and any loom cells or
//!   atomics inside your data; [`Lock`]'s own data is tracked.
//!
//! # Features
//!
//! - `std` (default): [`Lock::lock`] from any thread (seats), timed locking,
//!   waits that yield to the OS scheduler after a short spin, pinned per-core
//!   handles, and [`PaxosLog`].
//! - `lock_api` (implies `std`): the `raw_mutex` module.
//! - `critical-section`: the `harts` module, a `critical-section`
//!   implementation for several cores without compare-and-swap.
//!
//! Without `std` the crate is `no_std` and its bakery, Peterson and
//! tournament locks need only atomic loads and stores of 8 and 32 bits; the
//! ticket lock is compiled only where 32-bit fetch-add exists. The Paxos
//! register uses 64-bit loads and stores where the target has them, and
//! 32-bit ones elsewhere.

#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(any(feature = "std", loom))]
extern crate std;

mod sync;

pub mod bakery;
pub mod fastbakery;
#[cfg(feature = "critical-section")]
#[cfg_attr(docsrs, doc(cfg(feature = "critical-section")))]
pub mod harts;
mod lock;
pub mod paxos;
pub mod percore;
pub mod peterson;
mod raw;
#[cfg(feature = "lock_api")]
pub mod raw_mutex;
#[cfg(any(
    all(feature = "shm", unix, not(loom)),
    all(loom, doorway_mutants, feature = "std")
))]
mod robust;
#[cfg(feature = "std")]
pub mod seats;
#[cfg(all(feature = "shm", unix, not(loom)))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "shm", unix))))]
pub mod shm;
#[cfg(target_has_atomic = "32")]
pub mod ticket;
pub mod tournament;

pub use bakery::Bakery;
pub use fastbakery::FastBakery;
pub use lock::{Guard, Lock, Participant};
#[cfg(any(feature = "std", loom))]
pub use paxos::PaxosLog;
pub use paxos::PaxosRegister;
#[cfg(feature = "std")]
pub use percore::{MachinePerCore, PinError, Pinned};
pub use percore::{PerCore, PerCoreBakery};
pub use peterson::Peterson;
#[cfg(feature = "std")]
pub use raw::Seated;
pub use raw::{ConstInit, FifoLock, Participants, RawLock, Withdraw};
#[cfg(target_has_atomic = "32")]
pub use ticket::Ticket;
pub use tournament::Tournament;

/// A [`Lock`] over Lamport's [`Bakery`] with `N` participants.
pub type BakeryLock<const N: usize, T> = Lock<Bakery<N>, T>;

/// A [`Lock`] over the [`FastBakery`] with `N` participants.
pub type FastBakeryLock<const N: usize, T> = Lock<FastBakery<N>, T>;

/// A [`Lock`] over the per-core bakery [`PerCore`] for `N` cores.
pub type PerCoreLock<const N: usize, T> = Lock<PerCore<N>, T>;

/// A [`Lock`] over [`Peterson`]'s lock, for two participants.
pub type PetersonLock<T> = Lock<Peterson, T>;

/// A [`Lock`] over a [`Tournament`] of Peterson locks for `N` participants.
pub type TournamentLock<const N: usize, T> = Lock<Tournament<N>, T>;

/// A [`Lock`] over the [`Ticket`] lock, for any number of threads.
#[cfg(target_has_atomic = "32")]
pub type TicketLock<T> = Lock<Ticket, T>;

/// Test hooks for doorway's own tests, loom models and benches; they exist
/// only in builds with `--cfg doorway_mutants`, which doorway's repository
/// sets for itself (a crate that depends on doorway never has them).
#[cfg(all(doorway_mutants, feature = "std"))]
#[doc(hidden)]
pub mod __private {
    #[cfg(any(loom, miri))]
    pub use crate::paxos::flaw::{self, Flaw};
    pub use crate::paxos::hooks as paxos;
    /// The recovery protocol's named orderings (it is crate-private).
    #[cfg(any(all(feature = "shm", unix, not(loom)), loom))]
    pub use crate::robust::ORDERINGS as ROBUST_ORDERINGS;
    #[cfg(loom)]
    pub use crate::robust::hooks as robust;
    #[cfg(any(loom, miri))]
    pub use crate::sync::mutation::{self, Mutation};
    #[cfg(loom)]
    pub use crate::sync::spin_cap;
    #[cfg(all(feature = "std", not(loom)))]
    pub use crate::sync::uniform_waiting;
    pub use crate::sync::{Access, FenceSite, Why};
}

/// The README's Rust examples, compiled and run as doc tests so that the
/// front page cannot drift from the API (its `lock_api` example needs the
/// feature, so the whole README is tested with it).
#[cfg(all(doctest, feature = "lock_api"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
