//! Paxos scenarios shared by the thread tests and the loom models: races on
//! one register with an oracle, proposers stopped or stalled at any step, the
//! log race, and latch reads. Doorway's own test builds only: they use the
//! step hooks of `doorway::__private::paxos`.
//!
//! Like [`locks`](crate::locks), every scenario runs on whatever
//! [`sync`](crate::sync) provides: real threads normally, loom's threads under
//! `--cfg loom`. Proposer `k` runs on thread `k`.
//!
//! # The oracle
//!
//! Every decision is recorded, the moment it is made, in an [`Oracle`]: a
//! `std` mutex that loom cannot see, so it adds no interleavings and is not
//! subject to the weak memory the model explores. The first decision
//! recorded is the one every later record must equal; anything else panics
//! with "agreement violated". Validity failures panic with "validity
//! violated", and a latch read that mixes two writes with "atomicity
//! violated"; the loom models count those messages as findings.

use crate::sync::{Arc, thread};
use doorway::__private::paxos::{self as hooks, Halted, Latch, StepBudget};
use doorway::paxos::{block::BlockCell, log::PaxosLog, register::Attempt, register::PaxosRegister};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Mutex;

pub use hooks::{
    append_counting_steps, propose_counting_steps, propose_halting_after, propose_pausing_after,
    solo_steps, vote_visible_after, write_steps,
};

/// Decisions as they happen, kept where loom cannot see them.
pub struct Oracle<T> {
    first: Mutex<Option<(String, T)>>,
}

impl<T: Clone + PartialEq + Debug> Oracle<T> {
    /// No decision yet.
    pub fn new() -> Self {
        Self {
            first: Mutex::new(None),
        }
    }

    /// Records that `who` decided (or saw decided) `value`; panics with
    /// "agreement violated" if an earlier record differs.
    pub fn record(&self, who: &str, value: &T) {
        let mut first = self
            .first
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        match &*first {
            None => *first = Some((String::from(who), value.clone())),
            Some((earlier, decided)) => assert!(
                decided == value,
                "agreement violated: {who} decided {value:?}, but {earlier} decided {decided:?}"
            ),
        }
    }

    /// The value decided, if anything was recorded.
    pub fn decided(&self) -> Option<T> {
        let first = self
            .first
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        first.as_ref().map(|(_, value)| value.clone())
    }
}

impl<T: Clone + PartialEq + Debug> Default for Oracle<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// What a proposer does in a [`race`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Does not propose.
    Idle,
    /// Proposes until decided, backing off between attempts. Must decide:
    /// the race panics otherwise.
    Propose,
    /// Makes at most this many attempts, without backoff.
    Attempts(usize),
    /// Proposes until decided, but stops forever after this many steps.
    HaltAfter(usize),
}

/// How a proposer's part in a [`race`] ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate<T> {
    /// It did not propose.
    Idle,
    /// It returned this decided value.
    Decided(T),
    /// Every attempt it was allowed was preempted.
    Preempted,
    /// It stopped forever before deciding.
    Halted,
}

/// The proposers of a [`race`]: what each proposes and how.
#[derive(Clone, Debug)]
pub struct Race<T, const N: usize> {
    /// Proposer `k` proposes `values[k]`.
    pub values: [T; N],
    /// Proposer `k` plays `roles[k]`.
    pub roles: [Role; N],
    /// This proposer plays its role alone, on the calling thread, before the
    /// others start: a proposer that stopped, or decided, before anyone else
    /// arrived.
    pub first: Option<usize>,
    /// Whether the calling thread, observing, polls the register until a
    /// decision lands (a [`Role::Propose`] proposer guarantees one), instead
    /// of reading it once: a reader that passes on a decision must see the
    /// decided input.
    pub poll_until_decided: bool,
}

struct Plan<T, const N: usize, B: BlockCell> {
    register: PaxosRegister<T, N, B>,
    race: Race<T, N>,
    oracle: Oracle<T>,
}

/// Runs a race on a fresh `PaxosRegister<T, N, B>`: one thread per proposer
/// that is not idle (the calling thread observes the register meanwhile),
/// and checks, panicking with the property's name:
///
/// - agreement: every decision, every observation of the decision, and the
///   register's final state agree (the oracle);
/// - validity: the decided value is the input of a proposer that proposed,
///   and the register names that proposer as the winner;
/// - liveness where it is promised: every [`Role::Propose`] proposer decided
///   (the other roles are bounded, so it eventually ran alone).
///
/// Returns each proposer's fate.
pub fn race<T, B, const N: usize>(race: Race<T, N>) -> [Fate<T>; N]
where
    T: Clone + PartialEq + Debug + Send + Sync + 'static,
    B: BlockCell + 'static,
{
    let plan = Plan::<T, N, B> {
        register: PaxosRegister::new(),
        race,
        oracle: Oracle::new(),
    };
    let first = plan.race.first.map(|who| (who, play(&plan, who)));
    let plan = Arc::new(plan);
    let handles: Vec<_> = (0..N)
        .filter(|&who| plan.race.roles[who] != Role::Idle && Some(who) != plan.race.first)
        .map(|who| {
            let plan = Arc::clone(&plan);
            (who, thread::spawn(move || play(&plan, who)))
        })
        .collect();
    if plan.race.poll_until_decided {
        assert!(
            plan.race.roles.contains(&Role::Propose),
            "polling for a decision needs a proposer that must decide"
        );
        loop {
            if let Some(value) = plan.register.get() {
                plan.oracle.record("an observer", value);
                break;
            }
            thread::yield_now();
        }
    } else if let Some(value) = plan.register.get() {
        plan.oracle.record("an observer", value);
    }
    let mut fates: [Fate<T>; N] = core::array::from_fn(|_| Fate::Idle);
    for (who, handle) in handles {
        fates[who] = handle.join().expect("a proposer thread panicked");
    }
    if let Some((who, fate)) = first {
        fates[who] = fate;
    }
    check_race(&plan, &fates);
    fates
}

