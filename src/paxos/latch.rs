//! A block read whole from 32-bit words: a single-writer sequence counter in
//! front of two copies of the block (a "latch").
//!
//! # Why two copies
//!
//! A plain seqlock keeps one copy: the writer makes the counter odd, writes,
//! and makes it even; a reader retries while the counter is odd or changed.
//! A writer that stops forever with the counter odd would then make its block
//! unreadable forever, and every other proposer would wait on it: exactly the
//! blocking the Paxos register exists to avoid. With two copies the writer
//! only ever writes the copy that readers are steered away from, so a reader
//! always has a whole copy to read, whether the writer is running or stopped.
//!
//! # The algorithm
//!
//! The counter `seq` starts at 0 and both copies hold the empty block. A
//! reader reads copy `seq mod 2`.
//!
//! ```text
//! write(v):  seq := s + 1          readers move to copy 1 (the old value)
//!            copy[0] := v
//!            seq := s + 2          readers move to copy 0 (the new value)
//!            copy[1] := v
//! read():    repeat up to READ_TRIES times:
//!                s := seq;  v := copy[s mod 2]
//!                if seq = s: return v
//!            fail
//! ```
//!
//! # Invariants
//!
//! 1. Only the owner writes, and `seq` is even between writes.
//! 2. While `seq = s`, the writer does not write copy `s mod 2`: copy 0 is
//!    written only while `seq` is odd, copy 1 only while it is even and
//!    after copy 0 holds the same value.
//! 3. Copy `s mod 2` holds the value of the last write whose counter store
//!    reached `s`: the old value while the new one goes into copy 0, the new
//!    one as soon as `seq = s + 2`. A write linearizes at its `seq := s + 2`.
//! 4. A read that finds `seq` unchanged around its copy read overlapped no
//!    write to that copy (invariant 2), so the copy is whole.
//! 5. A stopped writer leaves `seq` fixed: every read succeeds at once, and
//!    returns the old value (stopped before `s + 2`) or the new one (after).
//!    A read fails only if the writer moved `seq` during each of its tries.
//! 6. `seq` never wraps: a proposer writes its block at most twice per
//!    ballot and has at most 2²⁸ ballots, so `seq` stays below 2³¹.
//!
//! # Memory ordering
//!
//! - The counter stores are `Release` and its first load `Acquire`: a reader
//!   that reads `s` sees the copy written before `s` was stored (message
//!   passing).
//! - `TO_COPY_1` and `TO_COPY_0`, release fences between a counter store
//!   and the stores to the copy readers just left: a reader that sees one of
//!   those copy stores must also see the counter store before it, or it could
//!   accept a half-written copy under the old counter.
//! - `CHECK`, an acquire fence between a reader's copy loads and its
//!   second load of the counter: the partner of the two release fences.
//!   Without it, the second counter load could be satisfied before the copy
//!   loads and miss the writer's move.
//!
//! The three form one pattern, run backwards: the writer stores the counter,
//! then data; the reader loads data, then the counter. Each side needs a
//! one-sided fence for it, and the loom models show each one is necessary.
//!
//! # Cost
//!
//! A write is 8 stores (2 to the counter, 3 to each copy) and two release
//! fences, which are free on x86-64 and one `dmb` each on Arm. A read is 5
//! loads and an acquire fence when no write overlaps it.

use super::ballot::Block;
use super::block::{BlockCell, sealed};
use super::steps::Steps;
use crate::sync::{
    Access, AtomicU32, FenceSite,
    Ordering::{Acquire, Relaxed, Release},
    fence,
};

/// Between `seq := s + 1` and the stores to copy 0: a reader that sees any
/// new field of copy 0 must see the counter that steered it to copy 1
/// (store–store order on the writer's side of a reversed message passing).
const TO_COPY_1: FenceSite = FenceSite("latch: steer readers to copy 1 before writing copy 0");

