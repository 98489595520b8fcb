//! Sleeping until a participant moves, and waking exactly the waiters its
//! move lets through.
//!
//! # The protocol
//!
//! Each participant has a *wake word*: `0` while it is awake, `p + 1` while
//! it sleeps (or is about to) until participant `p` moves. A waiter sleeps on
//! the participant just ahead of it in its lock's order, so that each move
//! wakes at most the one waiter it lets through.
//!
//! ```text
//! sleeper s, blocked by p:                 mover p, after each store that may
//!                                          let a waiter through (exit, withdrawal):
//!   word[s] := p + 1                         fence WAKE
//!   fence SLEEP                              for every s with word[s] = p + 1:
//!   if still blocked by p:                       word[s] := 0
//!       wait while word[s] = p + 1               wake(word[s])
//!   word[s] := 0
//! ```
//!
//! `wait` and `wake` are the kernel's or the parking lot's: `wait` compares
//! the word and goes to sleep in one step with respect to `wake` (a futex's
//! compare-then-sleep, `parking_lot_core`'s validation under its bucket lock,
//! a loom condition variable in the models), and returns early when the
//! sleeper's nap is over.
//!
//! # Invariants
//!
//! 1. **No lost wakeup.** Sleeping and moving are each a store, a `SeqCst`
//!    fence, and a load of the other's word: store buffering, so at least
//!    one side sees the other's store. Either the sleeper's recheck sees the
//!    move and it does not sleep, or the mover sees `word[s] = p + 1` and
//!    clears and wakes it; clearing before waking makes a `wait` that starts
//!    after the clear return at once.
//! 2. **Every sleeper's `p` moves.** A lock puts a waiter to sleep on `p`
//!    only while `p` is ahead of it in line (or holds the lock), and every
//!    participant ahead eventually exits or withdraws, and runs the waking
//!    half right after.
//! 3. **Spurious wakes are harmless.** A woken sleeper looks at its lock
//!    again, and goes back to sleep if it is still blocked (naming whoever
//!    blocks it now). A mover that read a mark and clears it after the
//!    sleeper has woken and marked again only makes the sleeper look again.
//! 4. **No herd.** A move wakes only the waiters that named the mover; a
//!    lock whose waiters name the participant just ahead of them wakes one
//!    waiter per move.
//!
//! # Lobbies: waiters with no participant
//!
//! The ticket lock's waiters and threads waiting for a free seat have no
//! participant and no word of their own. They sleep in a [`Lobby`]: a count
//! of sleepers, and the kernel's or the parking lot's queue keyed by a word
//! of the lock, each sleeper with a token (its ticket). A sleeper counts
//! itself, fences (`LOBBY_SLEEP`), and sleeps only if, checked atomically
//! with the queue, it is still blocked; a mover stores, fences
//! (`LOBBY_WAKE`), and only if the count is not zero wakes the sleeper its
//! move lets through (the next ticket), or one sleeper (a freed seat). The
//! same store buffering as above makes a lost wakeup impossible; the count
//! keeps a move that nobody waits for at a fence and a load. A lobby is one
//! per lock, so that count is written only by that lock's sleepers; it is
//! written once (`lobby.rs`) over each environment's backend, the same code
//! on threads, in loom's models and (compiled to nothing) on bare targets.
//!
//! # Room for async
//!
//! A wake word names what its sleeper waits for; how the sleeper is woken
//! is the backend's ([`Parking`]). A task can take a thread's place by
//! marking its word with a tag and leaving its `Waker` where the mover finds
//! it; the mover's half is unchanged up to the call to `wake`.
//!
//! # Cost
//!
//! A move when nobody sleeps: the mover's fence and one load, of the lock's
//! count of sleepers (a line that only sleepers write). Where the process
//! has asymmetric fences (`membarrier`, Linux), the mover's fence is only a
//! compiler fence and the sleeper's system call does the work of both. A
//! sleep or a wake: a few system calls.

#[cfg(threads)]
mod membarrier;
#[cfg(threads)]
mod threads;
#[cfg(threads)]
use threads as env;
#[cfg(bare)]
mod bare;
#[cfg(bare)]
use bare as env;
#[cfg(loom)]
mod model;
#[cfg(loom)]
use model as env;

#[cfg(std_or_loom)]
mod protocol;
#[cfg(std_or_loom)]
mod words;

#[cfg(hooks)]
pub use protocol::FENCES;
#[cfg(shared_file)]
pub(crate) use protocol::{Parking, sleep_on, wake_sleepers_on};
#[cfg(std_or_loom)]
pub(crate) use words::{Beds, WakeWord, WakeWords, fence_before_waking};

#[cfg(any(std_or_loom, target_has_atomic = "32"))]
mod lobby;
#[cfg(not(std_or_loom))]
pub(crate) use env::{Beds, WakeWords, fence_before_waking};
#[cfg(any(std_or_loom, target_has_atomic = "32"))]
pub(crate) use lobby::Lobby;

/// The protocol's halves over two participants' wake words, for doorway's
/// loom models of it (with the test hooks): the very code the locks run.
#[cfg(loom_hooks)]
pub mod hooks {
    use super::WakeWords;
    use crate::sync::Nap;

    /// The wake words of participants 0 and 1.
    pub struct Pair(WakeWords<2>);

    impl Pair {
        /// Both awake.
        #[allow(clippy::new_without_default)]
        pub fn new() -> Self {
            Self(WakeWords::new())
        }

        /// Participant `me` sleeps until `on` moves, unless `still_blocked`
        /// says, after the announcement, that it has. Only inside
        /// `sleep_in_models::with`: elsewhere movers skip their fence, as
        /// they may where no waiter sleeps.
        #[track_caller]
        pub fn sleep(&self, me: usize, on: usize, still_blocked: impl FnOnce() -> bool) {
            assert!(
                crate::sync::wait::sleep_in_models::on(),
                "Pair::sleep outside sleep_in_models::with: its mover would not fence"
            );
            self.0.beds().sleep(me, on, still_blocked, Nap::Unbounded);
        }

        /// After `me`'s move: wakes whoever sleeps on `me`.
        pub fn wake_sleepers_on(&self, me: usize) {
            self.0.beds().wake_sleepers_on(me);
        }
    }
}
