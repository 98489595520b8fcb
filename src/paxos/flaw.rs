//! Deliberate flaws in the Paxos algorithm, compiled only in doorway's own loom
//! and Miri builds (with the test hooks), so that the models can show they
//! catch each one.
//!
//! The fence mutations of `sync::mutation` weaken
//! the memory ordering; these break the algorithm itself, one rule at a time.
//! Like the fence mutations, a flaw is switched on for the current OS thread
//! only (loom runs a whole model on the thread that calls it), for the
//! duration of a closure, and does not exist in a user's build.

use std::cell::Cell;

/// One broken rule of the algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flaw {
    /// Phase 2 decides right after writing the vote, without reading the
    /// other blocks again for a higher promise.
    SkipPhase2Reread,
    /// Phase 1 ignores the votes it read and proposes the proposer's own
    /// input, instead of the input of the highest-ballot vote.
    KeepOwnValue,
    /// Phase 1 adopts the input of the *lowest*-ballot vote it read instead
    /// of the highest.
    AdoptLowestVote,
    /// Every ballot skips phase 1, not only the lowest one (the classic
    /// "retry straight into phase 2, we know our value" bug).
    EveryBallotSkipsPhase1,
    /// In a [`PaxosLog`](crate::paxos::log::PaxosLog), every replica takes itself for the
    /// leader of every slot, and so for the owner of its lowest ballot: two
    /// replicas vote at ballot 1 in one slot.
    EveryReplicaLeads,
}

impl Flaw {
    /// Every flaw of the register.
    pub const ALL: [Flaw; 4] = [
        Flaw::SkipPhase2Reread,
        Flaw::KeepOwnValue,
        Flaw::AdoptLowestVote,
        Flaw::EveryBallotSkipsPhase1,
    ];

    /// Every flaw of the log.
    pub const LOG: [Flaw; 1] = [Flaw::EveryReplicaLeads];
}

std::thread_local! {
    static ACTIVE: Cell<Option<Flaw>> = const { Cell::new(None) };
}

/// Runs `f` with `flaw` in effect; it ends when `f` returns or unwinds.
pub fn with<R>(flaw: Flaw, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<Flaw>);
    impl Drop for Reset {
        fn drop(&mut self) {
            ACTIVE.with(|active| active.set(self.0));
        }
    }
    let _reset = Reset(ACTIVE.with(|active| active.replace(Some(flaw))));
    f()
}

/// Whether `flaw` is in effect.
pub(crate) fn active(flaw: Flaw) -> bool {
    ACTIVE.with(Cell::get) == Some(flaw)
}
