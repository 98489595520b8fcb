//! A Paxos register in the file: the register's [`Disk`] over one register
//! region, every word checked as it is read.
//!
//! # What a reader does with words no participant writes
//!
//! - A block that fails [`Block::checked_from_fields`] (a ballot above the
//!   file's limit or not its owner's, a vote above the promise, an input
//!   index out of range, a vote ballot without an input or the reverse)
//!   reads as *unreadable*, as a latch read that failed under contention
//!   does: the attempt cannot count that proposer, so it does not decide.
//! - A decision word above the number of proposers reads as undecided.
//! - An input flag other than 0 or 1, or a decision or vote naming an input
//!   that was never written, is corrupt.
//!
//! In each case the operation returns [`Error::Corrupt`] instead of a value,
//! so a proposer never decides, or reports a decision, on the strength of
//! garbage. Memory safety does not depend on any of it: every index is
//! checked against the layout, and any bytes are a valid `Pod`.
//!
//! Ballots in a file stop `N` short of [`Ballot::MAX`], so that a promise
//! read from the file, however high, leaves every proposer a next ballot
//! (`Ballot::next_above` would otherwise panic): a proposer that would need
//! one above the limit returns [`Error::OutOfBallots`].
//!
//! # Memory ordering
//!
//! The register's own orderings, named in `paxos::register` and
//! `paxos::block`, carry over unchanged: inputs are stored `Relaxed` before
//! the `Release` block store that first names them, and read `Relaxed` after
//! the `Acquire` load of the block or decision that named them.

use super::Error;
use super::header::INPUT_VALUE;
use super::mapping::Mapped;
use crate::paxos::ballot::{Ballot, Block, MAX_PROPOSERS};
use crate::paxos::block::BlockCell;
use crate::paxos::register::{Campaign, Disk, READ_DECISION};
use crate::paxos::steps::{Steps, Unbounded, unstoppable};
use crate::sync::{Access, AtomicU32, Ordering::Relaxed};
use bytemuck::Pod;
use core::cell::Cell;
use core::marker::PhantomData;

/// The highest ballot a file register uses or accepts among `n` proposers.
pub(crate) fn ballot_limit(n: usize) -> Option<u32> {
    (1..=MAX_PROPOSERS)
        .contains(&n)
        .then(|| Ballot::MAX - n as u32)
}

/// Decodes a decision word: `Some(None)` undecided, `Some(Some(i))` input
/// `i < n` decided, `None` corrupt.
pub(crate) fn decode_decision(word: u32, n: usize) -> Option<Option<usize>> {
    match word {
        0 => Some(None),
        d if (d as usize) <= n => Some(Some(d as usize - 1)),
        _ => None,
    }
}

/// One register region of a mapped file, seen by one operation.
pub(crate) struct FileRegister<'m, T, B> {
    m: &'m Mapped,
    /// Which register: 0, or a log slot plus one.
    at: usize,
    n: usize,
    limit: u32,
    /// The first part that held words no participant writes, if any.
    corrupt: Cell<Option<&'static str>>,
    _types: PhantomData<fn() -> (T, B)>,
}

impl<'m, T: Pod, B: BlockCell> FileRegister<'m, T, B> {
    /// Register `at` of `m` (0: the register; `s + 1`: log slot `s`).
    pub(crate) fn new(m: &'m Mapped, at: usize) -> Self {
        let n = m.layout.participants;
        Self {
            m,
            at,
            n,
            limit: ballot_limit(n).expect("a checked layout has 1 to 255 participants"),
            corrupt: Cell::new(None),
            _types: PhantomData,
        }
    }

    fn base(&self) -> usize {
        self.m.register_offset(self.at)
    }

