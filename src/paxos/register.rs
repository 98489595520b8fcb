//! One decision among `N` proposers: single-disk Disk Paxos (Gafni and
//! Lamport, 2003) with memory as the disk.
//!
//! # The algorithm
//!
//! Each proposer `i` owns one block `(mbal, bal, inp)`: `mbal` is
//! the highest ballot it has started, `(bal, inp)` its vote, the ballot at
//! which it last accepted and the input it accepted. It writes only its own
//! block and reads everyone else's. Ballots are disjoint per proposer
//! (`b ≡ i + 1 mod N`). Inputs live in write-once
//! cells, one per proposer, so blocks carry only the index of a cell.
//!
//! An attempt of proposer `i` with ballot `b`:
//!
//! ```text
//! if the decision is published: return it
//! on the first attempt: input[i] := value               (write-once)
//! phase 1 (skipped when b is the lowest ballot of all):
//!     block[i].mbal := b
//!     read every other block
//!     if some mbal > b: preempted
//!     v := inp of the highest bal among all blocks (own included),
//!          or i itself if there is no vote
//! phase 2:
//!     block[i] := (mbal b, bal b, inp v)
//!     read every other block
//!     if some mbal > b: preempted
//! decision := v; return v
//! ```
//!
//! After a preemption the next attempt uses `i`'s smallest ballot above every
//! `mbal` it read, and runs phase 1 again: a retry that jumped straight to
//! phase 2 "because it knows its value" could overwrite a value that was
//! decided in between.
//!
//! # Invariants
//!
//! 1. **A ballot has at most one vote value.** Only `i` votes with `i`'s
//!    ballots, and it votes once per ballot.
//! 2. **Phase 1 sees every lower vote that can still be decided.** If `j`
//!    votes `v` at `b' < b` and `i` runs phase 1 with `b`, then either `i`'s
//!    phase-1 read sees `j`'s vote (or a later vote of `j`, at a ballot
//!    `≥ b'`), or `j`'s phase-2 read sees `mbal ≥ b` and `j` is preempted.
//!    This is the store-buffering pair `PREPARE`/`ACCEPT` below.
//! 3. **Once `v` is decided at `b`, every vote at a ballot `≥ b` is for `v`.**
//!    By induction over ballots: a proposer in phase 1 at `b'' > b` sees a
//!    vote at `≥ b` (invariant 2, since the decider was not preempted) and
//!    adopts the highest, which is `v` by induction. Agreement follows: two
//!    decisions at `b ≤ b''` are the same value.
//! 4. **Validity**: every vote names an input cell written before the vote,
//!    so a decision is some proposer's input.
//! 5. **The lowest ballot may skip phase 1.** No vote can exist below it, so
//!    phase 1 would adopt nothing; its own `mbal` is written with its vote.
//! 6. **Every attempt is bounded**: one decision load, at most one input
//!    store, two block writes, `2(N − 1)` block reads and one decision store,
//!    and no waiting. Once its competitors have all stopped, a proposer
//!    decides within two attempts that start after their last steps: the
//!    first reads every final `mbal`, the second starts above all of them,
//!    and nobody is left to preempt it.
//! 7. **The decision is published only after a successful phase 2**, and it
//!    is written only with the decided index, so its several writers agree
//!    and no read-modify-write is needed.
//!
//! # Memory ordering
//!
//! Both phases are a write to the proposer's own block followed by reads of
//! everyone else's: *store buffering*. Two `SeqCst` fences make invariant 2
//! hold:
//!
//! - `PREPARE`, between phase 1's `mbal` store and its reads;
//! - `ACCEPT`, between phase 2's vote store and its reads.
//!
//! A proposer in phase 1 (higher ballot) and one in phase 2 (lower ballot)
//! each store and then load the other's block; without a fence on both
//! sides, both loads may miss both stores, the higher ballot misses the vote,
//! the lower misses the promise, and both decide. The loom models remove and
//! weaken each fence and find exactly that disagreement. (loom treats `SeqCst`
//! accesses as `AcqRel`, so the accesses are `Release`/`Acquire` and all
//! store-to-load ordering is in the fences.)
//!
//! Everything else is message passing: block and decision stores are
//! `Release`, their loads `Acquire`, so whoever reads an input index has
//! synchronized with the store of that input cell (invariant 4).
//!
//! # Cost
//!
//! Uncontended, proposer `i ≠ 0` decides with one decision load, the input
//! store, two block writes, two `SeqCst` fences, `2(N − 1)` block reads and
//! the decision store: `2N + 3` shared-memory accesses with one-word blocks
//! (a latch write is 8 stores and a read 5 loads). Proposer 0, whose first
//! ballot is the lowest, skips phase 1: one block write, one fence, `N − 1`
//! reads, `N + 3` accesses. A decided register answers with one load.

