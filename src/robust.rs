//! Participants whose owners may die, and a bakery that survives a dead
//! holder: the recovery protocol of the shared file ([`shm`](crate::shm)),
//! written once over where its words live ([`Claims`]) and over who holds a
//! participant ([`Custody`]), so that doorway's loom models run these very
//! functions with loom threads, where a "dead" participant is one stopped
//! forever in the middle of the protocol.
//!
//! # Custody
//!
//! Each participant has at most one *custodian*: its owner, or a survivor clearing
//! the registers of a dead owner. Custody is not decided here, it is asked
//! of [`Custody`]: in a file, a lock the kernel keeps on one byte per participant
//! (see `shm::custody`), which the kernel gives back only when the holder
//! lets go, exits, is killed or execs. Nobody here decides that a process is
//! dead; a survivor learns it by being granted the dead one's byte, and being
//! granted it is custody.
//!
//! - **claim**: take the participant's byte without waiting. Refused: someone alive
//!   has the participant. Granted: if the claim word is not free, the previous
//!   custodian stopped without finishing (died owning it, or died
//!   recovering it), so apply the recovery rule first; then write its `owner` word into
//!   the claim word and keep the byte for as long as the participant is owned.
//! - **recover** (a waiter, or a supervisor): take the byte of a participant in its
//!   way without waiting; granted and not free: apply the recovery rule,
//!   write free, give the byte back.
//! - **release**: the owner, holding nothing, writes free and gives the byte
//!   back.
//!
//! The claim word (`0` free, else the owner's identity; in a file its pid)
//! is written only by the custodian. It decides nothing about liveness: it
//! says whether the registers may need clearing and, for reports, who owned
//! the participant.
//!
//! # The recovery rule
//!
//! For a participant `j` whose custodian is gone:
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
//! invariant 6). The rule is idempotent: a recoverer that dies half-way
//! leaves the claim word as it found it, and the next custodian clears
//! again.
//!
//! # Invariants
//!
//! 1. **One custodian per participant, by the kernel's word**: [`Custody::try_take`]
//!    grants participant `i` to one taker at a time, and only once the previous
//!    custodian has given it back or will never take another step.
//! 2. **Only the custodian writes a participant's words**: the claim word,
//!    `inside[i]`, `choosing[i]` and `number[i]` are written by participant `i`'s
//!    custodian only. So a live owner's registers are never cleared, and two
//!    recoverers never interleave.
//! 3. **The news of a death inside is never lost**: `inside[j] ≠ 0` exactly
//!    while `j` holds the lock; its recoverer raises `owner_died` before it
//!    clears `number[j]`, and nobody else can enter until then.
//! 4. **A grant is ordered after the previous custodian's stores**: every
//!    store the previous custodian made happens before the grant returns (in
//!    a file: the kernel releases a dead process's locks only after its last
//!    step, and its lock operations are ordered by the kernel's own lock; in
//!    the models: an `Acquire` grant reads the `Release` give-back).
//! 5. **The owner writes its identity before touching the registers, and
//!    free only once they are quiet**; a recoverer writes free only after
//!    clearing them. So a participant granted with a free claim word has clear
//!    registers.
//!
//! # Memory ordering
//!
//! No fences and no compare-and-swap: custody orders everything a custodian
//! does before the next custodian's turn (invariant 4), so the claim word
//! and `inside` are `Relaxed`. The accesses a *waiter* passes on are named
//! [`Access`] constants below; the bakery's own stay as they are.

use crate::bakery::over::{self, Registers};
use crate::paxos::steps::Steps;
use crate::sync::{
    Access, AtomicU32, AtomicU64, Nap,
    Ordering::{Relaxed, Release},
    Patience,
};
use core::time::Duration;

/// A custodian's identity in a claim word: nonzero.
pub(crate) type Owner = u64;

/// The claim word of a free participant.
pub(crate) const FREE: u64 = 0;

/// A recoverer's `choosing[j] := 0`. A waiter passing on it reads
/// `number[j]` next, whose clearing follows in program order and carries
/// the edge.
const RECOVER_CHOOSING: Access = Access::redundant(
    "robust: recovery clears choosing",
    Release,
    "the clearing of number right after it carries the edge to every waiter",
);

/// A recoverer's `number[j] := 0`: the next holder passes on it and must see
/// `owner_died` raised before it, and, through the grant (invariant 4), the
/// dead holder's half-written data.
const RECOVER_NUMBER: Access = Access::edge("robust: recovery clears number", Release);

