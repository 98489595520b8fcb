//! Participant slots whose owners may die, and a bakery that survives a dead
//! holder: the recovery protocol of the shared file ([`shm`](crate::shm)),
//! written once over where its words live ([`Slots`]) and over how death is
//! detected ([`Liveness`]), so that doorway's loom models run these very
//! functions with loom threads, where a "dead" participant is one stopped
//! forever in the middle of the protocol.
//!
//! # Slots
//!
//! Each participant slot has a claim word:
//!
//! ```text
//! 0                     free
//! OWNED | owner         owned by `owner` (in a file: pid and start time)
//! RECOVERING | owner    `owner` is clearing the registers of a dead owner
//! ```
//!
//! - **claim**: compare-and-swap `0 → OWNED | me`.
//! - **recover**: whoever reads `OWNED | x` or `RECOVERING | x` and learns
//!   that `x` is dead swaps that exact word to `RECOVERING | me`, clears the
//!   slot's bakery registers (the recovery rule below), then stores
//!   `OWNED | me` (it claims the slot for itself) or `0`.
//! - **release**: the owner, holding nothing, stores `0`.
//!
//! # The recovery rule
//!
//! For a dead owner of slot `j`:
//!
//! ```text
//! if inside[j] ≠ 0:  owner_died := 1     j died in the critical section
//! inside[j] := 0;  choosing[j] := 0;  number[j] := 0
//! ```
//!
//! A holder sets `inside[me] := 1` as soon as it has the lock and clears it
//! before its exit; it reads `owner_died` after setting it, and a holder that
//! finds it set is told that a previous holder died inside (the data may be
//! half-written). The flag stays set until a holder declares the data
//! consistent, so a holder that is itself killed before doing so passes the
//! news on. Clearing a dead participant's registers is exactly what Lamport
//! (1974) allows of a process that fails: its registers read 0 and the others
//! go on; to them it is a participant that came and went (the bakery's
//! invariant 6).
//!
//! # Invariants
//!
//! 1. **Owners are never confused**: an owner's identity names one life (a
//!    pid with the process's start time, never reused), and [`Liveness`]
//!    says `false` only for an owner that will never take another step.
//! 2. **One custodian per slot**: the slot's registers are written by its
//!    owner while the word is `OWNED | owner`, or by its recoverer while it
//!    is `RECOVERING | recoverer`, and by no one else. Every change of
//!    custodian is a compare-and-swap from the exact word read, or the
//!    custodian's own store, so two recoverers cannot both win, and a new
//!    owner can claim the slot only from `0` or from a dead custodian, that
//!    is once the registers are cleared (or their clearer has died, and the
//!    next recoverer clears them again: the rule is idempotent).
//! 3. **The news of a death inside is never lost**: `inside[j] ≠ 0` exactly
//!    while `j` holds the lock; its recoverer raises `owner_died` before it
//!    clears `number[j]`, and nobody else can enter until then.
//! 4. **Death is ordered after the dead owner's stores**: everything a dead
//!    owner stored happens before a [`Liveness`] answer of `false` (in a
//!    file: the kernel tears the process down before `/proc` stops showing
//!    it; in the models: the dead thread's last act is a release store the
//!    oracle reads with acquire).
//!
//! # Memory ordering
//!
//! No fences: every store-to-load pattern here goes through a
//! compare-and-swap, whose total order per word is all it needs. The
//! accesses are named [`Access`] constants below; the bakery's own stay as
//! they are.

use crate::bakery::over::{self as bakery, Registers};
use crate::paxos::steps::Steps;
use crate::sync::{
    Access, AtomicU32, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
};

/// An owner's identity: nonzero, at most [`ID_MASK`].
pub(crate) type Owner = u64;

/// The state in a claim word's top two bits.
const STATE: u64 = 0b11 << 62;
pub(crate) const OWNED: u64 = 0b01 << 62;
pub(crate) const RECOVERING: u64 = 0b10 << 62;
pub(crate) const FREE: u64 = 0;
/// The owner's identity in a claim word's low 62 bits.
pub(crate) const ID_MASK: u64 = !STATE;

/// A look at a claim word before asking whether its owner lives: in a file
/// it orders the owner's boot stamp, stored before its claim, before the
/// liveness check reads it.
pub(crate) const LOOK: Access = Access::redundant(
    "robust: look at a claim word",
    Acquire,
    "orders the file's boot stamp, which the models do not have; custody itself is \
     taken by compare-and-swap",
);