/// Proposer `who` plays its role.
fn play<T, B, const N: usize>(plan: &Plan<T, N, B>, who: usize) -> Fate<T>
where
    T: Clone + PartialEq + Debug + Send + Sync,
    B: BlockCell,
{
    let value = plan.race.values[who].clone();
    // SAFETY: proposer `who` is created once per race, on the one thread
    // that plays it.
    let proposer = unsafe { plan.register.proposer_unchecked(who) };
    let fate = match plan.race.roles[who] {
        Role::Idle => Fate::Idle,
        Role::Propose => Fate::Decided(proposer.propose(value)),
        Role::Attempts(attempts) => {
            let mut attempt = proposer.try_propose(value);
            for _ in 1..attempts {
                match attempt {
                    Attempt::Preempted(proposal) => attempt = proposal.try_again(),
                    Attempt::Decided(_) => break,
                }
            }
            match attempt {
                Attempt::Decided(value) => Fate::Decided(value),
                Attempt::Preempted(_) => Fate::Preempted,
            }
        }
        Role::HaltAfter(steps) => match propose_halting_after(proposer, value, steps) {
            Some(value) => Fate::Decided(value),
            None => Fate::Halted,
        },
    };
    if let Fate::Decided(value) = &fate {
        plan.oracle.record(&format!("proposer {who}"), value);
    }
    fate
}

fn check_race<T, B, const N: usize>(plan: &Plan<T, N, B>, fates: &[Fate<T>; N])
where
    T: Clone + PartialEq + Debug,
    B: BlockCell,
{
    let race = &plan.race;
    match (plan.register.winner(), plan.register.get()) {
        (Some(winner), Some(value)) => {
            plan.oracle.record("the register after the race", value);
            assert!(
                race.roles[winner] != Role::Idle && race.values[winner] == *value,
                "validity violated: the register decided {value:?} as proposer {winner}'s input, \
                 but proposer {winner} proposed {:?} as {:?}",
                race.values[winner],
                race.roles[winner]
            );
        }
        (None, None) => assert!(
            plan.oracle.decided().is_none(),
            "agreement violated: a proposer decided {:?} but the register is undecided",
            plan.oracle.decided()
        ),
        (winner, value) => panic!("the register's winner {winner:?} and value {value:?} disagree"),
    }
    for (who, (role, fate)) in race.roles.iter().zip(fates).enumerate() {
        if *role == Role::Propose {
            assert!(
                matches!(fate, Fate::Decided(_)),
                "liveness violated: proposer {who} proposed to the end but ended {fate:?}"
            );
        }
    }
}

/// What a replica does in a [`log_race`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Appends this many commands.
    Append(usize),
    /// Appends this many commands, but stops forever after this many
    /// shared-memory steps.
    AppendHaltingAfter(usize, usize),
}