use super::ballot::{Ballot, Block, MAX_PROPOSERS, Vote};
use super::block::{BlockCell, NativeBlock};
use super::{backoff::Backoff, steps::Steps};
use crate::paxos::steps::{Unbounded, unstoppable};
use crate::sync::{
    Access, AtomicU8, FenceSite,
    Ordering::{Acquire, Release, SeqCst},
    UnsafeCell, fence,
};
use core::fmt;
use core::marker::PhantomData;

/// Phase 1: `mbal := b` must be visible to every proposer before this one
/// reads their votes (store buffering against [`ACCEPT`] in a proposer with a
/// lower ballot).
const PREPARE: FenceSite = FenceSite("paxos: publish mbal before reading the blocks (phase 1)");

/// Phase 2: the vote must be visible to every proposer before this one reads
/// their promises (store buffering against [`PREPARE`] in a proposer with a
/// higher ballot).
const ACCEPT: FenceSite =
    FenceSite("paxos: publish the vote before re-reading the blocks (phase 2)");

/// Every fence of the register, for doorway's loom mutation tests.
#[cfg(hooks)]
pub const FENCES: [FenceSite; 2] = [PREPARE, ACCEPT];

/// An attempt's first look at the decision: if decided, the proposer returns
/// the decided input, which it must see.
const ATTEMPT_READS_DECISION: Access =
    Access::edge("paxos: an attempt reads the decision", Acquire);

/// A reader's look at the decision (`winner`, `get`, `decided`): it hands out
/// the decided input, which it must see. (An observer that polls `decided()`
/// until a decision lands is the model that shows it.)
pub(crate) const READ_DECISION: Access =
    Access::edge("paxos: a reader reads the decision", Acquire);

/// `decision := v`: whoever reads the decision must see the decided input;
/// the proposer synchronized with that input's store (or made it) before the
/// `ACCEPT` fence, which, being `SeqCst`, is a release fence for this store.
const DECIDE: Access = Access::redundant(
    "paxos: decision store",
    Release,
    "the ACCEPT fence before it is a release fence for it",
);

/// Every named ordering of the register, for doorway's ordering sweep.
#[cfg(hooks)]
pub const ORDERINGS: [Access; 3] = [DECIDE, ATTEMPT_READS_DECISION, READ_DECISION];

/// A register that `N` proposers use to agree on one value of type `T`,
/// reading and writing shared memory only.
///
/// Any proposer may stop at any instant, forever, without blocking the
/// others: there is no lock to hold, and every attempt reads and writes a
/// bounded number of words without waiting for anyone. See the [module
/// documentation](self) for the algorithm, its invariants and its fences.
///
/// Each proposer proposes once: [`proposers`](Self::proposers) hands out the
/// `N` [`Proposer`]s once, and proposing consumes the proposer.
///
/// ```
/// use doorway::paxos::register::PaxosRegister;
///
/// let mut register = PaxosRegister::<&str, 3>::new();
/// let [a, b, c] = register.proposers();
/// let decided = std::thread::scope(|s| {
///     let a = s.spawn(move || a.propose("apple"));
///     let b = s.spawn(move || b.propose("banana"));
///     let c = s.spawn(move || c.propose("cherry"));
///     [a.join().unwrap(), b.join().unwrap(), c.join().unwrap()]
/// });
/// assert!(decided.iter().all(|&v| v == decided[0]), "agreement");
/// assert_eq!(register.decided(), Some(decided[0]));
/// ```
///
/// `B` chooses how a proposer's block is stored; the default,
/// [`NativeBlock`], is a single 64-bit word where the target has 64-bit
/// atomics.
pub struct PaxosRegister<T, const N: usize, B: BlockCell = NativeBlock> {
    blocks: [B; N],
    /// Proposer `i`'s input, written once by `i` before any block names it.
    inputs: [UnsafeCell<Option<T>>; N],
    /// The decided input's index plus one; 0 while undecided.
    decision: AtomicU8,
    /// Whether [`proposers`](Self::proposers) has run.
    handed_out: bool,
}

