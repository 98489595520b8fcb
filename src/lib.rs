//! Mutual exclusion and agreement the way Leslie Lamport built them: from
//! atomic loads, stores and fences.
//!
//! # What is here
//!
//! Each algorithm has a module of its own, whose documentation is the
//! algorithm: its steps, numbered invariants, every fence and ordering, and
//! its cost. The raw lock lives there, and only there.
//!
//! - [`bakery::Bakery`]: Lamport's bakery lock (1974) for `N` participants.
//!   First come, first served, and no compare-and-swap or fetch-add anywhere,
//!   so it runs on chips whose atomics are only loads and stores, such as the
//!   Cortex-M0+ cores of the RP2040 or `riscv32imc`.
//! - [`fastbakery::FastBakery`]: Lamport's fast mutual exclusion (1987) in
//!   front of the bakery: alone, a participant enters in a constant number of
//!   steps whatever `N` is; under contention arrivals queue in the bakery,
//!   first come, first served. Loads, stores and fences only.
//! - [`percore::PerCore`]: the per-core bakery, Taubenfeld's Black-White
//!   Bakery with each core's `choosing` bit, color and ticket packed in one
//!   word in its own cache line; tickets bounded by the number of cores. With
//!   `std`, [`percore::MachinePerCore`] is sized to the machine and hands out
//!   pinned per-core handles.
//! - [`peterson::Peterson`]: Peterson's lock (1981) for two participants,
//!   also from loads, stores and fences only; first come, first served.
//! - [`tournament::Tournament`]: a tournament tree of Peterson locks for `N`
//!   participants (a power of two), O(log N) steps per acquisition against
//!   the bakery's O(N); starvation-free but not first come, first served.
//! - [`ticket::Ticket`]: a first-come-first-served ticket lock for any number
//!   of threads, the comparison point that spends one fetch-add per
//!   acquisition (only where 32-bit fetch-add exists).
//! - [`Lock<R, T>`](Lock): data guarded by any of them, a mutex;
//!   [`BakeryLock<N, T>`](BakeryLock) and its siblings name the usual ones.
//! - `raw_mutex` (feature `lock_api`): the same locks as drop-in
//!   `lock_api::Mutex` types, e.g. in place of `parking_lot::Mutex`.
//! - [`paxos`]: agreement on one value among `N` threads from loads and
//!   stores only, which no stalled thread can block
//!   ([`paxos::register::PaxosRegister`]), and a sequence of such decisions
//!   (`paxos::log::PaxosLog`, `std`).
//! - `shm` (feature `shm`, Linux): the register, the log and the bakery in a
//!   file that processes map, surviving `kill -9`.
//!
//! # Naming
//!
//! A raw lock is named after its algorithm (`Bakery`, `PerCore`, `Peterson`,
//! `Tournament`, `Ticket`); `XLock<T>` is [`Lock`] over it, holding data
//! (`BakeryLock<N, T>`, `TicketLock<T>`, …); `raw_mutex::XMutex<T>` is the
//! `lock_api` mutex over it. Every public type has one path.
//!
//! # Glossary
//!
//! - **participant**: one set of a lock's registers; the algorithms write
//!   only their own participant's registers.
//! - **participant index**: a participant's number, `0..N`. Every public
//!   accessor for it is named `index()` ([`Participant::index`],
//!   [`Guard::index`], a Paxos proposer's or replica's). In code the acting
//!   participant's index is `me` (and `me` is never anything else), another's
//!   `j`.
//! - **seat** (`std`): a participant taken by a thread for one acquisition,
//!   so that any number of threads can share `N` participants (see
//!   [`seats`]). A thread is known at a seat by its **token**, drawn once and
//!   never reused.
//! - **custodian** (`shm`): the process that holds a participant's claim
//!   byte in a shared file, and so answers for that participant's registers;
//!   a custodian is known by its **owner** word, never by `me`.
//! - **doorway** and **waiting room**: the two halves of a first-come,
//!   first-served acquisition ([`FifoLock`]): the doorway takes a place in
//!   line, a bounded number of steps; the waiting room waits for its turn.
//! - **ticket**: the place in line the doorway takes.
//! - **holder** and **waiter**: the participant in the critical section, and
//!   those in the waiting room.
//! - **withdraw**: a waiter leaving the line without a trace ([`Withdraw`]).
//! - **proposer**, **ballot**, **block**: a participant of a Paxos register,
//!   the number of one of its attempts, and the words it publishes
//!   ([`paxos`]).
//! - **slot**: a position of a Paxos log.
//! - **member** (`shm`): a process's claim on one participant of a shared
//!   file, held for as long as the process lives.
//!
//! # Participants and seats
//!
//! A bakery keeps registers per participant, so it must know who is calling,
//! and two threads acting as the same participant would break mutual
//! exclusion. `doorway` never takes a bare participant number from safe code.
//! There are two ways in:
//!
//! - [`Lock::participants`] borrows the lock mutably and hands out one
//!   [`Participant`] per number. The borrow makes them unique; no `std` and
//!   no read-modify-write are needed. A participant's guard borrows it
//!   mutably, so re-entry is a compile error.
//! - With `std`, [`Lock::lock`] works from any number of threads: each
//!   acquisition takes one of the lock's [`seats`] (the thread's own
//!   from last time, in one compare-and-swap) and gives it back on unlock.
//!
//! ```
//! use doorway::BakeryLock;
//!
//! // Two workers, a bakery with two participants.
//! let mut total = BakeryLock::<2, u64>::new(0);
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
//! # Waiting
//!
//! A waiter that is next in line spins briefly; one that is not yields its
//! core. With `std`, a waiter that has waited about 50 µs sleeps until the
//! participant just ahead of it moves, and each unlock wakes exactly the
//! waiter it lets through, so a holder that stays inside for milliseconds
//! costs its waiters one short spin each, not a core each. An unlock that
//! finds nobody asleep reads one more word; on Linux it needs no fence for
//! it (the sleepers' `membarrier` stands in), elsewhere one `SeqCst` fence.
//! Timed waits sleep until their deadline. Without `std` waiters spin with
//! backoff, and unlock is as it was.
//!
//! Each lock keeps its own count of sleepers (threads waiting for a seat
//! included), so threads asleep at one lock cost the unlocks of another
//! nothing. If `membarrier` fails after the process registered for it (a
//! seccomp filter installed later), unlockers may have skipped their fence,
//! so from then on a sleeper cannot trust a sleep to be woken: every sleeper
//! naps at most 1 ms and looks again. Waiting stays correct, but each sleeper
//! then wakes about a thousand times a second while it waits (16 sleepers
//! behind a 200 ms hold: about 3,000 wakes).
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
//! and every release/acquire ordering is removed or weakened in turn to show
//! that a model (or, where loom cannot see, Miri) then finds the defect. The
//! models live in the repository's `loom-tests/`; each fence carries a
//! comment naming the reordering it forbids.
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
//!   waits that sleep after a short spin (woken by the participant whose
//!   move lets them through; see the `sync` module's sleeping protocol in
//!   the source, and "Waiting" below), pinned per-core
//!   handles, and the Paxos log.
//! - `lock_api` (implies `std`): the `raw_mutex` module.
//! - `shm` (implies `std`): the `shm` module.
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

