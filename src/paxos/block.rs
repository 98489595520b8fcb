//! How a proposer's block lives in shared memory.
//!
//! Disk Paxos needs each block `(mbal, bal, inp)` to be read whole: a reader
//! must never combine the promise of one write with the vote of another. A
//! block has one writer, its owner, and many readers. Two representations
//! keep it whole with loads and stores only:
//!
//! - [`WordBlock`], where the target has 64-bit atomics: the block packed into
//!   one `AtomicU64`, written with one store and read with one load.
//! - [`LatchBlock`](super::latch::LatchBlock), everywhere: two copies of the block behind a sequence
//!   counter (see [`latch`](super::latch)). It needs only 32-bit loads and
//!   stores, so it serves targets such as `thumbv6m` and `riscv32imc`.
//!
//! [`NativeBlock`] names the one a target uses by default. Both are always
//! available where they compile, so the tests and loom models check the
//! latch on every machine.
//!
//! # Invariants
//!
//! 1. A block is written only by its owner, so no write needs a
//!    read-modify-write.
//! 2. A successful read returns a block that some write stored whole (or the
//!    empty block), and never one older than a write that happens-before
//!    the read.
//! 3. Writes are `Release` and reads `Acquire`: a reader that sees a block has
//!    synchronized with everything its owner did before writing it, in
//!    particular with the owner's store of its input cell.
//! 4. A read may fail only while the owner is writing (the latch, under
//!    contention); it never fails because the owner stopped.

use super::ballot::Block;
use super::steps::Steps;
#[cfg(target_has_atomic = "64")]
use crate::sync::{
    Access, AtomicU64,
    Ordering::{Relaxed, Release},
};

/// A word block's store: a reader of the block must see the owner's input
/// cell, written before (invariant 3). Proposer 0's first write is its vote,
/// with no fence before it, so this edge is the only one its adopters have.
#[cfg(target_has_atomic = "64")]
const BLOCK_STORE: Access = Access::edge("paxos: word block store", Release);

/// Every named ordering of the word block, for doorway's ordering sweep.
#[cfg(all(hooks, target_has_atomic = "64"))]
pub const ORDERINGS: [Access; 1] = [BLOCK_STORE];

pub(crate) mod sealed {
    use super::{Block, Steps};

    /// The operations behind [`BlockCell`](super::BlockCell); sealed, so the
    /// set of representations is the crate's to choose.
    pub trait Cell: Sized + Send + Sync {
        /// The empty block, for arrays built in `const` context.
        #[cfg(not(loom))]
        #[allow(clippy::declare_interior_mutable_const)] // a template for arrays
        const EMPTY: Self;

        /// The empty block (loom's atomics cannot be `const`).
        #[cfg(loom)]
        fn empty() -> Self;

        /// Shared-memory steps of one write.
        const WRITE_STEPS: usize;

        /// The step of a write after which readers see the new block.
        const VISIBLE_AFTER: usize;

        /// Stores `block` (owner only), taking one step per store.
        fn write<S: Steps>(&self, block: Block, steps: &mut S) -> Result<(), S::Stop>;

        /// Reads the block whole, or `None` if the owner kept writing while
        /// the read was under way (invariant 4).
        fn read(&self) -> Option<Block>;

        /// Reads the block whole as its three fields `[mbal, bal, input + 1]`,
        /// undecoded, for a reader that must check them first (a block in a
        /// shared file); `None` as for [`read`](Self::read).
        fn read_fields(&self) -> Option<[u32; 3]>;

        /// The representation's number in a shared file's header.
        const KIND: u32;
    }
}

/// An empty block of either representation.
#[cfg(not(loom))]
pub(crate) const fn empty<B: BlockCell>() -> B {
    B::EMPTY
}

/// An empty block of either representation.
#[cfg(loom)]
pub(crate) fn empty<B: BlockCell>() -> B {
    B::empty()
}

/// Storage for one proposer's block: [`WordBlock`] or [`LatchBlock`](super::latch::LatchBlock).
///
/// Sealed: the crate provides both implementations and relies on their
/// invariants (see the [module documentation](self)).
pub trait BlockCell: sealed::Cell {}

/// The block representation a target uses by default: [`WordBlock`] where
/// the target has 64-bit atomics, [`LatchBlock`](super::latch::LatchBlock) elsewhere.
#[cfg(target_has_atomic = "64")]
pub type NativeBlock = WordBlock;

/// The block representation a target uses by default: [`WordBlock`] where
/// the target has 64-bit atomics, [`LatchBlock`](super::latch::LatchBlock) elsewhere.
#[cfg(not(target_has_atomic = "64"))]
pub type NativeBlock = super::latch::LatchBlock;

/// A block packed into one 64-bit atomic word: one store writes it, one load
/// reads it whole.
///
/// `repr(transparent)`: a shared file holds word blocks as plain 64-bit
/// words, 8-aligned.
#[cfg(target_has_atomic = "64")]
#[repr(transparent)]
pub struct WordBlock(AtomicU64);

#[cfg(target_has_atomic = "64")]
impl sealed::Cell for WordBlock {
    #[cfg(not(loom))]
    const EMPTY: Self = WordBlock(AtomicU64::new(0));
    const WRITE_STEPS: usize = 1;
    const VISIBLE_AFTER: usize = 1;

    #[cfg(loom)]
    fn empty() -> Self {
        WordBlock(AtomicU64::new(0))
    }

    #[inline]
    fn write<S: Steps>(&self, block: Block, steps: &mut S) -> Result<(), S::Stop> {
        steps.take()?;
        self.0.store(block.to_word(), BLOCK_STORE.order());
        Ok(())
    }

    #[inline]
    fn read(&self) -> Option<Block> {
        // Relaxed: a proposer reads an input named by this block only after
        // the `ACCEPT` fence that follows its phase-1 reads, an acquire fence
        // for this load; phase 2's reads look at promises only.
        Some(Block::from_word(self.0.load(Relaxed)))
    }

    #[inline]
    fn read_fields(&self) -> Option<[u32; 3]> {
        // Relaxed, as in `read`.
        Some(Block::word_fields(self.0.load(Relaxed)))
    }

    const KIND: u32 = 1;
}

#[cfg(target_has_atomic = "64")]
impl BlockCell for WordBlock {}

#[cfg(target_has_atomic = "64")]
impl core::fmt::Debug for WordBlock {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use sealed::Cell;
        core::fmt::Debug::fmt(&self.read(), f)
    }
}