// SAFETY: the atomics are `Sync`. An input cell is written once, by its
// proposer, before any block or the decision names it (invariant 4), and
// read only through such a name, so the write happens-before every read.
// Readers share `&T` across threads (`T: Sync`); the value was moved in from
// the proposer's thread and is dropped by whoever drops the register
// (`T: Send`).
unsafe impl<T: Send + Sync, const N: usize, B: BlockCell> Sync for PaxosRegister<T, N, B> {}

impl<T, const N: usize, B: BlockCell> PaxosRegister<T, N, B> {
    crate::sync::const_fn_unless_loom! {
        /// An undecided register for `N` proposers (1 to 255).
        pub fn new() -> Self {
            const {
                assert!(
                    N >= 1 && N <= MAX_PROPOSERS,
                    "a PaxosRegister has 1 to 255 proposers"
                )
            };
            Self {
                blocks: empty_blocks(),
                inputs: empty_inputs(),
                decision: AtomicU8::new(0),
                handed_out: false,
            }
        }
    }

    /// Hands out the `N` proposers, numbered `0..N`. Each can propose once.
    ///
    /// # Panics
    ///
    /// When called a second time: a proposer's index must never propose
    /// twice, even after the first proposer is gone, because its ballots and
    /// input cell are already spent.
    ///
    /// ```should_panic
    /// let mut register = doorway::paxos::register::PaxosRegister::<u8, 2>::new();
    /// let [a, _] = register.proposers();
    /// a.propose(1);
    /// let [again, _] = register.proposers(); // panics: already handed out
    /// ```
    #[track_caller]
    pub fn proposers(&mut self) -> [Proposer<'_, T, N, B>; N] {
        assert!(
            !self.handed_out,
            "doorway: the proposers of this PaxosRegister<_, {N}> were already handed out; \
             each index may propose once, ever"
        );
        self.handed_out = true;
        let register: &Self = self;
        core::array::from_fn(|index| Proposer {
            register,
            index,
            _unique: PhantomData,
        })
    }

