//! Ballots, and the block each proposer owns, as plain values.
//!
//! # Invariants
//!
//! 1. **Ballots are disjoint per proposer.** Proposer `i` of `n` owns exactly
//!    the ballots `b ≥ 1` with `(b − 1) mod n = i`: `i + 1`, `i + 1 + n`,
//!    `i + 1 + 2n`, … Ballot 0 is no ballot at all. Two proposers never use
//!    the same ballot, so a ballot names one proposer and, within one
//!    register, at most one value.
//! 2. **Ballots are bounded.** Every ballot is at most [`Ballot::MAX`]
//!    (2²⁸ − 1), so that `mbal`, `bal` and the input index fit one 64-bit
//!    word. A proposer that would need a ballot above it panics; it can only
//!    get there after 2²⁸ / n preemptions within one register.
//! 3. **A block's vote is never above its promise**: `vote.bal ≤ mbal`, and
//!    the vote's input index names a proposer `< n`.
//!
//! # Encodings
//!
//! - One 64-bit word: `mbal` in bits 36‥64, `bal` in bits 8‥36, and the input
//!   index plus one in bits 0‥8 (0 when there is no vote).
//! - Three 32-bit fields `[mbal, bal, input + 1]`, for the latch of
//!   [`LatchBlock`](super::LatchBlock).
//!
//! The all-zero encoding is the empty block: no promise, no vote.

//! The types are `pub` only so that the sealed block trait can name them;
//! the module is private, so nothing outside the crate can.

use core::fmt;

/// A ballot number; 0 is no ballot.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ballot(u32);

impl Ballot {
    /// No ballot: below every real one.
    pub(crate) const NONE: Ballot = Ballot(0);

    /// The lowest ballot that exists (proposer 0's first). Nothing can have
    /// been voted for below it, which is why it may skip phase 1.
    pub(crate) const LOWEST: Ballot = Ballot(1);

    /// The largest ballot the encodings can hold.
    pub(crate) const MAX: u32 = (1 << BALLOT_BITS) - 1;

    /// Proposer `me`'s first ballot among `n` proposers.
    pub(crate) const fn first(me: usize, n: usize) -> Ballot {
        debug_assert!(me < n && n <= MAX_PROPOSERS);
        Ballot(me as u32 + 1)
    }

    /// Proposer `me`'s smallest ballot above `seen`, among `n` proposers.
    ///
    /// # Panics
    ///
    /// When that ballot would exceed [`Ballot::MAX`] (invariant 2).
    pub(crate) fn next_above(seen: Ballot, me: usize, n: usize) -> Ballot {
        let first = Ballot::first(me, n).0;
        let n = n as u32;
        // Rounds of `n` ballots each: the first round of `me` above `seen`.
        let round = if seen.0 < first {
            0
        } else {
            (seen.0 - first) / n + 1
        };
        match round.checked_mul(n).and_then(|r| r.checked_add(first)) {
            Some(ballot) if ballot <= Ballot::MAX => Ballot(ballot),
            _ => panic!(
                "doorway: proposer {me} ran out of ballots (every ballot up to {} is taken); \
                 a register admits about 2^28 / N preemptions of one proposer",
                Ballot::MAX
            ),
        }
    }

    /// The proposer that owns this ballot, among `n` (invariant 1).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn owner(self, n: usize) -> Option<usize> {
        (self != Ballot::NONE).then(|| (self.0 as usize - 1) % n)
    }
}

impl fmt::Debug for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{}", self.0)
    }
}

/// Bits of a ballot in the 64-bit encoding.
const BALLOT_BITS: u32 = 28;
/// Bits of the input index (plus one) in the 64-bit encoding.
const INPUT_BITS: u32 = 8;

/// The most proposers a register can have: input indices plus one fit 8 bits.
pub(crate) const MAX_PROPOSERS: usize = (1 << INPUT_BITS) - 1;

/// A vote: the ballot at which a proposer last accepted, and whose input it
/// accepted (an index into the register's input cells).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vote {
    pub(crate) bal: Ballot,
    pub(crate) input: usize,
}

