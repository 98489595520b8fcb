//! A sequence of decisions: one [`PaxosRegister`] per slot, shared by `N`
//! replicas, with Multi-Paxos's stable leader: a replica that keeps winning
//! decides each next slot with phase 2 alone.
//!
//! # The algorithm
//!
//! Replica `i` keeps a cursor `next`, the first slot whose decision it has
//! not learned, and `leader`, the winner of the slot before it (replica 0 for
//! slot 0). To append a command `c`:
//!
//! ```text
//! loop:
//!     w := propose c in slot[next] as proposer i, ranked from `leader`
//!     next := next + 1;  leader := w
//!     if w = i: return the slot                      (c is decided there)
//!     else: c lost that slot to another replica's command; try the next one
//! ```
//!
//! *Ranked from the leader*: in each slot, the lowest ballot of all, the only
//! one that may skip phase 1 (nothing can have been voted below it), belongs
//! to the slot's leader; the other replicas' ballots follow in turn (see the
//! register's `Campaign`). So a replica that won slot `s` proposes in slot
//! `s + 1` with one block write, one fence and one read of the others, and
//! keeps doing so while it keeps winning, as a Multi-Paxos leader whose one
//! prepare covers every later slot. Another replica that appends meanwhile
//! runs both phases at a higher ballot, as a usurper does, and if it wins a
//! slot it leads the next.
//!
//! # Invariants
//!
//! 1. **Every replica sees the same sequence**: slot `s` holds the one value
//!    its register decided (the register's agreement).
//! 2. **A replica proposes in each slot at most once**: `next` only grows and
//!    it proposes only at `next`. So it is proposer `i` of every slot's
//!    register without ever reusing an index.
//! 3. **Decided slots form a prefix**: a replica proposes in slot `s + 1`
//!    only after learning the decision of slot `s`, so no slot is decided
//!    while an earlier one is still open.
//! 4. **A command is decided exactly once**: its replica proposes it slot
//!    after slot until the winner is itself, and then stops; a slot whose
//!    winner is another replica holds that replica's command, not this one.
//! 5. **Nobody blocks anybody**: a replica that stops forever in the middle of
//!    slot `s` leaves a register that the others still decide (the
//!    register's own guarantee); they pass it and go on. A stopped leader
//!    holds only the lowest ballot of one slot, which any usurper outbids;
//!    if its command still wins that slot (adopted from its vote), it is
//!    named leader of the next one too, where the others pay both phases
//!    once more, and the winner there leads from then on.
//! 6. **Every proposer of a slot agrees on its leader**: it is the winner of
//!    the slot before, which a replica has learned before it proposes
//!    (invariant 3), or replica 0 for slot 0. So each slot's ranks are one
//!    permutation of the replicas, its ballots are disjoint, and only the
//!    leader skips phase 1 there: the register's own invariants hold slot by
//!    slot.
//!
//! # Cost
//!
//! An append that wins its first slot costs one register decision: for the
//! slot's leader, one block write, one `SeqCst` fence and `N − 1` block reads
//! (phase 2 alone); for any other replica both phases. Under contention a
//! replica proposes in every slot that others fill before it, and learns
//! their commands on the way. Slots are allocated up front
//! ([`PaxosLog::with_capacity`]); an append past the last slot fails with
//! [`LogFull`].

use super::block::{BlockCell, NativeBlock};
use super::register::{PaxosRegister, Proposal};
use super::steps::{Steps, Unbounded, unstoppable};
use core::fmt;
use std::boxed::Box;

/// A fixed-capacity sequence of slots, each decided once by Paxos among `N`
/// replicas, with shared memory only.
///
/// ```
/// use doorway::paxos::log::PaxosLog;
///
/// let mut log = PaxosLog::<String, 2>::with_capacity(8);
/// let [mut a, mut b] = log.replicas();
/// std::thread::scope(|s| {
///     s.spawn(move || a.append("a1".to_string()).unwrap());
///     s.spawn(move || b.append("b1".to_string()).unwrap());
/// });
/// let entries: Vec<&String> = log.decided().collect();
/// assert_eq!(entries.len(), 2); // both commands, in one order for everyone
/// ```
pub struct PaxosLog<T, const N: usize, B: BlockCell = NativeBlock> {
    slots: Box<[PaxosRegister<T, N, B>]>,
    handed_out: bool,
}

impl<T, const N: usize, B: BlockCell> PaxosLog<T, N, B> {
    /// An empty log with room for `slots` decisions.
    pub fn with_capacity(slots: usize) -> Self {
        Self {
            slots: (0..slots).map(|_| PaxosRegister::new()).collect(),
            handed_out: false,
        }
    }

    /// How many decisions the log can hold.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Hands out the `N` replicas, numbered `0..N`, once.
    ///
    /// # Panics
    ///
    /// When called a second time: a replica's index must never propose twice
    /// in a slot, so replicas cannot be handed out again.
    #[track_caller]
    pub fn replicas(&mut self) -> [Replica<'_, T, N, B>; N] {
        assert!(
            !self.handed_out,
            "doorway: the replicas of this PaxosLog<_, {N}> were already handed out; \
             each index may append only through its one replica"
        );
        self.handed_out = true;
        let log: &Self = self;
        core::array::from_fn(|index| Replica {
            log,
            index,
            next: 0,
            leader: 0,
        })
    }