/// `N` replicas append to a fresh log of `capacity` slots, each playing its
/// [`Part`]; replica `r`'s `i`-th command is `r * 1000 + i`. Checks:
///
/// - agreement: every replica sees the same command in every slot it passes
///   (the oracle), and the log's final contents match;
/// - every command of a replica that finished is in the log exactly once, and
///   nothing else is (a halted replica's last command may or may not be);
/// - the decided slots form a prefix, and `len()` counts them.
///
/// Returns the decided commands in order.
pub fn log_race<B, const N: usize>(parts: [Part; N], capacity: usize) -> Vec<u64>
where
    B: BlockCell + 'static,
{
    struct LogPlan<const N: usize, B: BlockCell> {
        log: PaxosLog<u64, N, B>,
        parts: [Part; N],
        slots: Mutex<BTreeMap<usize, u64>>,
    }
    let plan = Arc::new(LogPlan::<N, B> {
        log: PaxosLog::with_capacity(capacity),
        parts,
        slots: Mutex::new(BTreeMap::new()),
    });
    let handles: Vec<_> = (0..N)
        .map(|who| {
            let plan = Arc::clone(&plan);
            thread::spawn(move || {
                // SAFETY: replica `who` is created once, on this thread.
                let mut replica = unsafe { plan.log.replica_unchecked(who) };
                let (appends, mut halt) = match plan.parts[who] {
                    Part::Append(n) => (n, None),
                    Part::AppendHaltingAfter(n, steps) => (n, Some(StepBudget::new(steps))),
                };
                let mut appended = Vec::new();
                for i in 0..appends {
                    let command = (who * 1000 + i) as u64;
                    let before = replica.next_slot();
                    let slot = match &mut halt {
                        None => replica.append(command),
                        Some(budget) => match hooks::append_halting(&mut replica, command, budget) {
                            Ok(result) => result,
                            Err(Halted) => return (appended, false),
                        },
                    };
                    let slot = slot.expect("the log is sized for every command");
                    for passed in before..=slot {
                        let seen = *plan.log.get(passed).expect("a passed slot is decided");
                        let mut slots = plan.slots.lock().unwrap_or_else(|p| p.into_inner());
                        let earlier = *slots.entry(passed).or_insert(seen);
                        assert_eq!(
                            earlier, seen,
                            "agreement violated: replica {who} sees {seen} in slot {passed}, another saw {earlier}"
                        );
                    }
                    assert_eq!(*plan.log.get(slot).unwrap(), command, "append returned a slot it lost");
                    appended.push(command);
                }
                (appended, true)
            })
        })
        .collect();
    let mut expected = Vec::new();
    let mut maybe = Vec::new();
    for (who, handle) in handles.into_iter().enumerate() {
        let (appended, finished) = handle.join().expect("a replica thread panicked");
        expected.extend(appended.iter().copied());
        if !finished {
            maybe.push((who * 1000 + appended.len()) as u64);
        }
    }
    let decided: Vec<u64> = plan.log.decided().copied().collect();
    assert_eq!(
        plan.log.len(),
        decided.len(),
        "len() disagrees with the decided prefix"
    );
    let slots = plan.slots.lock().unwrap_or_else(|p| p.into_inner());
    for (&slot, &seen) in slots.iter() {
        assert_eq!(
            decided.get(slot),
            Some(&seen),
            "agreement violated: slot {slot} changed"
        );
    }
    let mut sorted = decided.clone();
    sorted.sort_unstable();
    let mut wanted = expected;
    wanted.extend(maybe.iter().filter(|command| sorted.contains(command)));
    wanted.sort_unstable();
    assert_eq!(
        sorted, wanted,
        "validity violated: the log holds other commands than were appended, or some twice"
    );
    decided
}

/// The block whose three fields are all `k`: a write the reader can tell
/// from a mix of two writes.
fn latch_block(k: u32) -> [u32; 3] {
    [k, k, k]
}

/// A [`LatchBlock`] holds block `settled` (blocks `1..=settled` were written
/// before anyone else arrived); then a writer stores blocks `settled + 1` to
/// `settled + racing` while a reader reads the latch `reads` times. Every
/// read that succeeds must be one whole block ("atomicity violated"
/// otherwise) and no older than the reader's previous read. If `halt_after`
/// is set, the writer stops forever after that many of its racing steps (a
/// latch write is 8 stores); once it has stopped, a read must succeed at
/// once and return the last whole block.
pub fn latch_reads_whole_blocks(
    settled: u32,
    racing: u32,
    reads: usize,
    halt_after: Option<usize>,
) {
    fn check(block: [u32; 3], previous: u32) -> u32 {
        let [a, b, c] = block;
        assert!(
            a == b && b == c,
            "atomicity violated: a latch read returned the torn block {:?}",
            [a, b, c]
        );
        assert!(
            a >= previous,
            "atomicity violated: a latch read went back from {previous} to {a}"
        );
        a
    }
    let latch = Latch::new();
    for k in 1..=settled {
        latch.write_whole(latch_block(k));
    }
    let latch = Arc::new(latch);
    let writer = {
        let latch = Arc::clone(&latch);
        thread::spawn(move || {
            let mut budget = StepBudget::new(halt_after.unwrap_or(usize::MAX));
            for k in settled + 1..=settled + racing {
                if !latch.write(latch_block(k), &mut budget) {
                    return;
                }
            }
        })
    };
    let mut last = settled;
    for _ in 0..reads {
        if let Some(block) = latch.read() {
            last = check(block, last);
        }
    }
    writer.join().expect("the writer panicked");
    let block = latch
        .read()
        .expect("a stopped or finished writer must never make its block unreadable");
    let last = check(block, last);
    let (write, visible) = (Latch::WRITE_STEPS, Latch::VISIBLE_AFTER);
    let finished = match halt_after {
        None => racing,
        Some(steps) => {
            let seen = if steps >= visible {
                (steps - visible) / write + 1
            } else {
                0
            };
            seen.min(racing as usize) as u32
        }
    };
    assert_eq!(
        last,
        settled + finished,
        "the latch lost or invented a write"
    );
}

/// A small deterministic generator for the stress tests' random values.
pub fn xorshift(seed: u64) -> impl Iterator<Item = u64> {
    let mut state = seed | 1;
    core::iter::from_fn(move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        Some(state)
    })
}
