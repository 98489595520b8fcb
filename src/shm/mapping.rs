//! The mapped file: one checked layout, and atomic accessors whose every
//! offset comes from it.

use super::Error;
use super::custody::{self, FileId};
use super::header::{ASLEEP, CLAIM_WORD, INSIDE, Layout, OWNER_DIED, Regions, WAKE_WORD};
use crate::paxos::block::BlockCell;
use crate::sync::{AtomicU8, AtomicU32, AtomicU64, Ordering::Relaxed};
use bytemuck::Pod;
use std::path::Path;

/// A mapped file whose layout was checked: every accessor takes an offset
/// that comes from [`Regions`] and checks it against the mapping's length.
///
/// It keeps no descriptor: the mapping holds the file, and `id` names it, so
/// that every later open by path can be checked to reach this very file.
pub(crate) struct Mapped {
    pub(crate) map: memmap2::MmapRaw,
    pub(crate) id: FileId,
    pub(crate) layout: Layout,
    pub(crate) regions: Regions,
}

impl Mapped {
    /// The address of `size` bytes at `offset`, aligned to `align`.
    ///
    /// # Panics
    ///
    /// If they are not inside the mapping, or misaligned: offsets come from
    /// the checked layout, so this is a bug in this module, never a
    /// consequence of what the file holds.
    #[inline]
    pub(crate) fn at(&self, offset: usize, size: usize, align: usize) -> *mut u8 {
        assert!(
            offset
                .checked_add(size)
                .is_some_and(|end| end <= self.regions.total)
                && offset.is_multiple_of(align),
            "doorway shm: offset {offset} (+{size}) outside the mapping"
        );
        // The mapping is page-aligned, so an aligned offset is an aligned
        // address; `add` stays inside the mapping (checked above).
        // SAFETY: `offset + size ≤ total`, the mapping's length.
        unsafe { self.map.as_mut_ptr().add(offset) }
    }

    /// The 32-bit word at `offset`.
    #[inline]
    pub(crate) fn u32_at(&self, offset: usize) -> &AtomicU32 {
        let ptr = self.at(offset, 4, 4);
        // SAFETY: in bounds and aligned (checked by `at`), inside a mapping
        // that lives as long as `&self`; `AtomicU32` has the layout of `u32`
        // and every bit pattern is valid. This crate touches the mapping only
        // through atomics, so the concurrent writes of other processes, honest
        // or not, are atomic writes it may race with.
        unsafe { &*ptr.cast::<AtomicU32>() }
    }

    /// The 64-bit word at `offset`.
    #[inline]
    pub(crate) fn u64_at(&self, offset: usize) -> &AtomicU64 {
        let ptr = self.at(offset, 8, 8);
        // SAFETY: as in `u32_at`, for `AtomicU64` and `u64`.
        unsafe { &*ptr.cast::<AtomicU64>() }
    }

    /// The byte at `offset`.
    #[inline]
    pub(crate) fn u8_at(&self, offset: usize) -> &AtomicU8 {
        let ptr = self.at(offset, 1, 1);
        // SAFETY: as in `u32_at`, for `AtomicU8` and `u8`.
        unsafe { &*ptr.cast::<AtomicU8>() }
    }

    /// The block of representation `B` at `offset`.
    #[inline]
    pub(crate) fn block_at<B: BlockCell>(&self, offset: usize) -> &B {
        let ptr = self.at(offset, size_of::<B>(), align_of::<B>());
        // SAFETY: in bounds and aligned (checked by `at`). `B` is sealed:
        // `WordBlock` (`repr(transparent)` over `AtomicU64`) or `LatchBlock`
        // (`repr(C)`, seven `AtomicU32`s), all atomics, every bit pattern
        // valid, so the reasoning of `u32_at` applies; `open` checked that
        // the file's block kind and size are `B`'s.
        unsafe { &*ptr.cast::<B>() }
    }

    /// Where register `at` begins (0: the register; `s + 1`: log slot `s`).
    pub(crate) fn register_offset(&self, at: usize) -> usize {
        assert!(at <= self.layout.log_capacity);
        self.regions.registers + at * self.regions.register_bytes
    }

    /// Reads a `V` stored as 32-bit words at `offset`, one relaxed load per
    /// word (the caller's acquisition orders them). Any bytes are a `V`.
    pub(crate) fn load_pod<V: Pod>(&self, offset: usize) -> V {
        let mut value = V::zeroed();
        for (k, chunk) in bytemuck::bytes_of_mut(&mut value).chunks_mut(4).enumerate() {
            // Relaxed: ordered by the caller's `Acquire` (a block, the
            // decision, or the lock).
            let word = self.u32_at(offset + 4 * k).load(Relaxed).to_ne_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        value
    }

    /// Stores `value` as 32-bit words at `offset`, one relaxed store per word
    /// (the caller's release publishes them).
    pub(crate) fn store_pod<V: Pod>(&self, offset: usize, value: &V) {
        for (k, chunk) in bytemuck::bytes_of(value).chunks(4).enumerate() {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            // Relaxed: published by the caller's `Release` (a block store,
            // or the lock's exit).
            self.u32_at(offset + 4 * k)
                .store(u32::from_ne_bytes(word), Relaxed);
        }
    }

    /// Participant `i`'s claim word.
    pub(crate) fn claim_word(&self, i: usize) -> &AtomicU64 {
        self.u64_at(self.claim_line(i) + CLAIM_WORD)
    }

    /// Participant `i`'s wake word, where it sleeps in the bakery.
    pub(crate) fn wake_word(&self, i: usize) -> &AtomicU32 {
        self.u32_at(self.claim_line(i) + WAKE_WORD)
    }

    /// `inside[i]`.
    pub(crate) fn inside(&self, i: usize) -> &AtomicU32 {
        self.u32_at(self.claim_line(i) + INSIDE)
    }

    /// The bakery's `owner_died` flag.
    pub(crate) fn owner_died(&self) -> &AtomicU32 {
        self.u32_at(self.regions.bakery + OWNER_DIED)
    }

    /// How many participants sleep in the bakery.
    pub(crate) fn asleep(&self) -> &AtomicU32 {
        self.u32_at(self.regions.bakery + ASLEEP)
    }

    /// The byte whose lock is participant `i`'s custody.
    pub(crate) fn claim_byte(&self, i: usize) -> u64 {
        self.regions.claim_byte(self.layout.participants, i)
    }

    fn claim_line(&self, i: usize) -> usize {
        self.regions.claim_line(self.layout.participants, i)
    }

    /// Whether `path` still names this file ([`Error::Replaced`] if not), and
    /// the file still has the length its header states. Reads the path's
    /// metadata (`lstat`): no descriptor.
    pub(crate) fn check(&self, path: &Path) -> Result<(), Error> {
        let found = custody::at_path(path, self.id)?.len();
        let expected = self.regions.total as u64;
        if found == expected {
            Ok(())
        } else {
            Err(Error::Length { found, expected })
        }
    }
}
