//! Ballots, and the block each proposer owns, as plain values.
//!
//! # Invariants
//!
//! 1. **Ballots are disjoint per proposer.** The proposer of rank `i` of `n`
//!    owns exactly the ballots `b ≥ 1` with `(b − 1) mod n = i`: `i + 1`,
//!    `i + 1 + n`, `i + 1 + 2n`, … Ballot 0 is no ballot at all. A register
//!    gives each of its proposers one rank (its index moved by the register's
//!    leader, the same for every proposer of that register), so two proposers
//!    never use the same ballot, and a ballot names one proposer and, within
//!    one register, at most one value.
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
//!   [`LatchBlock`](super::latch::LatchBlock).
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

    /// The first ballot of the proposer of rank `me` among `n` proposers (a
    /// register ranks its proposers from its leader: see `Campaign`).
    pub(crate) const fn first(me: usize, n: usize) -> Ballot {
        debug_assert!(me < n && n <= MAX_PROPOSERS);
        Ballot(me as u32 + 1)
    }

    /// The smallest ballot above `seen` of the proposer of rank `me`, among
    /// `n` proposers.
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

    /// The ballot's number.
    #[cfg(shared_file)]
    pub(crate) const fn get(self) -> u32 {
        self.0
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
    #[inline]
    pub(crate) fn to_word(self) -> u64 {
        let [mbal, bal, input] = self.to_fields();
        (u64::from(mbal) << (BALLOT_BITS + INPUT_BITS))
            | (u64::from(bal) << INPUT_BITS)
            | u64::from(input)
    }

    /// Decodes [`to_word`](Self::to_word).
    #[cfg(target_has_atomic = "64")]
    #[inline]
    pub(crate) fn from_word(word: u64) -> Block {
        Block::from_fields(Block::word_fields(word))
    }

    /// The three fields `[mbal, bal, input + 1]` packed in a 64-bit word.
    #[cfg(target_has_atomic = "64")]
    #[inline]
    pub(crate) fn word_fields(word: u64) -> [u32; 3] {
        let mask = |bits: u32| (1u64 << bits) - 1;
        [
            (word >> (BALLOT_BITS + INPUT_BITS)) as u32,
            ((word >> INPUT_BITS) & mask(BALLOT_BITS)) as u32,
            (word & mask(INPUT_BITS)) as u32,
        ]
    }

    /// The three-field encoding `[mbal, bal, input + 1]`.
    #[inline]
    pub(crate) fn to_fields(self) -> [u32; 3] {
        let (bal, input) = match self.vote {
            Some(vote) => (vote.bal.0, vote.input as u32 + 1),
            None => (0, 0),
        };
        [self.mbal.0, bal, input]
    }

    /// Decodes fields `[mbal, bal, input + 1]` read from memory that anyone
    /// may have written anything into (a shared file): `Some` only for a
    /// block that proposer `owner` of `n` could have written, `None` for any
    /// other words. A block it accepts keeps invariants 1 to 3:
    ///
    /// - both ballots are at most `limit` (itself at most [`Ballot::MAX`]);
    /// - both ballots are `owner`'s own (`0`, or `≡ owner + 1 mod n`): a
    ///   proposer writes only its own block, always with its own ballots;
    /// - there is a vote exactly when the input field is nonzero, its ballot
    ///   is nonzero and at most `mbal`, and its input index is below `n`.
    ///
    /// Every index it returns is below `n`, so a caller that indexes inputs
    /// with it stays in bounds whatever the words were.
    #[cfg(any(all(test, not(loom)), shared_file))]
    pub(crate) fn checked_from_fields(
        [mbal, bal, input]: [u32; 3],
        owner: usize,
        n: usize,
        limit: u32,
    ) -> Option<Block> {
        if n == 0 || n > MAX_PROPOSERS || owner >= n || limit > Ballot::MAX {
            return None;
        }
        let owned = |ballot: u32| ballot == 0 || (ballot as usize - 1) % n == owner;
        let ballots_ok = mbal <= limit && bal <= limit && owned(mbal) && owned(bal);
        let vote_ok = match input {
            0 => bal == 0,
            _ => bal != 0 && bal <= mbal && (input as usize - 1) < n,
        };
        (ballots_ok && vote_ok).then(|| Block::from_fields([mbal, bal, input]))
    }

    /// Decodes [`to_fields`](Self::to_fields).
    #[inline]
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

    #[test]
    fn checked_decoding_accepts_what_the_owner_writes() {
        const N: usize = 3;
        for owner in 0..N {
            let mut mbal = Ballot::first(owner, N);
            let mut vote = None;
            for round in 0..20 {
                let block = Block { mbal, vote };
                let back = Block::checked_from_fields(block.to_fields(), owner, N, Ballot::MAX);
                assert_eq!(back, Some(block));
                let other = (owner + 1) % N;
                assert_eq!(
                    Block::checked_from_fields(block.to_fields(), other, N, Ballot::MAX),
                    None,
                    "another proposer's ballots in {owner}'s block"
                );
                vote = Some(Vote {
                    bal: mbal,
                    input: round % N,
                });
                mbal = Ballot::next_above(mbal, owner, N);
            }
        }
    }

    #[test]
    fn checked_decoding_refuses_what_no_owner_writes() {
        let ok = |fields| Block::checked_from_fields(fields, 1, 3, Ballot::MAX).is_some();
        assert!(ok([0, 0, 0]));
        assert!(ok([5, 2, 3]));
        assert!(!ok([2, 5, 1]), "a vote above the promise");
        assert!(!ok([5, 2, 4]), "an input index beyond the proposers");
        assert!(!ok([5, 0, 1]), "a vote at no ballot");
        assert!(!ok([5, 2, 0]), "a vote ballot without an input");
        assert!(!ok([4, 2, 1]), "a promise of another proposer's ballot");
        assert!(!ok([Ballot::MAX + 2, 2, 1]), "a ballot past the encodings");
        assert!(Block::checked_from_fields([5, 2, 1], 1, 3, 4).is_none());
        assert!(Block::checked_from_fields([0, 0, 0], 3, 3, Ballot::MAX).is_none());
    }
}
