//! What a user's crate compiles when it takes and releases a doorway lock
//! through `RawLock`: one function per lock, kept out of line and unmangled so
//! that `bash .ci/inline-check` can find each in the release assembly and
//! check that the lock's path was inlined into it (no call into doorway's own
//! functions, but for the waits that spin or yield, which may stay out of
//! line). The benches are such a user too: they measure what this compiles.

use doorway::{
    RawLock, bakery::Bakery, fastbakery::FastBakery, percore::PerCore, peterson::Peterson,
    ticket::Ticket, tournament::Tournament,
};

/// Locks and unlocks `lock` as participant 0, as a user's crate would.
#[inline(always)]
fn round_trip<R: RawLock>(lock: &R) {
    // SAFETY: participant 0 is used by the caller's thread alone (each of the
    // functions below is called from one thread).
    unsafe {
        lock.lock(0);
        lock.unlock(0);
    }
}

/// `Peterson::lock` and `unlock` from another crate.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn downstream_peterson(lock: &Peterson) {
    round_trip(lock);
}

/// `Bakery<2>::lock` and `unlock` from another crate.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn downstream_bakery_2(lock: &Bakery<2>) {
    round_trip(lock);
}

/// `Bakery<8>::lock` and `unlock` from another crate.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn downstream_bakery_8(lock: &Bakery<8>) {
    round_trip(lock);
}

/// `PerCore<4>::lock` and `unlock` from another crate.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn downstream_percore_4(lock: &PerCore<4>) {
    round_trip(lock);
}

/// `FastBakery<64>::lock` and `unlock` from another crate.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn downstream_fastbakery_64(lock: &FastBakery<64>) {
    round_trip(lock);
}

/// `Tournament<4>::lock` and `unlock` from another crate.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn downstream_tournament_4(lock: &Tournament<4>) {
    round_trip(lock);
}

/// `Ticket::lock` and `unlock` from another crate.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn downstream_ticket(lock: &Ticket) {
    round_trip(lock);
}