/// One proposer's block `(mbal, bal, inp)`: its promise and its vote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Block {
    /// The highest ballot this proposer has started (`mbal`).
    pub(crate) mbal: Ballot,
    /// What it last accepted (`bal`, `inp`), if anything.
    pub(crate) vote: Option<Vote>,
}

impl Block {
    /// No promise, no vote.
    pub(crate) const EMPTY: Block = Block {
        mbal: Ballot::NONE,
        vote: None,
    };

    /// The 64-bit encoding.
    #[cfg(target_has_atomic = "64")]
    pub(crate) fn to_word(self) -> u64 {
        let [mbal, bal, input] = self.to_fields();
        (u64::from(mbal) << (BALLOT_BITS + INPUT_BITS))
            | (u64::from(bal) << INPUT_BITS)
            | u64::from(input)
    }

    /// Decodes [`to_word`](Self::to_word).
    #[cfg(target_has_atomic = "64")]
    pub(crate) fn from_word(word: u64) -> Block {
        let mask = |bits: u32| (1u64 << bits) - 1;
        Block::from_fields([
            (word >> (BALLOT_BITS + INPUT_BITS)) as u32,
            ((word >> INPUT_BITS) & mask(BALLOT_BITS)) as u32,
            (word & mask(INPUT_BITS)) as u32,
        ])
    }

    /// The three-field encoding `[mbal, bal, input + 1]`.
    pub(crate) fn to_fields(self) -> [u32; 3] {
        let (bal, input) = match self.vote {
            Some(vote) => (vote.bal.0, vote.input as u32 + 1),
            None => (0, 0),
        };
        [self.mbal.0, bal, input]
    }

    /// Decodes [`to_fields`](Self::to_fields).
    pub(crate) fn from_fields([mbal, bal, input]: [u32; 3]) -> Block {
        let vote = (input != 0).then(|| Vote {
            bal: Ballot(bal),
            input: input as usize - 1,
        });
        Block {
            mbal: Ballot(mbal),
            vote,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn ballots_are_disjoint_per_proposer_and_increasing() {
        const N: usize = 3;
        let mut seen = std::collections::BTreeSet::new();
        for me in 0..N {
            let mut ballot = Ballot::first(me, N);
            for _ in 0..50 {
                assert_eq!(ballot.owner(N), Some(me));
                assert!(seen.insert(ballot), "{ballot:?} handed out twice");
                let next = Ballot::next_above(ballot, me, N);
                assert!(next > ballot);
                ballot = next;
            }
        }
    }

    #[test]
    fn next_above_is_the_smallest_own_ballot_above() {
        const N: usize = 4;
        for me in 0..N {
            for seen in 0..40 {
                let next = Ballot::next_above(Ballot(seen), me, N);
                assert!(next.0 > seen && next.owner(N) == Some(me));
                let below = (seen + 1..next.0).map(Ballot);
                assert!(
                    below.clone().all(|b| b.owner(N) != Some(me)),
                    "{next:?} skips one"
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "ran out of ballots")]
    fn ballots_beyond_the_limit_panic() {
        let _ = Ballot::next_above(Ballot(Ballot::MAX), 0, 3);
    }

    #[test]
    fn the_last_ballot_is_still_handed_out() {
        let max = Ballot(Ballot::MAX);
        let owner = max.owner(5).unwrap();
        assert_eq!(Ballot::next_above(Ballot(Ballot::MAX - 1), owner, 5), max);
    }

    #[test]
    fn encodings_round_trip() {
        let blocks = [
            Block::EMPTY,
            Block {
                mbal: Ballot(7),
                vote: None,
            },
            Block {
                mbal: Ballot(Ballot::MAX),
                vote: Some(Vote {
                    bal: Ballot(Ballot::MAX - 1),
                    input: MAX_PROPOSERS - 1,
                }),
            },
            Block {
                mbal: Ballot(9),
                vote: Some(Vote {
                    bal: Ballot(9),
                    input: 0,
                }),
            },
        ];
        for block in blocks {
            assert_eq!(Block::from_word(block.to_word()), block);
            assert_eq!(Block::from_fields(block.to_fields()), block);
        }
        assert_eq!(Block::EMPTY.to_word(), 0);
        assert_eq!(Block::EMPTY.to_fields(), [0; 3]);
    }
}