/// Every named ordering of the recovery protocol, for doorway's ordering
/// sweep.
#[cfg(hooks)]
pub const ORDERINGS: [Access; 2] = [RECOVER_CHOOSING, RECOVER_NUMBER];

/// Where the claim words, the bakery registers, the `inside` words and the
/// `owner_died` flag live.
pub(crate) trait Claims {
    /// The bakery's registers, of the same participants.
    type Registers: Registers + ?Sized;

    /// How many participants.
    fn len(&self) -> usize;
    /// Participant `i`'s claim word.
    fn claim_word(&self, i: usize) -> &AtomicU64;
    /// The bakery's registers.
    fn registers(&self) -> &Self::Registers;
    /// `inside[i]`: nonzero while participant `i`'s owner holds the lock.
    fn inside(&self, i: usize) -> &AtomicU32;
    /// Raised when a holder died in the critical section.
    fn owner_died(&self) -> &AtomicU32;

    /// Whether anyone may be asleep in the bakery (a hint, read `Relaxed`).
    fn anyone_asleep(&self) -> bool {
        false
    }

    /// Wakes whoever sleeps on participant `on`, so that it looks at its
    /// place in line again: a nudge that shortens a sleep, never the wake a
    /// sleeper relies on (see [`LONGEST_DEEP_SLEEP`]).
    fn nudge_sleepers_on(&self, on: usize) {
        let _ = on;
    }

    /// doorway's own loom models only: who has custody of participant `i`, in a
    /// cell loom checks, written by each custodian as it takes the participant and
    /// read as it lets go. Two custodians whose turns are not ordered by
    /// happens-before (a recovery racing a new owner, or two recoverers)
    /// are a causality violation.
    #[cfg(loom_hooks)]
    fn custody(&self, i: usize) -> &crate::sync::UnsafeCell<Owner>;
}

/// Who holds a participant: the one authority on whether a custodian is gone.
pub(crate) trait Custody {
    /// Why asking failed (the system refused to answer).
    type Error;

    /// Takes custody of participant `i` without waiting: `Ok(true)` if granted
    /// (nobody holds it, and whoever held it will never take another step),
    /// `Ok(false)` if someone holds it. A grant happens after every store of
    /// the previous custodian (invariant 4).
    fn try_take(&self, i: usize) -> Result<bool, Self::Error>;

    /// Gives custody of participant `i` back; everything stored before happens
    /// before the next grant.
    fn give_back(&self, i: usize);

    /// Whether asking has met something that keeps it from ever learning of
    /// a death (in a file: a lock no member places, or a path that names
    /// another file): a waiter then gives up rather than stall unawares.
    fn stuck(&self) -> bool {
        false
    }
}

/// Records `owner` as participant `i`'s custodian (loom models only).
#[inline(always)]
fn take_custody<S: Claims + ?Sized>(claims: &S, i: usize, owner: Owner) {
    #[cfg(loom_hooks)]
    // SAFETY: a loom-checked cell; loom reports any access that is not
    // ordered after the previous custodian's, which is the point.
    claims.custody(i).with_mut(|who| unsafe { *who = owner });
    #[cfg(not(loom_hooks))]
    let _ = (claims, i, owner);
}

/// Checks that `owner` still has custody of participant `i` (loom models only).
#[inline(always)]
fn check_custody<S: Claims + ?Sized>(claims: &S, i: usize, owner: Owner) {
    #[cfg(loom_hooks)]
    {
        // SAFETY: as in `take_custody`.
        let who = claims.custody(i).with(|who| unsafe { *who });
        assert_eq!(
            who, owner,
            "mutual exclusion violated: participant {i} changed custodian mid-turn"
        );
    }
    #[cfg(not(loom_hooks))]
    let _ = (claims, i, owner);
}

/// How a participant was claimed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Claimed {
    /// It was free.
    Free,
    /// Its custodian had stopped owning it (named by the claim word); the
    /// claimant cleared its registers first.
    FromDead(Owner),
}