    /// Proposer `index`, without the borrow that proves it unique.
    ///
    /// For registers in `static`s or shared by `Arc`, where each thread or
    /// core knows its own index.
    ///
    /// # Panics
    ///
    /// When `index ≥ N`.
    ///
    /// # Safety
    ///
    /// No other proposer with the same `index` may ever exist for this
    /// register, before or after this one, including those handed out by
    /// [`proposers`](Self::proposers): an index proposes once.
    #[track_caller]
    pub unsafe fn proposer_unchecked(&self, index: usize) -> Proposer<'_, T, N, B> {
        assert!(
            index < N,
            "proposer {index} is out of range for a PaxosRegister<_, {N}>"
        );
        Proposer {
            register: self,
            index,
            _unique: PhantomData,
        }
    }

    /// The decided value, if any: one load, no waiting.
    ///
    /// ```
    /// let mut register = doorway::paxos::register::PaxosRegister::<String, 2>::new();
    /// assert_eq!(register.get(), None);
    /// let [a, _] = register.proposers();
    /// a.propose("first".to_string());
    /// assert_eq!(register.get().map(String::as_str), Some("first"));
    /// ```
    pub fn get(&self) -> Option<&T> {
        // SAFETY: the decision names a published input (invariant 4).
        self.winner().map(|index| unsafe { self.input(index) })
    }

    /// A clone of the decided value, if any.
    pub fn decided(&self) -> Option<T>
    where
        T: Clone,
    {
        self.get().cloned()
    }

    /// The index of the proposer whose input was decided, if any.
    pub fn winner(&self) -> Option<usize> {
        self.decision_by(READ_DECISION)
    }

    /// One look at the decision, by the access `how`.
    #[inline]
    fn decision_by(&self, how: Access) -> Option<usize> {
        let decision = self.decision.load(how.order());
        (decision != 0).then(|| usize::from(decision) - 1)
    }

    /// Consumes the register and returns the decided value, if any.
    pub fn into_decided(self) -> Option<T> {
        let winner = self.winner()?;
        self.inputs
            .into_iter()
            .nth(winner)
            .and_then(UnsafeCell::into_inner)
    }

    /// The input of proposer `index`.
    ///
    /// # Safety
    ///
    /// `index` must come from a block or the decision read by this thread,
    /// which proves the cell was written and happens-before this read.
    pub(crate) unsafe fn input(&self, index: usize) -> &T {
        self.inputs[index]
            .with(|cell| {
                // SAFETY: the cell is written once, before anything names it,
                // and never again (see `publish`); the caller has synchronized
                // with that write, so no write can overlap this shared borrow,
                // which lives as long as `&self`.
                unsafe { (*cell).as_ref() }
            })
            .expect("doorway: a Paxos block named an input cell that was never written")
    }

    /// Stores proposer `me`'s input in its write-once cell.
    fn publish(&self, me: usize, value: T) {
        self.inputs[me].with_mut(|cell| {
            // SAFETY: only proposer `me` writes this cell, once, before any
            // block names it, so nobody reads it yet; `me` is unique by the
            // contract of `Proposer`.
            let cell = unsafe { &mut *cell };
            assert!(
                cell.is_none(),
                "doorway: proposer {me} proposed twice on one PaxosRegister"
            );
            *cell = Some(value);
        });
    }
}

/// Where a register's blocks, decision word and input values live: in the
/// register itself ([`PaxosRegister`]), or in a file that several processes
/// map (`shm`). The attempt is written once, as this trait's provided
/// methods, so the loom models of the in-process register check the code
/// that runs in the file.
///
/// An implementation keeps the block invariants of [`block`](super::block)
/// and invariant 4 above: an input is stored before any block names it, and
/// a reader that got an index from a block or the decision sees that input.
pub(crate) trait Disk {
    /// The value proposers agree on.
    type Value;

    /// How many proposers (`N`).
    fn proposers(&self) -> usize;

    /// One look at the decision, by the access `how`: the decided input's
    /// index, or `None` while undecided.
    fn decision_by(&self, how: Access) -> Option<usize>;

    /// `decision := input`, by the access `how` (invariant 7).
    fn decide(&self, input: usize, how: Access);

    /// Stores proposer `me`'s input, before any block names it (invariant 4).
    fn publish(&self, me: usize, value: Self::Value);

    /// Writes `me`'s own block (`me` only), one step per store.
    fn write_block<S: Steps>(&self, me: usize, block: Block, steps: &mut S) -> Result<(), S::Stop>;

    /// Reads block `j` whole, or `None` if it cannot be read now (a latch
    /// whose owner kept writing; in a file, a block no proposer could have
    /// written). An attempt that cannot read every block does not decide.
    fn read_block(&self, j: usize) -> Option<Block>;

    /// Reads every block but `me`'s, one step each.
    ///
    /// Inline, as every helper of `Scan`: a scan is a few loads and
    /// compares, and as calls (out of line in a user's crate, the result
    /// passed through the stack) its bookkeeping cost more than its loads.
    #[inline]
    fn scan<S: Steps>(&self, me: usize, steps: &mut S) -> Result<Scan, S::Stop> {
        let mut scan = Scan::default();
        let mut read = |j| {
            steps.take()?;
            match self.read_block(j) {
                Some(block) => scan.add(block),
                None => scan.complete = false,
            }
            Ok(())
        };
        // Every block but `me`'s, in order (`me` keeps its own block in its
        // campaign): two plain loops rather than one that skips `me`, which
        // compiled to a branchy loop around each load.
        for j in 0..me {
            read(j)?;
        }
        for j in me + 1..self.proposers() {
            read(j)?;
        }
        Ok(scan)
    }

