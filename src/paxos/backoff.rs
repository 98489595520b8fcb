//! Randomized exponential backoff between a proposer's attempts.
//!
//! Paxos is safe under any timing but live only if, eventually, one proposer
//! runs an attempt without another starting a higher ballot in the middle of
//! it. Two proposers that retry at once can preempt each other forever (the
//! "dueling proposers" livelock). After its `f`-th preemption in a row a
//! proposer therefore pauses for a random number of spin hints drawn
//! uniformly from `0 .. 2^min(f, MAX_DOUBLINGS)`: the windows grow until one
//! proposer's pause is, with high probability, longer than another's whole
//! attempt, and that one decides.
//!
//! From the third preemption on the pause also yields the thread (with `std`):
//! with more proposers than cores, the competitor that would finish may be
//! descheduled, and spinning cannot help it.
//!
//! # Invariants
//!
//! 1. The generator is xorshift32 and its state is never 0 (xorshift maps
//!    every nonzero state to a nonzero state), so draws never get stuck.
//! 2. Seeds differ per proposer and per register (the seed mixes both), so
//!    proposers that fail together draw different pauses.
//! 3. A pause never waits for anything: it is bounded by `2^MAX_DOUBLINGS`
//!    hints and one yield.

use crate::sync;

/// The window stops doubling at `2^MAX_DOUBLINGS` spin hints (about 10 to 40
/// microseconds on current x86-64 cores).
const MAX_DOUBLINGS: u32 = 10;

/// Preemptions in a row after which a pause also yields the thread.
const YIELD_FROM: u32 = 3;

/// One proposer's backoff state.
#[derive(Debug)]
pub(crate) struct Backoff {
    state: u32,
    failures: u32,
}

impl Backoff {
    /// A backoff whose draws depend on `seed` (invariant 2).
    pub(crate) fn new(seed: u64) -> Self {
        // Fibonacci hashing spreads nearby seeds over the whole state space.
        let mixed = (seed.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32;
        Self {
            state: mixed | 1,
            failures: 0,
        }
    }

    /// Pauses after a preemption, for longer (on average) each time.
    pub(crate) fn pause(&mut self) {
        self.failures = self.failures.saturating_add(1);
        let window = 1u32 << self.failures.min(MAX_DOUBLINGS);
        let spins = self.draw() & (window - 1);
        sync::pause(spins, self.failures >= YIELD_FROM);
    }

    /// The next xorshift32 draw (invariant 1).
    fn draw(&mut self) -> u32 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.state = x;
        x
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn draws_never_stick_and_differ_per_seed() {
        let mut a = Backoff::new(0);
        let mut b = Backoff::new(1);
        let draws_a: std::vec::Vec<u32> = (0..64).map(|_| a.draw()).collect();
        let draws_b: std::vec::Vec<u32> = (0..64).map(|_| b.draw()).collect();
        assert!(draws_a.iter().all(|&x| x != 0));
        assert_ne!(draws_a, draws_b);
    }

    #[test]
    fn windows_stop_doubling() {
        // Past the cap, a pause is at most 2^MAX_DOUBLINGS hints and a yield.
        let pauses = if cfg!(miri) { 12 } else { 40 };
        let mut backoff = Backoff::new(7);
        for _ in 0..pauses {
            backoff.pause();
        }
        assert_eq!(backoff.failures, pauses);
        let window = 1u32 << backoff.failures.min(MAX_DOUBLINGS);
        assert_eq!(window, 1 << MAX_DOUBLINGS);
    }
}