/// Claims participant `i` for `owner` (nonzero): `Ok(None)` if someone holds it.
pub(crate) fn claim<S, C, St>(
    claims: &S,
    custody: &C,
    i: usize,
    owner: Owner,
    steps: &mut St,
) -> Result<Result<Option<Claimed>, C::Error>, St::Stop>
where
    S: Claims + ?Sized,
    C: Custody + ?Sized,
    St: Steps,
{
    debug_assert!(owner != FREE);
    match custody.try_take(i) {
        Ok(true) => {}
        Ok(false) => return Ok(Ok(None)),
        Err(e) => return Ok(Err(e)),
    }
    take_custody(claims, i, owner);
    let claimed = match clear_if_stopped(claims, i, steps)? {
        None => Claimed::Free,
        Some(dead) => Claimed::FromDead(dead),
    };
    steps.take()?;
    // Relaxed: read by the next custodian only, after its grant (invariant
    // 4); written before any register (invariant 5).
    claims.claim_word(i).store(owner, Relaxed);
    Ok(Ok(Some(claimed)))
}

/// Recovers participant `i` if its custodian is gone, leaving it free; `true` if
/// this call cleared a stopped custodian's registers. `owner` only names the
/// recoverer in the models' custody cells.
pub(crate) fn recover_if_dead<S, C, St>(
    claims: &S,
    custody: &C,
    i: usize,
    owner: Owner,
    steps: &mut St,
) -> Result<bool, St::Stop>
where
    S: Claims + ?Sized,
    C: Custody + ?Sized,
    St: Steps,
{
    // Refused, or no answer: someone may be alive there, so leave it.
    if custody.try_take(i).unwrap_or(false) {
        take_custody(claims, i, owner);
        let recovered = clear_if_stopped(claims, i, steps)?.is_some();
        if recovered {
            steps.take()?;
            // Relaxed: as in `claim`; after the clearing (invariant 5).
            claims.claim_word(i).store(FREE, Relaxed);
        }
        check_custody(claims, i, owner);
        custody.give_back(i);
        return Ok(recovered);
    }
    Ok(false)
}

/// In custody of participant `i`: if its claim word names a custodian, that one
/// stopped without finishing, so apply the recovery rule; returns whom it
/// named. The claim word is left as it was (invariant 5: free is written
/// only after the clearing).
fn clear_if_stopped<S: Claims + ?Sized, St: Steps>(
    claims: &S,
    i: usize,
    steps: &mut St,
) -> Result<Option<Owner>, St::Stop> {
    steps.take()?;
    // Relaxed: the previous custodian's stores happen before our grant
    // (invariant 4).
    let word = claims.claim_word(i).load(Relaxed);
    if word == FREE {
        return Ok(None); // clear already (invariant 5)
    }
    let r = claims.registers();
    steps.take()?;
    // Relaxed: as above.
    if claims.inside(i).load(Relaxed) != 0 {
        steps.take()?;
        // Relaxed: the next holder reads it after passing `number[i]`, whose
        // clearing below is `Release` (invariant 3).
        claims.owner_died().store(1, Relaxed);
    }
    steps.take()?;
    // Relaxed: read only by this participant's custodians (invariant 4).
    claims.inside(i).store(0, Relaxed);
    steps.take()?;
    r.choosing(i).store(0, RECOVER_CHOOSING.order());
    steps.take()?;
    r.number(i).store(0, RECOVER_NUMBER.order());
    // The dead will not wake whoever sleeps behind it: its heir does, as
    // its exit would have (a sleeper's bounded sleep is only the backstop).
    r.wake_sleepers_on(i);
    Ok(Some(word))
}

/// Gives participant `i`, owned by `owner` and holding no ticket, back.
pub(crate) fn release<S: Claims + ?Sized, C: Custody + ?Sized>(
    claims: &S,
    custody: &C,
    i: usize,
    owner: Owner,
) {
    check_custody(claims, i, owner);
    // Relaxed: the give-back orders it before the next grant (invariant 4).
    claims.claim_word(i).store(FREE, Relaxed);
    custody.give_back(i);
}

