//! Agreement that no stalled thread can block: a Paxos register and a log.
//!
//! A lock makes threads take turns, so a thread that stops while holding it
//! (descheduled for good, stuck in a signal handler, killed) stops everyone.
//! A consensus object cannot work that way. [`PaxosRegister`](register::PaxosRegister) lets `N`
//! threads agree on one value by reading and writing shared memory only:
//! each attempt takes a bounded number of steps and waits for no one, so the
//! others decide whatever any thread does, and no two of them ever decide
//! differently, whatever the timing.
//!
//! - [`PaxosRegister<T, N>`](register::PaxosRegister): one decision among `N`
//!   proposers, single-disk Disk Paxos (Gafni and Lamport, 2003) with memory
//!   as the disk. See [`register`] for the algorithm and its proof.
//! - [`PaxosLog<T, N>`](log::PaxosLog) (`std`): a sequence of decisions, one
//!   register per slot, for replicated state machines. See [`log`].
//!
//! # Properties
//!
//! - **Agreement**: no two proposers decide different values.
//! - **Validity**: the decided value is one that was proposed.
//! - **Decided once**: once decided, every later proposal and
//!   [`decided`](register::PaxosRegister::decided) returns the same value.
//! - **Nothing blocks**: every attempt is a bounded number of loads and
//!   stores, and a proposer whose competitors have stopped decides within two
//!   attempts (obstruction freedom). Under contention, randomized exponential
//!   backoff separates dueling proposers, so that one of them soon runs
//!   alone and decides.
//! - **No read-modify-write**: loads, stores and fences only, so it runs on
//!   `thumbv6m` and `riscv32imc`.
//!
//! # Blocks
//!
//! Each proposer owns a block `(mbal, bal, inp)` that others must read whole.
//! Where the target has 64-bit atomics it is one word ([`WordBlock`](block::WordBlock));
//! elsewhere it is a [`LatchBlock`](latch::LatchBlock): two copies behind a sequence counter, so
//! that a writer stopped in the middle of a write still leaves a whole copy
//! to read. Values of any type live in write-once input cells, one per
//! proposer; blocks carry only their index.
//!
//! # Identity
//!
//! A ballot belongs to one proposer, and an index that proposed twice could
//! reuse a ballot with a different value. [`PaxosRegister::proposers`](register::PaxosRegister::proposers) hands
//! out the `N` [`Proposer`](register::Proposer)s once; proposing consumes the proposer; handing
//! them out again panics.

/// Whether a deliberate flaw is in effect (doorway's own loom and Miri builds
/// only; `false` and compiled away everywhere else).
macro_rules! flawed {
    ($flaw:ident) => {{
        #[cfg(mutants)]
        let active = crate::paxos::flaw::active(crate::paxos::flaw::Flaw::$flaw);
        #[cfg(not(mutants))]
        let active = false;
        active
    }};
}

mod backoff;
pub(crate) mod ballot;
pub mod block;
#[cfg(mutants)]
pub mod flaw;
#[cfg(hooks)]
pub mod hooks;
pub mod latch;
#[cfg(std_or_loom)]
pub mod log;
pub mod register;
pub(crate) mod steps;