/// Taking a slot, free or from a dead custodian: the acquire half sees the
/// previous custodian's last store to the slot (its release, or a recovery's
/// hand-back), so its use of the registers happens before ours; the release
/// half publishes the boot stamp stored just before.
///
/// The ordering sweep weakens it one step, to `Acquire`, which drops only the
/// release half: the models have no boot stamp to miss.
const TAKE: Access = Access::redundant(
    "robust: take a slot (compare-and-swap to owned or recovering)",
    AcqRel,
    "its release half publishes the file's boot stamp, which the models do not have",
);

/// Giving a slot back (`0`), or handing a recovered one to its recoverer:
/// the next taker's `TAKE` must see every register store before it.
const HAND_BACK: Access = Access::edge("robust: give a slot back", Release);

/// A recoverer's `choosing[j] := 0`. A waiter passing on it reads
/// `number[j]` next, whose clearing follows in program order and carries
/// the edge.
const RECOVER_CHOOSING: Access = Access::redundant(
    "robust: recovery clears choosing",
    Release,
    "the clearing of number right after it carries the edge to every waiter",
);

/// A recoverer's `number[j] := 0`: the next holder passes on it and must see
/// `owner_died` raised before it, and, through the death edge (invariant 4),
/// the dead holder's half-written data.
const RECOVER_NUMBER: Access = Access::edge("robust: recovery clears number", Release);

/// Every named ordering of the recovery protocol, for doorway's ordering
/// sweep.
#[cfg(doorway_mutants)]
pub const ORDERINGS: [Access; 5] = [LOOK, TAKE, HAND_BACK, RECOVER_CHOOSING, RECOVER_NUMBER];

/// Where the slots, their bakery registers, the `inside` words and the
/// `owner_died` flag live.
pub(crate) trait Slots {
    /// The bakery's registers, one participant per slot.
    type Registers: Registers + ?Sized;

    /// How many slots.
    fn len(&self) -> usize;
    /// Slot `i`'s claim word.
    fn claim_word(&self, i: usize) -> &AtomicU64;
    /// The bakery's registers.
    fn registers(&self) -> &Self::Registers;
    /// `inside[i]`: nonzero while slot `i`'s owner holds the lock.
    fn inside(&self, i: usize) -> &AtomicU32;
    /// Raised when a holder died in the critical section.
    fn owner_died(&self) -> &AtomicU32;
    /// Called by a claimant just before its compare-and-swap on slot `i`
    /// (the file stamps the current boot there).
    fn stamp(&self, _i: usize) {}

    /// doorway's own loom models only: who has custody of slot `i`, in a
    /// cell loom checks, written by each custodian as it takes the slot and
    /// read as it lets go. Two custodians whose turns are not ordered by
    /// happens-before (a recovery racing a new owner, or two recoverers)
    /// are a causality violation.
    #[cfg(all(loom, doorway_mutants))]
    fn custody(&self, i: usize) -> &crate::sync::UnsafeCell<Owner>;
}

/// How a recoverer learns that an owner is dead.
pub(crate) trait Liveness {
    /// Whether `owner`, the owner or recoverer named by slot `i`'s claim
    /// word, may still take a step. `false` must be final, and everything
    /// that owner stored must happen before the call that returns it
    /// (invariant 4).
    fn is_alive(&self, i: usize, owner: Owner) -> bool;
}

/// Records `me` as slot `i`'s custodian (loom models only).
#[inline(always)]
fn take_custody<S: Slots + ?Sized>(slots: &S, i: usize, me: Owner) {
    #[cfg(all(loom, doorway_mutants))]
    // SAFETY: a loom-checked cell; loom reports any access that is not
    // ordered after the previous custodian's, which is the point.
    slots.custody(i).with_mut(|who| unsafe { *who = me });
    #[cfg(not(all(loom, doorway_mutants)))]
    let _ = (slots, i, me);
}

/// Checks that `me` still has custody of slot `i` (loom models only).
#[inline(always)]
fn check_custody<S: Slots + ?Sized>(slots: &S, i: usize, me: Owner) {
    #[cfg(all(loom, doorway_mutants))]
    {
        // SAFETY: as in `take_custody`.
        let who = slots.custody(i).with(|who| unsafe { *who });
        assert_eq!(
            who, me,
            "mutual exclusion violated: slot {i} changed custodian mid-turn"
        );
    }
    #[cfg(not(all(loom, doorway_mutants)))]
    let _ = (slots, i, me);
}