/// Asks the kernel about the participants whose death could hold `me` up
/// for good, and recovers those whose custodian is gone: the head of the
/// line (the smallest ticket other than `me`'s), and every participant in its
/// doorway. What a waiter does now and then, so that a dead holder or waiter
/// (whose ticket or `choosing` would block the line forever) is cleared away.
///
/// Only the head is asked among the ticket holders: a dead participant
/// further back blocks nobody until every ticket ahead of it has gone, and
/// then it is the head, asked by every waiter's next look. A look is then
/// a system call or two, not one per participant in the way, so n waiters
/// that look every few milliseconds cost O(n) calls, not O(n²). Claims out of the way are not
/// touched, so a waiter never holds up a process that is claiming a free
/// participant. Whom to ask is a hint; only custody decides who is dead.
fn recover_the_dead<S: Claims + ?Sized, C: Custody + ?Sized>(
    claims: &S,
    custody: &C,
    me: usize,
    owner: Owner,
) {
    let r = claims.registers();
    let others = (0..claims.len()).filter(|&j| j != me);
    // Relaxed, here and below: only hints of whom to ask; custody decides.
    let head = others
        .clone()
        .map(|j| (r.number(j).load(Relaxed), j))
        .filter(|&(ticket, _)| ticket != 0)
        .min()
        .map(|(_, j)| j);
    for j in others {
        if Some(j) == head || r.choosing(j).load(Relaxed) != 0 {
            let done = recover_if_dead(
                claims,
                custody,
                j,
                owner,
                &mut crate::paxos::steps::Unbounded,
            );
            crate::paxos::steps::unstoppable(done);
        }
    }
}

/// Turns of a wait between two looks for dead participants: a look asks
/// the kernel about the head of the line and anyone in a doorway (in a
/// file, a few system calls, some microseconds: a description is opened for
/// each), a turn of a spinning wait is about one `yield_now`; a wait that
/// sleeps looks before and after every sleep. Under loom, every turn.
#[cfg(not(loom))]
const RECHECK_EVERY: u32 = 256;
#[cfg(loom)]
const RECHECK_EVERY: u32 = 1;

/// The turn of a wait's first look, sooner than [`RECHECK_EVERY`]: a waiter
/// that meets a dead holder's ticket as it arrives clears it after a short
/// spin, and one behind a live holder pays one look early.
#[cfg(not(loom))]
const FIRST_LOOK: u32 = 64;
#[cfg(loom)]
const FIRST_LOOK: u32 = 1;

/// The longest a waiter near the head of the line sleeps before it looks
/// for the dead again: a holder killed between its exit and its wake, or in
/// its critical section, wakes nobody, and neither does a waiter killed
/// while the holder ahead of it was inside. So a sleeper with at most
/// [`NEAR_THE_HEAD`] tickets ahead of it sleeps this long at most.
pub(crate) const LONGEST_SLEEP: Duration = Duration::from_millis(2);

/// A sleeper with more tickets ahead of it than this sleeps up to
/// [`LONGEST_DEEP_SLEEP`]: two is the holder and the waiter just behind it,
/// the two whose death (or whose lost wake) only a sleeper's own timer can
/// reveal to those behind.
const NEAR_THE_HEAD: usize = 2;

/// The longest a sleeper deeper in line sleeps. A death deeper in line holds
/// nobody up until it is near the head, and a participant that takes the
/// lock nudges the sleepers on it and on the waiter just behind it (the two
/// whose places just came near the head), which then sleep
/// [`LONGEST_SLEEP`] at most. The nudge is a wake without a fence: a sleeper
/// that chose its sleep just before the move can miss it, and then this
/// bound is how late it learns (a death deep in line is never missed, only
/// found this much later in that race, or when the participant that should
/// have nudged died first). 64 sleepers behind a 5 ms holder wake about
/// 1,600 times a second with it (the `processes` bench: about 0.08 of a core
/// busy, against 0.10 with 50 ms and 0.3 with every sleep 2 ms).
pub(crate) const LONGEST_DEEP_SLEEP: Duration = Duration::from_millis(100);

/// The patience of a waiter in the file: it never gives up, and clears the
/// dead out of its way every [`RECHECK_EVERY`] turns, right before each
/// sleep or nap (a dead participant ahead would never wake it, nor end a
/// doorway it died in: without this look a recovery would wait out whole
/// sleeps) and after it wakes.
///
/// It gives up (and the waiter withdraws) only when custody is
/// [`stuck`](Custody::stuck): it could never learn of a death in its way.
struct LookingForTheDead<'a, S: ?Sized, C: ?Sized> {
    claims: &'a S,
    custody: &'a C,
    me: usize,
    owner: Owner,
    turns: u32,
    slept: bool,
    /// Whether this turn's `exhausted` has just looked (so the `nap` that
    /// may follow in the same turn need not look again).
    looked: bool,
    stuck: bool,
}