    /// One attempt of `campaign`'s proposer at its current ballot. Returns the
    /// winner's index, or `None` if preempted (the campaign then holds its
    /// next ballot).
    fn attempt<S: Steps>(
        &self,
        campaign: &mut Campaign,
        pending: &mut Option<Self::Value>,
        steps: &mut S,
    ) -> Result<Option<usize>, S::Stop> {
        let me = campaign.me;
        steps.take()?;
        if let Some(winner) = self.decision_by(ATTEMPT_READS_DECISION) {
            return Ok(Some(winner));
        }
        if let Some(value) = pending.take() {
            steps.take()?;
            self.publish(me, value);
        }
        let ballot = campaign.ballot;

        let input = if ballot == Ballot::LOWEST || flawed!(EveryBallotSkipsPhase1) {
            me // invariant 5: nothing to adopt below the lowest ballot
        } else {
            campaign.own.mbal = ballot;
            self.write_block(me, campaign.own, steps)?;
            steps.before_fence();
            fence(SeqCst, PREPARE);
            let scan = self.scan(me, steps)?;
            if !scan.allows(ballot) {
                campaign.preempted(&scan);
                return Ok(None);
            }
            scan.input_to_propose(campaign.own.vote, me)
        };

        campaign.own = Block {
            mbal: ballot,
            vote: Some(Vote { bal: ballot, input }),
        };
        self.write_block(me, campaign.own, steps)?;
        steps.before_fence();
        fence(SeqCst, ACCEPT);
        if !flawed!(SkipPhase2Reread) {
            let scan = self.scan(me, steps)?;
            if !scan.allows(ballot) {
                campaign.preempted(&scan);
                return Ok(None);
            }
        }

        steps.take()?;
        self.decide(input, DECIDE);
        Ok(Some(input))
    }
}

impl<T, const N: usize, B: BlockCell> Disk for PaxosRegister<T, N, B> {
    type Value = T;

    #[inline(always)]
    fn proposers(&self) -> usize {
        N
    }

    #[inline]
    fn decision_by(&self, how: Access) -> Option<usize> {
        PaxosRegister::decision_by(self, how)
    }

    #[inline]
    fn decide(&self, input: usize, how: Access) {
        self.decision.store(input as u8 + 1, how.order());
    }

    #[inline]
    fn publish(&self, me: usize, value: T) {
        PaxosRegister::publish(self, me, value);
    }

    #[inline]
    fn write_block<S: Steps>(&self, me: usize, block: Block, steps: &mut S) -> Result<(), S::Stop> {
        self.blocks[me].write(block, steps)
    }

    #[inline]
    fn read_block(&self, j: usize) -> Option<Block> {
        self.blocks[j].read()
    }
}

#[cfg(not(loom))]
const fn empty_blocks<B: BlockCell, const N: usize>() -> [B; N] {
    [const { super::block::empty::<B>() }; N]
}

#[cfg(loom)]
fn empty_blocks<B: BlockCell, const N: usize>() -> [B; N] {
    core::array::from_fn(|_| super::block::empty::<B>())
}

#[cfg(not(loom))]
const fn empty_inputs<T, const N: usize>() -> [UnsafeCell<Option<T>>; N] {
    [const { UnsafeCell::new(None) }; N]
}

#[cfg(loom)]
fn empty_inputs<T, const N: usize>() -> [UnsafeCell<Option<T>>; N] {
    core::array::from_fn(|_| UnsafeCell::new(None))
}