/// How a slot was claimed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Claimed {
    /// It was free.
    Free,
    /// Its owner had died; the claimant cleared its registers first.
    FromDead(Owner),
}

/// Claims slot `i` for `me`: from free, or from a dead custodian after
/// clearing its registers. `None` if a live owner or recoverer has it, or
/// another claimant won the race.
pub(crate) fn claim<S: Slots + ?Sized, L: Liveness + ?Sized>(
    slots: &S,
    live: &L,
    i: usize,
    me: Owner,
) -> Option<Claimed> {
    debug_assert!(me != 0 && me & STATE == 0);
    let word = slots.claim_word(i).load(LOOK.order());
    if word == FREE {
        slots.stamp(i);
        // The failure ordering reads nothing we rely on.
        let taken = slots
            .claim_word(i)
            .compare_exchange(FREE, OWNED | me, TAKE.order(), Relaxed);
        if taken.is_ok() {
            take_custody(slots, i, me);
            return Some(Claimed::Free);
        }
        return None;
    }
    let dead = word & ID_MASK;
    if live.is_alive(i, dead) {
        return None;
    }
    recover(slots, i, word, me, true).then_some(Claimed::FromDead(dead))
}

/// Recovers slot `i` if its custodian is dead, leaving it free; `true` if
/// this call did.
pub(crate) fn recover_if_dead<S: Slots + ?Sized, L: Liveness + ?Sized>(
    slots: &S,
    live: &L,
    i: usize,
    me: Owner,
) -> bool {
    let word = slots.claim_word(i).load(LOOK.order());
    word != FREE && !live.is_alive(i, word & ID_MASK) && recover(slots, i, word, me, false)
}

/// Takes custody of slot `i` from the dead custodian named by `word`, clears
/// its registers by the recovery rule, and then owns the slot (`keep`) or
/// frees it. `false` if someone else changed the word first.
fn recover<S: Slots + ?Sized>(slots: &S, i: usize, word: u64, me: Owner, keep: bool) -> bool {
    let claim = slots.claim_word(i);
    // Even a recoverer that frees the slot stamps it: while the word names
    // it, others judge it by the stamp.
    slots.stamp(i);
    if claim
        .compare_exchange(word, RECOVERING | me, TAKE.order(), Relaxed)
        .is_err()
    {
        return false;
    }
    take_custody(slots, i, me);
    let r = slots.registers();
    // Relaxed: `inside[i]` belongs to a dead owner, whose stores all happen
    // before its death was reported (invariant 4).
    if slots.inside(i).load(Relaxed) != 0 {
        // Relaxed: the next holder reads it after passing `number[i]`, whose
        // clearing below is `Release` (invariant 3).
        slots.owner_died().store(1, Relaxed);
    }
    // Relaxed: read only by this slot's custodians, who take it by `TAKE`.
    slots.inside(i).store(0, Relaxed);
    r.choosing(i).store(0, RECOVER_CHOOSING.order());
    r.number(i).store(0, RECOVER_NUMBER.order());
    check_custody(slots, i, me);
    claim.store(if keep { OWNED | me } else { FREE }, HAND_BACK.order());
    true
}

/// Gives slot `me`, owned by `owner` and holding no ticket, back; `false`
/// if the claim word no longer names `owner` (someone wrote over it).
pub(crate) fn release<S: Slots + ?Sized>(slots: &S, me: usize, owner: Owner) -> bool {
    check_custody(slots, me, owner);
    // The failure ordering reads nothing we rely on.
    slots
        .claim_word(me)
        .compare_exchange(OWNED | owner, FREE, HAND_BACK.order(), Relaxed)
        .is_ok()
}

/// Looks at every other slot, recovering those whose custodian is dead; what
/// a waiter does now and then, so that a dead holder or waiter (whose ticket
/// or `choosing` would block it forever) is cleared away.
fn recover_the_dead<S: Slots + ?Sized, L: Liveness + ?Sized>(
    slots: &S,
    live: &L,
    me: usize,
    owner: Owner,
) {
    for j in (0..slots.len()).filter(|&j| j != me) {
        recover_if_dead(slots, live, j, owner);
    }
}

/// Turns of a wait between two looks for dead participants: a look reads
/// `/proc` once per slot (a few microseconds), a turn of a long wait is about
/// one `yield_now`. Under loom, every turn.
#[cfg(not(loom))]
const RECHECK_EVERY: u32 = 256;
#[cfg(loom)]
const RECHECK_EVERY: u32 = 1;