impl<S: Claims + ?Sized, C: Custody + ?Sized> LookingForTheDead<'_, S, C> {
    fn recover_the_dead(&mut self) {
        recover_the_dead(self.claims, self.custody, self.me, self.owner);
        self.stuck = self.custody.stuck();
    }

    /// Whether at most [`NEAR_THE_HEAD`] tickets are ahead of this waiter's.
    fn near_the_head(&self) -> bool {
        let r = self.claims.registers();
        // Relaxed, all: a hint for the length of a sleep; see
        // `LONGEST_DEEP_SLEEP` for what a stale one costs.
        let mine = (r.number(self.me).load(Relaxed), self.me);
        let ahead = (0..self.claims.len())
            .filter(|&j| j != self.me)
            .filter(|&j| {
                let theirs = r.number(j).load(Relaxed);
                theirs != 0 && (theirs, j) < mine
            })
            .take(NEAR_THE_HEAD + 1)
            .count();
        ahead <= NEAR_THE_HEAD
    }
}

impl<S: Claims + ?Sized, C: Custody + ?Sized> Patience for LookingForTheDead<'_, S, C> {
    fn exhausted(&mut self) -> bool {
        self.turns = self.turns.wrapping_add(1);
        self.looked = core::mem::take(&mut self.slept)
            || self.turns == FIRST_LOOK
            || self.turns.is_multiple_of(RECHECK_EVERY);
        if self.looked {
            self.recover_the_dead();
        }
        self.stuck
    }

    fn nap(&mut self) -> Nap {
        // A look costs a few system calls; the sleep it may spare costs
        // one anyway. Not twice in a turn: a waiter that wakes looks, finds
        // itself still blocked and goes back to sleep within microseconds.
        if !core::mem::take(&mut self.looked) {
            self.recover_the_dead();
        }
        self.slept = true;
        if self.stuck {
            // Asked again at once, and gives up.
            return Nap::AtMost(Duration::ZERO);
        }
        Nap::AtMost(if self.near_the_head() {
            LONGEST_SLEEP
        } else {
            LONGEST_DEEP_SLEEP
        })
    }
}

/// A participant that has just taken the lock nudges the sleepers on itself
/// and on the waiter just behind it: their places came near the head, where
/// a sleep must be short (see [`LONGEST_DEEP_SLEEP`]). Nobody asleep: one
/// load.
fn nudge_the_next<S: Claims + ?Sized>(claims: &S, me: usize, ticket: u32) {
    if !claims.anyone_asleep() {
        return;
    }
    claims.nudge_sleepers_on(me);
    let r = claims.registers();
    // Relaxed: whom to nudge is a hint.
    let behind = (0..claims.len())
        .filter(|&j| j != me)
        .map(|j| (r.number(j).load(Relaxed), j))
        .filter(|&(theirs, j)| theirs != 0 && (theirs, j) > (ticket, me))
        .min();
    if let Some((_, j)) = behind {
        claims.nudge_sleepers_on(j);
    }
}

/// Acquires the bakery as the owner of participant `me`, recovering dead
/// participants it finds in its way. Returns whether a previous holder died
/// in the critical section and no holder has declared the data consistent
/// since, or `None` if it gave up, having withdrawn, because custody is
/// [`stuck`](Custody::stuck). Each `steps.take()` is a point where a test may
/// stop the owner for good.
pub(crate) fn lock<S, C, St>(
    claims: &S,
    custody: &C,
    me: usize,
    owner: Owner,
    steps: &mut St,
) -> Result<Option<bool>, St::Stop>
where
    S: Claims + ?Sized,
    C: Custody + ?Sized,
    St: Steps,
{
    check_custody(claims, me, owner);
    let r = claims.registers();
    let mut patience = LookingForTheDead {
        claims,
        custody,
        me,
        owner,
        turns: 0,
        slept: false,
        looked: false,
        stuck: false,
    };
    steps.take()?;
    let Some(ticket) = over::doorway(r, me, &mut patience) else {
        return Ok(None);
    };
    steps.take()?;
    if !over::wait_turn(r, me, ticket, &mut patience) {
        return Ok(None);
    }
    steps.take()?;
    // Relaxed: read only by a recoverer of this participant, after its grant
    // (invariant 4).
    claims.inside(me).store(1, Relaxed);
    nudge_the_next(claims, me, ticket);
    // Relaxed: raised before the `number` store this acquisition passed on,
    // or by a holder before its exit; either way ordered by the lock.
    Ok(Some(claims.owner_died().load(Relaxed) != 0))
}