impl<T, const N: usize, B: BlockCell> Default for PaxosRegister<T, N, B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize, B: BlockCell + fmt::Debug> fmt::Debug for PaxosRegister<T, N, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A snapshot; the blocks may change while they are printed.
        f.debug_struct("PaxosRegister")
            .field("winner", &self.winner())
            .field("blocks", &self.blocks)
            .finish_non_exhaustive()
    }
}

/// What one read of the other blocks found.
pub(crate) struct Scan {
    /// The highest promise read.
    highest_mbal: Ballot,
    /// The vote with the highest ballot read.
    highest_vote: Option<Vote>,
    /// The vote with the lowest ballot read (only for a deliberate flaw).
    #[cfg(mutants)]
    lowest_vote: Option<Vote>,
    /// Whether every block was read (a latch read can fail under contention).
    complete: bool,
}

impl Scan {
    #[inline]
    fn add(&mut self, block: Block) {
        self.highest_mbal = self.highest_mbal.max(block.mbal);
        let Some(vote) = block.vote else {
            return;
        };
        if self.highest_vote.is_none_or(|best| vote.bal > best.bal) {
            self.highest_vote = Some(vote);
        }
        #[cfg(mutants)]
        if self.lowest_vote.is_none_or(|low| vote.bal < low.bal) {
            self.lowest_vote = Some(vote);
        }
    }

    /// Whether a proposer at `ballot` may go on: every block was read and
    /// none promised a higher ballot. (No other block can hold `ballot`
    /// itself, so "higher" and "not mine" coincide.)
    #[inline]
    fn allows(&self, ballot: Ballot) -> bool {
        self.complete && self.highest_mbal <= ballot
    }

    /// The input phase 2 proposes: that of the highest-ballot vote among
    /// the blocks read and `own`, or `me`'s if nobody has voted.
    #[inline]
    fn input_to_propose(&self, own: Option<Vote>, me: usize) -> usize {
        if flawed!(KeepOwnValue) {
            return me;
        }
        #[cfg(mutants)]
        if flawed!(AdoptLowestVote) {
            let lowest = [self.lowest_vote, own]
                .into_iter()
                .flatten()
                .min_by_key(|v| v.bal);
            return lowest.map_or(me, |vote| vote.input);
        }
        // The later of two equal ballots wins, `own`, as `max_by_key` over
        // `[highest, own]` would have it (two blocks cannot hold votes at
        // one ballot: invariant 1 and disjoint ballots). Written out: the
        // iterator over the array was copied through the stack.
        let highest = match (self.highest_vote, own) {
            (Some(read), Some(own)) => Some(if own.bal >= read.bal { own } else { read }),
            (read, own) => read.or(own),
        };
        highest.map_or(me, |vote| vote.input)
    }
}

impl Default for Scan {
    #[inline]
    fn default() -> Self {
        Self {
            highest_mbal: Ballot::NONE,
            highest_vote: None,
            #[cfg(mutants)]
            lowest_vote: None,
            complete: true,
        }
    }
}

/// A proposer's private state in one register: its next ballot, its own
/// block as last written, and its backoff.
///
/// Ballots are handed out by *rank*, not by index: the proposer of rank `r`
/// owns the ballots `r + 1`, `r + 1 + N`, … (`ballot` invariant 1), and the
/// lowest ballot of all, which skips phase 1, belongs to rank 0. The rank is
/// the index moved by the register's leader: `(me − leader) mod N`. A lone
/// register's leader is proposer 0, so rank and index coincide; a
/// [`PaxosLog`](super::log::PaxosLog) makes the winner of each slot the leader of
/// the next, which every proposer of that slot knows (invariant 3 of the log),
/// so each slot's ranks are one permutation and ballots stay disjoint.
pub(crate) struct Campaign {
    pub(crate) me: usize,
    rank: usize,
    proposers: usize,
    pub(crate) ballot: Ballot,
    own: Block,
    pub(crate) backoff: Backoff,
}

impl Campaign {
    /// The campaign of proposer `me` in a register led by proposer `leader`.
    pub(crate) fn led_by(leader: usize, me: usize, proposers: usize, seed: usize) -> Self {
        debug_assert!(leader < proposers && me < proposers);
        let rank = (me + proposers - leader) % proposers;
        Self {
            me,
            rank,
            proposers,
            ballot: Ballot::first(rank, proposers),
            own: Block::EMPTY,
            backoff: Backoff::new(seed as u64 ^ ((me as u64) << 48)),
        }
    }

