//! Test hooks that reach inside a proposal: stop a proposer forever after its
//! `k`-th shared-memory step, stall it there, count its steps, and read and
//! write a latch block by hand. Doorway's own test builds only (feature
//! `__test_hooks`); the scenarios that use them live in the unpublished
//! `doorway-harness` crate.
//!
//! A step is one load or store of shared memory that another thread may see
//! or have written: the decision, an input cell, a block word, a latch word.
//! (A latch writer's reload of its own counter is no step: nobody else writes
//! it.) Stopping before a step is the same, for everyone else, as a thread
//! that is never scheduled again.

use super::ballot::Block;
use super::block::{self, BlockCell, sealed::Cell};
use super::latch::LatchBlock;
use super::log::{LogFull, Replica};
use super::register::{PaxosRegister, Proposer};
use super::steps::{HaltAfter, PauseAfter, PauseBeforeFence, Unbounded, unstoppable};

pub use super::steps::Halted;

/// Proposes `value` as `proposer`, but stops forever (takes no further step)
/// after `steps` shared-memory steps. Returns the decided value, or `None` if
/// the proposer stopped first.
pub fn propose_halting_after<T: Clone, const N: usize, B: BlockCell>(
    proposer: Proposer<'_, T, N, B>,
    value: T,
    steps: usize,
) -> Option<T> {
    let register = proposer.register();
    let winner = proposer
        .propose_with(value, &mut HaltAfter::new(steps))
        .ok()?;
    Some(value_of(register, winner))
}

/// Proposes `value` as `proposer`; after `steps` shared-memory steps runs
/// `pause` (which may block for as long as it likes), then goes on to a
/// decision and returns it, with whether the pause ran (a proposal that
/// decides in fewer steps never pauses).
pub fn propose_pausing_after<T: Clone, const N: usize, B: BlockCell>(
    proposer: Proposer<'_, T, N, B>,
    value: T,
    steps: usize,
    pause: impl FnOnce(),
) -> (T, bool) {
    let register = proposer.register();
    let mut budget = PauseAfter::new(steps, pause);
    let winner = unstoppable(proposer.propose_with(value, &mut budget));
    (value_of(register, winner), budget.paused())
}

/// Proposes `value` as `proposer`; right before its `fence`-th `SeqCst` fence
/// (counting from 1) runs `pause`, then goes on to a decision and returns it.
/// Proposer 0's first fence follows its first vote, with nothing between.
pub fn propose_pausing_before_fence<T: Clone, const N: usize, B: BlockCell>(
    proposer: Proposer<'_, T, N, B>,
    value: T,
    fence: usize,
    pause: impl FnOnce(),
) -> T {
    let register = proposer.register();
    let winner =
        unstoppable(proposer.propose_with(value, &mut PauseBeforeFence::new(fence, pause)));
    value_of(register, winner)
}

/// Proposes `value` as `proposer` and counts the shared-memory steps until it
/// returns.
pub fn propose_counting_steps<T: Clone, const N: usize, B: BlockCell>(
    proposer: Proposer<'_, T, N, B>,
    value: T,
) -> (T, usize) {
    let register = proposer.register();
    let mut counter = HaltAfter::new(usize::MAX);
    let winner = proposer
        .propose_with(value, &mut counter)
        .unwrap_or_else(|Halted| unreachable!("an unlimited budget never halts"));
    (value_of(register, winner), counter.taken())
}

/// [`Replica::append`], counting its shared-memory steps.
pub fn append_counting_steps<T: Clone, const N: usize, B: BlockCell>(
    replica: &mut Replica<'_, T, N, B>,
    command: T,
) -> (Result<usize, LogFull<T>>, usize) {
    let mut counter = HaltAfter::new(usize::MAX);
    let slot = replica
        .append_with(command, &mut counter)
        .unwrap_or_else(|Halted| unreachable!("an unlimited budget never halts"));
    (slot, counter.taken())
}

/// A budget of steps shared by several appends of one replica.
pub struct StepBudget(HaltAfter);

impl StepBudget {
    /// `steps` steps in all, then the replica stops forever.
    pub fn new(steps: usize) -> Self {
        Self(HaltAfter::new(steps))
    }
}

/// [`Replica::append`] under `budget`. If the budget stops it, the replica is
/// in the middle of a slot and must never be used again.
pub fn append_halting<T: Clone, const N: usize, B: BlockCell>(
    replica: &mut Replica<'_, T, N, B>,
    command: T,
    budget: &mut StepBudget,
) -> Result<Result<usize, LogFull<T>>, Halted> {
    replica.append_with(command, &mut budget.0)
}

/// Shared-memory steps of a lone proposal by proposer `me` of `N` with
/// blocks `B`, from a fresh register to its decision (the register's cost
/// section): the decision load, the input, (phase 1: the promise and the other
/// blocks,) the vote and the other blocks, the decision. Proposer 0's first
/// ballot is the lowest and skips phase 1.
pub fn solo_steps<B: BlockCell, const N: usize>(me: usize) -> usize {
    let phase = B::WRITE_STEPS + (N - 1);
    let phases = if me == 0 { 1 } else { 2 };
    1 + 1 + phases * phase + 1
}

/// The step of a lone proposal by proposer `me` of `N` after which its vote
/// is what the others read.
pub fn vote_visible_after<B: BlockCell, const N: usize>(me: usize) -> usize {
    let promise = if me == 0 { 0 } else { B::WRITE_STEPS + (N - 1) };
    1 + 1 + promise + B::VISIBLE_AFTER
}

/// Steps of one block write with blocks `B`.
pub fn write_steps<B: BlockCell>() -> usize {
    B::WRITE_STEPS
}

fn value_of<T: Clone, const N: usize, B: BlockCell>(
    register: &PaxosRegister<T, N, B>,
    winner: usize,
) -> T {
    // SAFETY: `winner` was returned by a proposal on this thread, which read
    // or wrote the decision.
    unsafe { register.input(winner) }.clone()
}

/// A latch block, written and read by hand as three 32-bit fields.
pub struct Latch(LatchBlock);

impl Latch {
    /// Stores of one write.
    pub const WRITE_STEPS: usize = <LatchBlock as Cell>::WRITE_STEPS;
    /// The store of a write after which readers see it.
    pub const VISIBLE_AFTER: usize = <LatchBlock as Cell>::VISIBLE_AFTER;

    /// A latch holding the empty block `[0, 0, 0]`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(block::empty())
    }

    /// Writes `fields` (the owner only), stopping for good before store
    /// `budget + 1`; `false` if it stopped.
    pub fn write(&self, fields: [u32; 3], budget: &mut StepBudget) -> bool {
        self.0
            .write(Block::from_fields(fields), &mut budget.0)
            .is_ok()
    }

    /// Writes `fields` whole.
    pub fn write_whole(&self, fields: [u32; 3]) {
        unstoppable(self.0.write(Block::from_fields(fields), &mut Unbounded));
    }

    /// Reads the block whole, or `None` if the writer kept writing.
    pub fn read(&self) -> Option<[u32; 3]> {
        self.0.read().map(Block::to_fields)
    }
}