/// Releases the bakery held by the owner of participant `me`.
pub(crate) fn unlock<S: Claims + ?Sized, St: Steps>(
    claims: &S,
    me: usize,
    owner: Owner,
    steps: &mut St,
) -> Result<(), St::Stop> {
    check_custody(claims, me, owner);
    steps.take()?;
    // Relaxed: as in `lock`; a recoverer that reads 0 here knows the critical
    // section ended.
    claims.inside(me).store(0, Relaxed);
    steps.take()?;
    over::leave(claims.registers(), me);
    Ok(())
}

/// Clears `owner_died`: the holder declares the data consistent.
pub(crate) fn consistent<S: Claims + ?Sized>(claims: &S) {
    // Relaxed: written by the holder only; the next holder reads it after
    // acquiring the lock, which orders it.
    claims.owner_died().store(0, Relaxed);
}

/// Whether anyone holds a ticket or is choosing one.
pub(crate) fn is_locked<S: Claims + ?Sized>(claims: &S) -> bool {
    over::is_locked(claims.registers())
}

/// In-process claims and a model of the kernel's byte locks, for doorway's
/// loom models of the recovery protocol (`--cfg loom` with the test hooks):
/// the very functions above, with loom threads as owners.
#[cfg(loom_hooks)]
pub mod hooks {
    use super::*;
    use crate::paxos::steps::{HaltAfter, Halted, Unbounded, unstoppable};
    use crate::sync::{AtomicU8, Ordering::Acquire, UnsafeCell, WakeWords};
    use core::convert::Infallible;