    /// The campaign of a proposer that takes over index `me` from an earlier
    /// owner that stopped for good (a killed process), from the block that
    /// owner left: its next ballot is above that block's promise, so no
    /// ballot is used twice (invariant 1), and it keeps that block's vote,
    /// which phase 1 weighs like any other.
    #[cfg(shared_file)]
    pub(crate) fn resume(me: usize, proposers: usize, seed: usize, own: Block) -> Self {
        // Led by proposer 0: a register in a shared file ranks proposers by
        // index, which its block checks rely on (a block's ballots belong to
        // its owner's index).
        let mut campaign = Self::led_by(0, me, proposers, seed);
        if own.mbal != Ballot::NONE {
            campaign.ballot = Ballot::next_above(own.mbal, campaign.rank, proposers);
        }
        campaign.own = own;
        campaign
    }

    /// Moves to the smallest own ballot above everything `scan` saw.
    fn preempted(&mut self, scan: &Scan) {
        let seen = scan.highest_mbal.max(self.ballot);
        self.ballot = Ballot::next_above(seen, self.rank, self.proposers);
    }
}

/// The right to propose once, as proposer `index` of one register.
///
/// Not `Clone`, and consumed by [`propose`](Self::propose) and
/// [`try_propose`](Self::try_propose): a proposer cannot propose twice.
///
/// ```compile_fail,E0382
/// let mut register = doorway::paxos::register::PaxosRegister::<u8, 2>::new();
/// let [a, _b] = register.proposers();
/// a.propose(1);
/// a.propose(2); // `a` was moved by the first proposal
/// ```
pub struct Proposer<'r, T, const N: usize, B: BlockCell = NativeBlock> {
    register: &'r PaxosRegister<T, N, B>,
    index: usize,
    /// `Proposer` is deliberately neither `Clone` nor `Copy`.
    _unique: PhantomData<&'r mut ()>,
}

impl<'r, T, const N: usize, B: BlockCell> Proposer<'r, T, N, B> {
    /// This proposer's index, `0..N`.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The register this proposer proposes to.
    pub fn register(&self) -> &'r PaxosRegister<T, N, B> {
        self.register
    }

    /// Proposes `value` and returns the decided value, which may be another
    /// proposer's.
    ///
    /// Lock-free: it returns as soon as any attempt, this proposer's or
    /// another's, has decided, and no stalled proposer can hold it up. Under
    /// contention it backs off for a random, growing time between attempts.
    pub fn propose(self, value: T) -> T
    where
        T: Clone,
    {
        let register = self.register;
        let winner = unstoppable(self.propose_with(value, &mut Unbounded));
        // SAFETY: `winner` comes from this thread's decision.
        unsafe { register.input(winner) }.clone()
    }

    /// Makes one bounded attempt to get `value` (or whatever value is
    /// already on its way) decided.
    ///
    /// Returns [`Attempt::Decided`] with the decided value, or
    /// [`Attempt::Preempted`] with the proposal, which can try again with a
    /// higher ballot. Never waits: two block writes and `2(N − 1)` block
    /// reads at most.
    ///
    /// ```
    /// use doorway::{paxos::register::PaxosRegister, paxos::register::Attempt};
    ///
    /// let mut register = PaxosRegister::<u32, 2>::new();
    /// let [_, b] = register.proposers();
    /// match b.try_propose(7) {
    ///     Attempt::Decided(v) => assert_eq!(v, 7), // alone, it decides
    ///     Attempt::Preempted(retry) => assert_eq!(retry.finish(), 7),
    /// }
    /// ```
    pub fn try_propose(self, value: T) -> Attempt<'r, T, N, B>
    where
        T: Clone,
    {
        Proposal::new(self, value).try_again()
    }

    /// Proposes to the end under a step budget: the winner's index, or why
    /// the budget stopped it.
    pub(crate) fn propose_with<S: Steps>(self, value: T, steps: &mut S) -> Result<usize, S::Stop> {
        Proposal::new(self, value).finish_with(steps)
    }
}