    fn block(&self, j: usize) -> &'m B {
        assert!(j < self.n);
        self.m
            .block_at::<B>(self.base() + j * self.m.regions.block_bytes)
    }

    fn decision_word(&self) -> &'m AtomicU32 {
        self.m.u32_at(self.base() + self.m.regions.decision)
    }

    fn input_offset(&self, j: usize) -> usize {
        assert!(j < self.n);
        self.base() + self.m.regions.inputs + j * self.m.regions.input_bytes
    }

    fn flag(&self, what: &'static str) {
        if self.corrupt.get().is_none() {
            self.corrupt.set(Some(what));
        }
    }

    fn corrupt(&self, what: &'static str) -> Error {
        Error::Corrupt { what, at: self.at }
    }

    /// Whether proposer `j`'s input was written.
    fn input_written(&self, j: usize) -> Result<bool, Error> {
        // Relaxed: read after the block or decision that named the input
        // (`Acquire`), or by the input's owner, whose predecessors' stores
        // happen before its claim.
        match self.m.u32_at(self.input_offset(j)).load(Relaxed) {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.corrupt("input")),
        }
    }

    /// Proposer `j`'s input, named by a block or the decision this thread
    /// read (so its store happens before this read).
    fn input(&self, j: usize) -> Result<T, Error> {
        if !self.input_written(j)? {
            return Err(self.corrupt("input"));
        }
        Ok(self.m.load_pod(self.input_offset(j) + INPUT_VALUE))
    }

    /// The decided value, if any: one load, checked.
    pub(crate) fn decided(&self) -> Result<Option<T>, Error> {
        let word = self.decision_word().load(READ_DECISION.order());
        match decode_decision(word, self.n) {
            None => Err(self.corrupt("decision")),
            Some(None) => Ok(None),
            Some(Some(winner)) => self.input(winner).map(Some),
        }
    }

    /// The decided proposer's index, if any (checked, no input read).
    pub(crate) fn winner(&self) -> Result<Option<usize>, Error> {
        let word = self.decision_word().load(READ_DECISION.order());
        decode_decision(word, self.n).ok_or_else(|| self.corrupt("decision"))
    }

    /// Proposer `me`'s input as written, if it was (for a replica that must
    /// tell its own command from the one an earlier owner of its participant left).
    pub(crate) fn own_input(&self, me: usize) -> Result<Option<T>, Error> {
        if self.input_written(me)? {
            self.input(me).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Proposes `value` as proposer `me` until the register decides, going on
    /// from whatever an earlier owner of participant `me` left: its block (the
    /// next ballot is above its promise) and its input, if written (which is
    /// then proposed instead of `value`). Returns the winner and its value.
    pub(crate) fn propose(&self, me: usize, value: T, seed: usize) -> Result<(usize, T), Error> {
        let own = self
            .block(me)
            .read_fields()
            .and_then(|fields| Block::checked_from_fields(fields, me, self.n, self.limit))
            .ok_or_else(|| self.corrupt("own block"))?;
        let mut pending = (!self.input_written(me)?).then_some(value);
        let mut campaign = Campaign::resume(me, self.n, seed, own);
        loop {
            if campaign.ballot.get() > self.limit {
                return Err(Error::OutOfBallots);
            }
            let outcome = unstoppable(self.attempt(&mut campaign, &mut pending, &mut Unbounded));
            if let Some(what) = self.corrupt.take() {
                return Err(self.corrupt(what));
            }
            if let Some(winner) = outcome {
                return Ok((winner, self.input(winner)?));
            }
            campaign.backoff.pause();
        }
    }
}

impl<T: Pod, B: BlockCell> Disk for FileRegister<'_, T, B> {
    type Value = T;

    fn proposers(&self) -> usize {
        self.n
    }

    fn decision_by(&self, how: Access) -> Option<usize> {
        let word = self.decision_word().load(how.order());
        decode_decision(word, self.n).unwrap_or_else(|| {
            self.flag("decision");
            None
        })
    }

    fn decide(&self, input: usize, how: Access) {
        self.decision_word().store(input as u32 + 1, how.order());
    }

    fn publish(&self, me: usize, value: T) {
        let at = self.input_offset(me);
        self.m.store_pod(at + INPUT_VALUE, &value);
        // Relaxed: the block store that first names this input is `Release`
        // and comes after (invariant 4 of the register).
        self.m.u32_at(at).store(1, Relaxed);
    }

    fn write_block<S: Steps>(&self, me: usize, block: Block, steps: &mut S) -> Result<(), S::Stop> {
        self.block(me).write(block, steps)
    }

    fn read_block(&self, j: usize) -> Option<Block> {
        let fields = self.block(j).read_fields()?;
        let block = Block::checked_from_fields(fields, j, self.n, self.limit);
        if block.is_none() {
            self.flag("block");
        }
        block
    }
}