/// Acquires the bakery as the owner of slot `me`, recovering dead
/// participants it finds in its way. Returns whether a previous holder died
/// in the critical section and no holder has declared the data consistent
/// since. Each `steps.take()` is a point where a test may stop the owner for
/// good.
pub(crate) fn lock<S, L, St>(
    slots: &S,
    live: &L,
    me: usize,
    owner: Owner,
    steps: &mut St,
) -> Result<bool, St::Stop>
where
    S: Slots + ?Sized,
    L: Liveness + ?Sized,
    St: Steps,
{
    check_custody(slots, me, owner);
    let r = slots.registers();
    let mut turns = 0u32;
    let mut look_for_the_dead = || {
        turns = turns.wrapping_add(1);
        if turns.is_multiple_of(RECHECK_EVERY) {
            recover_the_dead(slots, live, me, owner);
        }
        false
    };
    steps.take()?;
    let ticket = bakery::doorway(r, me, &mut look_for_the_dead)
        .unwrap_or_else(|| unreachable!("never gives up"));
    steps.take()?;
    bakery::wait_turn(r, me, ticket, &mut look_for_the_dead);
    steps.take()?;
    // Relaxed: read only by a recoverer of this slot, after this owner died
    // (invariant 4).
    slots.inside(me).store(1, Relaxed);
    // Relaxed: raised before the `number` store this acquisition passed on,
    // or by a holder before its exit; either way ordered by the lock.
    Ok(slots.owner_died().load(Relaxed) != 0)
}

/// Releases the bakery held by the owner of slot `me`.
pub(crate) fn unlock<S: Slots + ?Sized, St: Steps>(
    slots: &S,
    me: usize,
    owner: Owner,
    steps: &mut St,
) -> Result<(), St::Stop> {
    check_custody(slots, me, owner);
    steps.take()?;
    // Relaxed: as in `lock`; a recoverer that reads 0 here knows the critical
    // section ended, and the exit's `Release` below publishes it.
    slots.inside(me).store(0, Relaxed);
    steps.take()?;
    bakery::unlock(slots.registers(), me);
    Ok(())
}

/// Clears `owner_died`: the holder declares the data consistent.
pub(crate) fn consistent<S: Slots + ?Sized>(slots: &S) {
    // Relaxed: written by the holder only; the next holder reads it after
    // acquiring the lock, which orders it.
    slots.owner_died().store(0, Relaxed);
}

/// Whether anyone holds a ticket or is choosing one.
pub(crate) fn is_locked<S: Slots + ?Sized>(slots: &S) -> bool {
    bakery::is_locked(slots.registers())
}

/// In-process slots and an oracle of deaths, for doorway's loom models of
/// the recovery protocol (`--cfg loom --cfg doorway_mutants`): the very
/// functions above, with loom threads as owners.
#[cfg(all(loom, doorway_mutants, feature = "std"))]
pub mod hooks {
    use super::*;
    use crate::paxos::steps::{HaltAfter, Halted, Unbounded, unstoppable};
    use crate::sync::{AtomicU8, UnsafeCell};

    /// `N` slots, their bakery registers, and an oracle of which owners are
    /// dead (owners are `1..=OWNERS`).
    pub struct Model<const N: usize> {
        claims: [AtomicU64; N],
        choosing: [AtomicU8; N],
        number: [AtomicU32; N],
        inside: [AtomicU32; N],
        owner_died: AtomicU32,
        custody: [UnsafeCell<Owner>; N],
        dead: [AtomicU8; OWNERS],
    }

    /// Owners a model can name.
    pub const OWNERS: usize = 4;

    // SAFETY: the custody cells are loom-checked; loom reports any pair of
    // accesses not ordered by happens-before, which is what they are for.
    unsafe impl<const N: usize> Sync for Model<N> {}

    impl<const N: usize> Registers for Model<N> {
        fn len(&self) -> usize {
            N
        }
        fn choosing(&self, i: usize) -> &AtomicU8 {
            &self.choosing[i]
        }
        fn number(&self, i: usize) -> &AtomicU32 {
            &self.number[i]
        }
        fn ticket_limit(&self) -> u32 {
            bakery::TICKET_LIMIT
        }
    }