impl<T, const N: usize, B: BlockCell> fmt::Debug for Proposer<'_, T, N, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proposer")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// What one attempt of [`Proposer::try_propose`] or [`Proposal::try_again`]
/// came to.
#[must_use = "a preempted proposal is decided only if it tries again"]
pub enum Attempt<'r, T, const N: usize, B: BlockCell = NativeBlock> {
    /// The register decided this value (possibly another proposer's).
    Decided(T),
    /// A higher ballot started before this attempt could decide. The
    /// proposal keeps its place and can try again with a higher ballot.
    Preempted(Proposal<'r, T, N, B>),
}

impl<T: fmt::Debug, const N: usize, B: BlockCell> fmt::Debug for Attempt<'_, T, N, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attempt::Decided(value) => f.debug_tuple("Decided").field(value).finish(),
            Attempt::Preempted(proposal) => f.debug_tuple("Preempted").field(proposal).finish(),
        }
    }
}

/// A proposal under way: one proposer, its value already published, and
/// the ballot of its next attempt.
pub struct Proposal<'r, T, const N: usize, B: BlockCell = NativeBlock> {
    register: &'r PaxosRegister<T, N, B>,
    campaign: Campaign,
    /// The value, until the first attempt publishes it.
    pending: Option<T>,
}

impl<'r, T, const N: usize, B: BlockCell> Proposal<'r, T, N, B> {
    pub(crate) fn new(proposer: Proposer<'r, T, N, B>, value: T) -> Self {
        Self::led_by(0, proposer, value)
    }

    /// A proposal in a register whose lowest ballot belongs to `leader` (see
    /// `Campaign`).
    pub(crate) fn led_by(leader: usize, proposer: Proposer<'r, T, N, B>, value: T) -> Self {
        let seed = proposer.register as *const PaxosRegister<T, N, B> as usize;
        Self {
            register: proposer.register,
            campaign: Campaign::led_by(leader, proposer.index, N, seed),
            pending: Some(value),
        }
    }

    /// The proposer's index.
    pub fn index(&self) -> usize {
        self.campaign.me
    }

    /// Makes one more bounded attempt, with a ballot above every ballot the
    /// last attempt saw.
    pub fn try_again(mut self) -> Attempt<'r, T, N, B>
    where
        T: Clone,
    {
        match unstoppable(self.attempt_with(&mut Unbounded)) {
            // SAFETY: `winner` comes from this thread's decision.
            Some(winner) => Attempt::Decided(unsafe { self.register.input(winner) }.clone()),
            None => Attempt::Preempted(self),
        }
    }

    /// Tries again, backing off between attempts, until the register decides;
    /// returns the decided value.
    pub fn finish(self) -> T
    where
        T: Clone,
    {
        let register = self.register;
        let winner = unstoppable(self.finish_with(&mut Unbounded));
        // SAFETY: `winner` comes from this thread's decision.
        unsafe { register.input(winner) }.clone()
    }

    /// One attempt under a step budget.
    pub(crate) fn attempt_with<S: Steps>(
        &mut self,
        steps: &mut S,
    ) -> Result<Option<usize>, S::Stop> {
        self.register
            .attempt(&mut self.campaign, &mut self.pending, steps)
    }

    /// Attempts until decided, backing off after each preemption.
    pub(crate) fn finish_with<S: Steps>(mut self, steps: &mut S) -> Result<usize, S::Stop> {
        loop {
            if let Some(winner) = self.attempt_with(steps)? {
                return Ok(winner);
            }
            self.campaign.backoff.pause();
        }
    }
}

impl<T, const N: usize, B: BlockCell> fmt::Debug for Proposal<'_, T, N, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proposal")
            .field("index", &self.campaign.me)
            .field("next_ballot", &self.campaign.ballot)
            .finish_non_exhaustive()
    }
}
