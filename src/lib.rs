//! Mutual exclusion and agreement the way Leslie Lamport built them: from
//! atomic loads, stores and fences.
//!
//! # What is here
//!
//! - [`Bakery`]: Lamport's bakery lock (1974) for `N` participants. First come,
//!   first served, and no compare-and-swap or fetch-add anywhere, so it runs on
//!   chips whose atomics are only loads and stores, such as the Cortex-M0+
//!   cores of the RP2040 or `riscv32imc`.
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
//! - [`TicketLock`]: a first-come-first-served ticket lock for any number of
//!   threads, the comparison point that spends one fetch-add per acquisition
//!   (only where 32-bit fetch-add exists).
//! - [`Lock<R, T>`](Lock): data guarded by any raw lock, used like `Mutex<T>`.
//! - `raw_mutex` (feature `lock_api`): the same locks as drop-in
//!   `lock_api::Mutex` types, e.g. in place of `parking_lot::Mutex`.
//! - [`PaxosRegister`]: agreement on one value among `N` threads from loads
//!   and stores only, which no stalled thread can block; [`PaxosLog`] (`std`)
//!   is a sequence of such decisions. See [`paxos`].
//!
//! # Participants
//!
//! A bakery keeps one ticket register per participant, so it must know who is
//! calling, and two threads acting as the same participant would break mutual
//! exclusion. `doorway` never takes a bare index from safe code. There are two
//! ways in:
//!
//! - [`Lock::participants`] borrows the lock mutably and hands out one
//!   [`Participant`] per index. The borrow makes them unique; no `std` and no
//!   compare-and-swap are needed. A participant's guard borrows it mutably, so
//!   re-entry is a compile error.
//! - With `std`, [`Lock::lock`] lets any thread lock: on first use the thread
//!   claims a free participant slot of that lock (one compare-and-swap, once)
//!   and keeps it until it exits. A thread beyond the lock's capacity gets a
//!   panic that names the capacity, never a shared slot.
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
//! # Raw locks
//!
//! Every lock implements [`RawLock`] (lock, try_lock, unlock, is_locked, each
//! naming its participant); the FIFO ones also implement [`FifoLock`], which
//! splits acquisition into Lamport's doorway and waiting room.
//!
//! # Proof
//!
//! Every primitive is model-checked with [loom](https://docs.rs/loom): two
//! participants exhaustively, three under a preemption bound, and every fence
//! is removed and weakened in turn to show that the models then find two
//! participants in the critical section. The models live in `loom-tests/`;
//! the fences each carry a comment naming the reordering they forbid.
//!
//! # Features
//!
//! - `std` (default): thread-claimed participants ([`Lock::lock`]), and waits
//!   that yield to the OS scheduler after a short spin.
//! - `lock_api` (implies `std`): the `raw_mutex` module, `lock_api::RawMutex`
//!   for every lock, with each thread its own participant.
//!
//! Without `std` the crate is `no_std` and its bakery, Peterson and
//! tournament locks need only atomic loads and stores of 8 and 32 bits; the ticket lock is compiled
//! only where 32-bit fetch-add exists. The Paxos register uses 64-bit loads
//! and stores where the target has them, and 32-bit ones elsewhere.

#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(any(feature = "std", loom))]
extern crate std;

mod sync;

pub mod bakery;
mod lock;
pub mod paxos;
pub mod percore;
pub mod peterson;
mod raw;
#[cfg(all(feature = "lock_api", not(loom)))]
pub mod raw_mutex;
#[cfg(all(feature = "std", not(loom)))]
mod slot;
#[cfg(target_has_atomic = "32")]
pub mod ticket;
pub mod tournament;

pub use bakery::Bakery;
pub use lock::{Guard, Lock, Participant};
#[cfg(any(feature = "std", loom))]
pub use paxos::PaxosLog;
pub use paxos::PaxosRegister;
#[cfg(all(feature = "std", not(loom)))]
pub use percore::{MachinePerCore, PinError, Pinned};
pub use percore::{PerCore, PerCoreBakery};
pub use peterson::Peterson;
#[cfg(not(loom))]
pub use raw::ConstInit;
#[cfg(all(feature = "std", not(loom)))]
pub use raw::ThreadParticipant;
pub use raw::{FifoLock, Participants, RawLock};
#[cfg(all(feature = "std", not(loom)))]
pub use slot::Seats;
#[cfg(target_has_atomic = "32")]
pub use ticket::TicketLock;
pub use tournament::Tournament;

/// A [`Lock`] over Lamport's [`Bakery`] with `N` participants.
pub type BakeryLock<const N: usize, T> = Lock<Bakery<N>, T>;

/// A [`Lock`] over [`Peterson`]'s lock, for two participants.
pub type PetersonLock<T> = Lock<Peterson, T>;

#[cfg(any(feature = "std", loom))]
#[doc(hidden)]
pub mod harness;

#[cfg(any(feature = "std", loom))]
#[doc(hidden)]
pub mod harness_paxos;

/// Hooks for the loom models in `loom-tests/`; exists only under `--cfg loom`.
#[cfg(loom)]
#[doc(hidden)]
pub mod __loom {
    pub use crate::sync::FenceSite;
    pub use crate::sync::loom_waits;
    pub use crate::sync::mutation::{self, Mutation};

    pub use crate::paxos::flaw::{self, Flaw};
}

/// The README's Rust examples, compiled and run as doc tests so that the
/// front page cannot drift from the API (its `lock_api` example needs the
/// feature, so the whole README is tested with it).
#[cfg(all(doctest, feature = "lock_api"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