    /// `N` claims, their bakery registers, and one lock word per participant
    /// standing for the kernel's byte lock (owners are `1..=OWNERS`).
    pub struct Model<const N: usize> {
        claims: [AtomicU64; N],
        choosing: [AtomicU8; N],
        number: [AtomicU32; N],
        wake: WakeWords<N>,
        inside: [AtomicU32; N],
        owner_died: AtomicU32,
        custody: [UnsafeCell<Owner>; N],
        /// Who holds each participant's byte (0: nobody).
        bytes: [AtomicU64; N],
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
            over::TICKET_LIMIT
        }
        fn sleep(&self, me: usize, on: usize, still_blocked: impl FnOnce() -> bool, nap: Nap) {
            self.wake.beds().sleep(me, on, still_blocked, nap);
        }
        fn wake_sleepers_on(&self, me: usize) {
            self.wake.beds().wake_sleepers_on(me);
        }
    }

    impl<const N: usize> Claims for Model<N> {
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

    /// One owner's view of the byte locks: its own open file description.
    struct Bytes<'m, const N: usize> {
        model: &'m Model<N>,
        owner: Owner,
    }

    impl<const N: usize> Custody for Bytes<'_, N> {
        type Error = Infallible;

        fn try_take(&self, i: usize) -> Result<bool, Infallible> {
            // Acquire: the kernel's lock orders the previous holder's stores
            // before this grant (invariant 4). The kernel's, not doorway's:
            // not in the ordering sweep.
            let byte = &self.model.bytes[i];
            Ok(byte
                .compare_exchange(0, self.owner, Acquire, Relaxed)
                .is_ok())
        }

        fn give_back(&self, i: usize) {
            // Release: as above, the kernel's unlock.
            self.model.bytes[i].store(0, Release);
        }
    }

    impl<const N: usize> Model<N> {
        /// Free claims, no byte held.
        #[allow(clippy::new_without_default)]
        pub fn new() -> Self {
            Self {
                claims: core::array::from_fn(|_| AtomicU64::new(FREE)),
                choosing: core::array::from_fn(|_| AtomicU8::new(0)),
                number: core::array::from_fn(|_| AtomicU32::new(0)),
                wake: WakeWords::new(),
                inside: core::array::from_fn(|_| AtomicU32::new(0)),
                owner_died: AtomicU32::new(0),
                custody: core::array::from_fn(|_| UnsafeCell::new(0)),
                bytes: core::array::from_fn(|_| AtomicU64::new(0)),
            }
        }

        fn bytes(&self, owner: Owner) -> Bytes<'_, N> {
            assert!((1..=OWNERS as Owner).contains(&owner));
            Bytes { model: self, owner }
        }

        /// [`claim`](super::claim): `Some(None)` for a free participant,
        /// `Some(Some(dead))` for one taken from a stopped custodian, `None`
        /// if someone holds it.
        pub fn claim(&self, participant: usize, owner: Owner) -> Option<Option<Owner>> {
            let claimed = unstoppable(super::claim(
                self,
                &self.bytes(owner),
                participant,
                owner,
                &mut Unbounded,
            ));
            let claimed = claimed.unwrap_or_else(|never| match never {});
            claimed.map(|claimed| match claimed {
                Claimed::Free => None,
                Claimed::FromDead(dead) => Some(dead),
            })
        }

        /// [`recover_if_dead`](super::recover_if_dead).
        pub fn recover_if_dead(&self, participant: usize, owner: Owner) -> bool {
            unstoppable(super::recover_if_dead(
                self,
                &self.bytes(owner),
                participant,
                owner,
                &mut Unbounded,
            ))
        }

        /// [`recover_if_dead`](super::recover_if_dead) under a budget of
        /// steps: the recoverer stops for good when it runs out.
        pub fn recover_within(
            &self,
            participant: usize,
            owner: Owner,
            budget: &mut Budget,
        ) -> Result<bool, Halted> {
            super::recover_if_dead(self, &self.bytes(owner), participant, owner, &mut budget.0)
        }

        /// [`lock`](super::lock) under a budget of steps: whether a holder
        /// died inside, or `Halted` if the budget ran out first.
        pub fn lock(
            &self,
            participant: usize,
            owner: Owner,
            budget: &mut Budget,
        ) -> Result<bool, Halted> {
            super::lock(self, &self.bytes(owner), participant, owner, &mut budget.0).map(|taken| {
                taken.unwrap_or_else(|| unreachable!("a model's custody never sticks"))
            })
        }

        /// [`unlock`](super::unlock) under a budget of steps.
        pub fn unlock(
            &self,
            participant: usize,
            owner: Owner,
            budget: &mut Budget,
        ) -> Result<(), Halted> {
            super::unlock(self, participant, owner, &mut budget.0)
        }

        /// [`lock`](super::lock) with no budget.
        pub fn lock_whole(&self, participant: usize, owner: Owner) -> bool {
            unstoppable(super::lock(
                self,
                &self.bytes(owner),
                participant,
                owner,
                &mut Unbounded,
            ))
            .unwrap_or_else(|| unreachable!("a model's custody never sticks"))
        }

        /// [`unlock`](super::unlock) with no budget.
        pub fn unlock_whole(&self, participant: usize, owner: Owner) {
            unstoppable(super::unlock(self, participant, owner, &mut Unbounded));
        }

        /// [`consistent`](super::consistent).
        pub fn consistent(&self) {
            super::consistent(self);
        }

        /// [`release`](super::release).
        pub fn release(&self, participant: usize, owner: Owner) {
            super::release(self, &self.bytes(owner), participant, owner);
        }

        /// Leaves participant `participant`'s registers as a doorway killed after its first
        /// store leaves them (`choosing = 1`), and with a ticket too if
        /// `ticket` (killed before its last store, `choosing := 0`).
        pub fn stop_in_doorway(&self, participant: usize, ticket: bool) {
            self.choosing[participant].store(1, Relaxed);
            if ticket {
                self.number[participant].store(1, Relaxed);
            }
        }

        /// `owner` has taken its last step: the kernel gives back every
        /// byte it held, as it does when a process dies.
        pub fn die(&self, owner: Owner) {
            for byte in &self.bytes {
                if byte.load(Relaxed) == owner {
                    // Release: the kernel's teardown, after the last step
                    // (invariant 4).
                    byte.store(0, Release);
                }
            }
        }

        /// Whether the lock looks free and every participant is free (after a run).
        pub fn is_quiet(&self) -> bool {
            !super::is_locked(self)
                && self.claims.iter().all(|c| c.load(Relaxed) == FREE)
                && self.bytes.iter().all(|b| b.load(Relaxed) == 0)
        }
    }

    /// A budget of steps: [`Model::lock`], [`Model::unlock`] and
    /// [`Model::recover_within`] stop for good after it runs out.
    pub struct Budget(HaltAfter);

    impl Budget {
        /// `steps` steps in all.
        pub fn new(steps: usize) -> Self {
            Self(HaltAfter::new(steps))
        }
    }
}