    /// Replica `index`, without the borrow that proves it unique.
    ///
    /// # Panics
    ///
    /// When `index ≥ N`.
    ///
    /// # Safety
    ///
    /// No other replica with the same `index` may ever exist for this log,
    /// including those handed out by [`replicas`](Self::replicas).
    #[track_caller]
    pub unsafe fn replica_unchecked(&self, index: usize) -> Replica<'_, T, N, B> {
        assert!(
            index < N,
            "replica {index} is out of range for a PaxosLog<_, {N}>"
        );
        Replica {
            log: self,
            index,
            next: 0,
            leader: 0,
        }
    }

    /// The command decided in `slot`, if any: one load.
    pub fn get(&self, slot: usize) -> Option<&T> {
        self.slots.get(slot)?.get()
    }

    /// The replica whose command was decided in `slot`, if any.
    pub fn author(&self, slot: usize) -> Option<usize> {
        self.slots.get(slot)?.winner()
    }

    /// The decided commands, in order (the decided slots form a prefix,
    /// invariant 3).
    pub fn decided(&self) -> impl Iterator<Item = &T> + '_ {
        (0..).map_while(move |slot| self.get(slot))
    }

    /// How many slots are decided, by binary search over the decided prefix
    /// (invariant 3): `O(log capacity)` loads. A snapshot.
    pub fn len(&self) -> usize {
        self.slots.partition_point(|slot| slot.winner().is_some())
    }

    /// Whether no slot is decided yet (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.get(0).is_none()
    }
}

impl<T, const N: usize, B: BlockCell> fmt::Debug for PaxosLog<T, N, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaxosLog")
            .field("capacity", &self.capacity())
            .field("decided", &self.len())
            .finish_non_exhaustive()
    }
}

/// One replica of a [`PaxosLog`]: appends commands as proposer `index` of
/// every slot.
///
/// Not `Clone`: an index has one owner. Send it to the thread that appends.
pub struct Replica<'l, T, const N: usize, B: BlockCell = NativeBlock> {
    log: &'l PaxosLog<T, N, B>,
    index: usize,
    /// The first slot whose decision this replica has not learned.
    next: usize,
    /// The leader of slot `next`: the winner of the slot before it (replica
    /// 0 for slot 0), whose lowest ballot skips phase 1 (invariant 6).
    leader: usize,
}

impl<'l, T, const N: usize, B: BlockCell> Replica<'l, T, N, B> {
    /// This replica's index, `0..N`.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The log this replica appends to.
    pub fn log(&self) -> &'l PaxosLog<T, N, B> {
        self.log
    }

    /// Every slot below this one is decided and was passed by this replica.
    pub fn next_slot(&self) -> usize {
        self.next
    }

    /// Appends `command` at the first slot it can win and returns that slot.
    /// Every slot before it is decided when this returns.
    ///
    /// Lock-free, like [`Proposer::propose`](super::register::Proposer::propose): no
    /// stalled replica can hold it up.
    ///
    /// # Errors
    ///
    /// [`LogFull`], with the command, when every slot is decided before the
    /// command wins one.
    pub fn append(&mut self, command: T) -> Result<usize, LogFull<T>>
    where
        T: Clone,
    {
        unstoppable(self.append_with(command, &mut Unbounded))
    }

    /// [`append`](Self::append) under a step budget. If the budget stops
    /// it, the replica is in the middle of a slot and must never be used
    /// again (it would propose in that slot a second time).
    pub(crate) fn append_with<S: Steps>(
        &mut self,
        command: T,
        steps: &mut S,
    ) -> Result<Result<usize, LogFull<T>>, S::Stop>
    where
        T: Clone,
    {
        loop {
            let slot = self.next;
            let Some(register) = self.log.slots.get(slot) else {
                return Ok(Err(LogFull(command)));
            };
            // SAFETY: this replica is the only one with its index (the
            // constructors' contract), and it proposes in `slot` once:
            // `next` moves past it right after (invariant 2).
            let proposer = unsafe { register.proposer_unchecked(self.index) };
            let leader = if flawed!(EveryReplicaLeads) {
                self.index
            } else {
                self.leader
            };
            let winner = Proposal::led_by(leader, proposer, command.clone()).finish_with(steps)?;
            self.next += 1;
            self.leader = winner;
            if winner == self.index {
                return Ok(Ok(slot));
            }
        }
    }
}

impl<T, const N: usize, B: BlockCell> fmt::Debug for Replica<'_, T, N, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replica")
            .field("index", &self.index)
            .field("next_slot", &self.next)
            .finish_non_exhaustive()
    }
}

/// [`Replica::append`] found every slot decided; the command comes back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LogFull<T>(pub T);

impl<T> fmt::Debug for LogFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogFull(..)")
    }
}

impl<T> fmt::Display for LogFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("every slot of the Paxos log is decided")
    }
}

impl<T> std::error::Error for LogFull<T> {}