/// Between `seq := s + 2` and the stores to copy 1: as [`TO_COPY_1`], for
/// the second half of a write.
const TO_COPY_0: FenceSite = FenceSite("latch: steer readers to copy 0 before writing copy 1");

/// Between a reader's copy loads and its second counter load (load–load
/// order on the reader's side; partner of the two release fences).
const CHECK: FenceSite = FenceSite("latch: read the copy before re-reading the counter");

/// Every fence of the latch, for doorway's loom mutation tests.
#[cfg(hooks)]
pub const FENCES: [FenceSite; 3] = [TO_COPY_1, TO_COPY_0, CHECK];

/// `seq := s + 1`: the writer steers readers to copy 1, which holds the old
/// value. A reader that reads `s + 1` must see copy 1 as the previous write's
/// second half left it; those stores come before this one in the writer's
/// order, and only this release carries them (the previous write's
/// `TO_COPY_0` fence precedes them). With one write racing one read, copy 1
/// still holds the initial value and nothing shows the need; two writes do.
const STEER_TO_COPY_1: Access = Access::edge("latch: seq = s + 1", Release);

/// `seq := s + 2`: a reader that reads it must see all of copy 0.
const STEER_TO_COPY_0: Access = Access::edge("latch: seq = s + 2", Release);

/// A reader's first load of `seq`: it must see the copy written before the
/// counter store it reads.
const READ_SEQ: Access = Access::edge("latch: reader loads seq", Acquire);

/// Every named ordering of the latch, for doorway's ordering sweep.
#[cfg(hooks)]
pub const ORDERINGS: [Access; 3] = [STEER_TO_COPY_1, STEER_TO_COPY_0, READ_SEQ];

/// How often a read retries before it reports that the writer is busy. Each
/// failed try means the writer moved the counter during it (invariant 5);
/// three tries succeed against any one whole write of the owner.
const READ_TRIES: usize = 3;

/// A block stored as two copies of three 32-bit fields behind a sequence
/// counter; see the [module documentation](self).
///
/// `repr(C)`: a shared file holds latch blocks as seven 32-bit words,
/// 4-aligned.
#[repr(C)]
pub struct LatchBlock {
    seq: AtomicU32,
    copies: [[AtomicU32; 3]; 2],
}

impl LatchBlock {
    fn write_copy<S: Steps>(
        copy: &[AtomicU32; 3],
        fields: [u32; 3],
        steps: &mut S,
    ) -> Result<(), S::Stop> {
        for (word, value) in copy.iter().zip(fields) {
            steps.take()?;
            // Relaxed: ordered after the counter store by the release fence
            // before it, and before the next counter store by its `Release`.
            word.store(value, Relaxed);
        }
        Ok(())
    }
}

impl sealed::Cell for LatchBlock {
    #[cfg(not(loom))]
    const EMPTY: Self = LatchBlock {
        seq: AtomicU32::new(0),
        copies: [const { [const { AtomicU32::new(0) }; 3] }; 2],
    };
    const WRITE_STEPS: usize = 8;
    /// The counter store `seq := s + 2` (invariant 3).
    const VISIBLE_AFTER: usize = 5;

    #[cfg(loom)]
    fn empty() -> Self {
        LatchBlock {
            seq: AtomicU32::new(0),
            copies: core::array::from_fn(|_| core::array::from_fn(|_| AtomicU32::new(0))),
        }
    }

    fn write<S: Steps>(&self, block: Block, steps: &mut S) -> Result<(), S::Stop> {
        // Only the owner stores `seq`, so a relaxed load sees its last store.
        // It is even between writes (invariant 1), unless the block's
        // previous owner was a process killed in the middle of a write (a
        // shared file): then `seq = s + 1` steers readers to copy 1, which is
        // whole, and this write resumes from `s`, rewriting copy 0 before it
        // moves them. Wrapping adds: a counter that someone else scribbled on
        // must not make the owner panic (invariant 6 holds for honest owners).
        let seq = self.seq.load(Relaxed) & !1;
        let fields = block.to_fields();

        steps.take()?;
        self.seq.store(seq.wrapping_add(1), STEER_TO_COPY_1.order());
        fence(Release, TO_COPY_1);
        Self::write_copy(&self.copies[0], fields, steps)?;

        steps.take()?;
        self.seq.store(seq.wrapping_add(2), STEER_TO_COPY_0.order());
        fence(Release, TO_COPY_0);
        Self::write_copy(&self.copies[1], fields, steps)
    }