    impl<const N: usize> Slots for Model<N> {
        type Registers = Self;
        fn len(&self) -> usize {
            N
        }
        fn claim_word(&self, i: usize) -> &AtomicU64 {
            &self.claims[i]
        }
        fn registers(&self) -> &Self {
            self
        }
        fn inside(&self, i: usize) -> &AtomicU32 {
            &self.inside[i]
        }
        fn owner_died(&self) -> &AtomicU32 {
            &self.owner_died
        }
        fn custody(&self, i: usize) -> &UnsafeCell<Owner> {
            &self.custody[i]
        }
    }

    impl<const N: usize> Liveness for Model<N> {
        fn is_alive(&self, _i: usize, owner: Owner) -> bool {
            // Acquire: the dead owner's last act was a release store of its
            // flag (invariant 4).
            self.dead[owner as usize - 1].load(Acquire) == 0
        }
    }

    impl<const N: usize> Model<N> {
        /// Free slots, no one dead.
        #[allow(clippy::new_without_default)]
        pub fn new() -> Self {
            Self {
                claims: core::array::from_fn(|_| AtomicU64::new(FREE)),
                choosing: core::array::from_fn(|_| AtomicU8::new(0)),
                number: core::array::from_fn(|_| AtomicU32::new(0)),
                inside: core::array::from_fn(|_| AtomicU32::new(0)),
                owner_died: AtomicU32::new(0),
                custody: core::array::from_fn(|_| UnsafeCell::new(0)),
                dead: core::array::from_fn(|_| AtomicU8::new(0)),
            }
        }

        /// [`claim`](super::claim): `Some(None)` for a free slot,
        /// `Some(Some(dead))` for one taken from a dead owner.
        pub fn claim(&self, slot: usize, owner: Owner) -> Option<Option<Owner>> {
            super::claim(self, self, slot, owner).map(|claimed| match claimed {
                Claimed::Free => None,
                Claimed::FromDead(dead) => Some(dead),
            })
        }

        /// [`recover_if_dead`](super::recover_if_dead).
        pub fn recover_if_dead(&self, slot: usize, owner: Owner) -> bool {
            super::recover_if_dead(self, self, slot, owner)
        }

        /// [`lock`](super::lock) under a budget of steps: whether a holder
        /// died inside, or `Halted` if the budget ran out first.
        pub fn lock(&self, slot: usize, owner: Owner, budget: &mut Budget) -> Result<bool, Halted> {
            super::lock(self, self, slot, owner, &mut budget.0)
        }

        /// [`unlock`](super::unlock) under a budget of steps.
        pub fn unlock(&self, slot: usize, owner: Owner, budget: &mut Budget) -> Result<(), Halted> {
            super::unlock(self, slot, owner, &mut budget.0)
        }

        /// [`lock`](super::lock) with no budget.
        pub fn lock_whole(&self, slot: usize, owner: Owner) -> bool {
            unstoppable(super::lock(self, self, slot, owner, &mut Unbounded))
        }

        /// [`unlock`](super::unlock) with no budget.
        pub fn unlock_whole(&self, slot: usize, owner: Owner) {
            unstoppable(super::unlock(self, slot, owner, &mut Unbounded));
        }

        /// [`consistent`](super::consistent).
        pub fn consistent(&self) {
            super::consistent(self);
        }

        /// [`release`](super::release).
        pub fn release(&self, slot: usize, owner: Owner) -> bool {
            super::release(self, slot, owner)
        }

        /// Leaves slot `slot`'s registers as a doorway killed after its first
        /// store leaves them (`choosing = 1`), and with a ticket too if
        /// `ticket` (killed before its last store, `choosing := 0`).
        pub fn stop_in_doorway(&self, slot: usize, ticket: bool) {
            self.choosing[slot].store(1, Relaxed);
            if ticket {
                self.number[slot].store(1, Relaxed);
            }
        }

        /// `owner` dies: its last act, which the oracle reads (invariant 4).
        pub fn die(&self, owner: Owner) {
            self.dead[owner as usize - 1].store(1, Release);
        }

        /// Whether the lock looks free and every slot is free (after a run).
        pub fn is_quiet(&self) -> bool {
            !super::is_locked(self) && self.claims.iter().all(|c| c.load(Relaxed) == FREE)
        }
    }

    /// A budget of steps: [`Model::lock`] and [`Model::unlock`] stop for
    /// good after it runs out.
    pub struct Budget(HaltAfter);

    impl Budget {
        /// `steps` steps in all.
        pub fn new(steps: usize) -> Self {
            Self(HaltAfter::new(steps))
        }
    }
}