#[cfg(std_or_loom)]
extern crate std;

mod sync;

pub mod asynch;
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
#[cfg(robust)]
mod robust;
#[cfg(feature = "std")]
pub mod seats;
#[cfg(shared_file)]
#[cfg_attr(docsrs, doc(cfg(all(feature = "shm", unix))))]
pub mod shm;
#[cfg(target_has_atomic = "32")]
pub mod ticket;
pub mod tournament;

use bakery::Bakery;
use fastbakery::FastBakery;
pub use lock::{Guard, Lock, Participant};
use percore::PerCore;
use peterson::Peterson;
#[cfg(feature = "std")]
pub use raw::Seated;
pub use raw::{ConstInit, FifoLock, Participants, RawLock, Withdraw};
#[cfg(target_has_atomic = "32")]
use ticket::Ticket;
use tournament::Tournament;

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

/// Test hooks for doorway's own tests, loom models and benches, not part of
/// the API: they exist only with the private feature `__test_hooks`, which
/// only doorway's own test crates enable.
#[cfg(hooks)]
#[doc(hidden)]
pub mod __private {
    #[cfg(loom_hooks)]
    pub use crate::asynch::waker_slot::hooks as waker_slot;
    /// The async lock's waker slot: its named fences and orderings.
    pub use crate::asynch::{FENCES as ASYNC_FENCES, ORDERINGS as ASYNC_ORDERINGS};
    #[cfg(mutants)]
    pub use crate::paxos::flaw::{self, Flaw};
    pub use crate::paxos::hooks as paxos;
    /// The recovery protocol's named orderings (it is crate-private).
    #[cfg(robust)]
    pub use crate::robust::ORDERINGS as ROBUST_ORDERINGS;
    #[cfg(loom_hooks)]
    pub use crate::robust::hooks as robust;
    #[cfg(mutants)]
    pub use crate::sync::mutation::{self, Mutation};
    /// The sleeping protocol's named fences (it is crate-private).
    pub use crate::sync::sleep::FENCES as SLEEP_FENCES;
    #[cfg(loom_hooks)]
    pub use crate::sync::sleep::hooks as sleep;
    #[cfg(os_hooks)]
    pub use crate::sync::sleeping;
    pub use crate::sync::{Access, FenceSite, Why};
    #[cfg(loom_hooks)]
    pub use crate::sync::{sleep_in_models, spin_cap};
}

/// The README's Rust examples, compiled and run as doc tests so that the
/// front page cannot drift from the API (its `lock_api` example needs the
/// feature, so the whole README is tested with it).
#[cfg(all(doctest, feature = "lock_api"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