    fn read(&self) -> Option<Block> {
        self.read_fields().map(Block::from_fields)
    }

    const KIND: u32 = 2;

    fn read_fields(&self) -> Option<[u32; 3]> {
        for _ in 0..READ_TRIES {
            let seq = self.seq.load(READ_SEQ.order());
            let copy = &self.copies[(seq % 2) as usize];
            let fields = [
                copy[0].load(Relaxed),
                copy[1].load(Relaxed),
                copy[2].load(Relaxed),
            ];
            fence(Acquire, CHECK);
            if self.seq.load(Relaxed) == seq {
                return Some(fields);
            }
        }
        None
    }
}

impl BlockCell for LatchBlock {}

impl core::fmt::Debug for LatchBlock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use sealed::Cell;
        core::fmt::Debug::fmt(&self.read(), f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::super::ballot::{Ballot, Vote};
    #[cfg(hooks)]
    use super::super::steps::HaltAfter;
    use super::super::steps::{Unbounded, unstoppable};
    use super::*;
    use sealed::Cell;

    fn block(ballot: u32) -> Block {
        let mut mbal = Ballot::NONE;
        for _ in 0..ballot {
            mbal = Ballot::next_above(mbal, 0, 1);
        }
        Block {
            mbal,
            vote: Some(Vote {
                bal: mbal,
                input: 0,
            }),
        }
    }

    #[test]
    fn a_read_returns_the_last_write() {
        let latch = LatchBlock::EMPTY;
        assert_eq!(latch.read(), Some(Block::EMPTY));
        for ballot in 1..5 {
            unstoppable(latch.write(block(ballot), &mut Unbounded));
            assert_eq!(latch.read(), Some(block(ballot)));
        }
    }

    /// The two tests below stop a writer with a step hook (`HaltAfter`),
    /// which exists with the private feature `__test_hooks` only.
    #[cfg(not(hooks))]
    #[test]
    #[ignore = "not built without --all-features: writers stopped by a step hook"]
    fn stopped_writer_tests_need_the_hooks() {}

    #[cfg(hooks)]
    #[test]
    fn a_new_writer_resumes_after_one_stopped_anywhere() {
        for k in 0..8 {
            let latch = LatchBlock::EMPTY;
            unstoppable(latch.write(block(1), &mut Unbounded));
            let _ = latch.write(block(2), &mut HaltAfter::new(k));
            // The block's next owner (a process that took over the index of
            // one that was killed) writes again, from whatever it left.
            unstoppable(latch.write(block(3), &mut Unbounded));
            assert_eq!(latch.read(), Some(block(3)), "stopped after {k} stores");
            assert!(latch.seq.load(Relaxed).is_multiple_of(2));
        }
    }

    #[cfg(hooks)]
    #[test]
    fn a_writer_stopped_anywhere_leaves_a_whole_block() {
        for k in 0..=8 {
            let latch = LatchBlock::EMPTY;
            unstoppable(latch.write(block(1), &mut Unbounded));
            let stopped = latch.write(block(2), &mut HaltAfter::new(k));
            let seen = latch
                .read()
                .expect("a stopped writer must not block a reader");
            let expected = if k >= 5 { block(2) } else { block(1) };
            assert_eq!(seen, expected, "writer stopped after {k} of 8 stores");
            assert_eq!(stopped.is_ok(), k >= 8);
        }
    }
}
