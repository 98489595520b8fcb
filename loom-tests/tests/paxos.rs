//! Loom models of the Paxos register, its latch blocks and its log.
//!
//! Every model runs a race from `doorway::harness_paxos`: proposers on loom
//! threads, each playing a bounded role (so every execution is finite), the
//! calling thread observing the register, and an oracle that loom cannot see
//! checking agreement and validity the moment each decision is made.
//!
//! Bounds, and why: next to each model; times: each model's report line
//! (`--nocapture`) and the README. The whole file takes about 2 minutes run
//! one model at a time on the README's 2-core machine.
#![cfg(loom)]

use doorway::__private::{Flaw, flaw};
use doorway::paxos::{block::BlockCell, block::WordBlock, latch::LatchBlock};
use doorway_harness::paxos::{self as scenario, Part, Race, Role};
use doorway_loom_tests::{Bound, Model, Passing};

/// Proposer `k` proposes `100 + k`.
const VALUES: [u64; 3] = [100, 101, 102];

/// A model of a race on a `PaxosRegister<u64, N, B>`, proposer `k`
/// proposing `100 + k` in role `roles[k]`, the calling thread reading the
/// register once.
fn race<B: BlockCell + 'static, const N: usize>(
    name: &str,
    bound: Bound,
    roles: [Role; N],
) -> Model {
    observed_race::<B, N>(name, bound, roles, false)
}

/// [`race`], with the calling thread polling the register until a decision
/// lands if `poll_until_decided`.
fn observed_race<B: BlockCell + 'static, const N: usize>(
    name: &str,
    bound: Bound,
    roles: [Role; N],
    poll_until_decided: bool,
) -> Model {
    let values: [u64; N] = core::array::from_fn(|k| VALUES[k]);
    let block = if core::any::type_name::<B>().contains("Latch") {
        "latch"
    } else {
        "word"
    };
    Model::new(
        format!("paxos {block} N={N} {name} {roles:?}"),
        bound,
        move || {
            scenario::race::<u64, B, N>(Race {
                values,
                roles,
                first: None,
                poll_until_decided,
            });
        },
    )
}

/// Two proposers, one attempt each: the store-buffering race between
/// proposer 0's fast vote (lowest ballot) and proposer 1's two phases.
fn two_once() -> Model {
    race::<WordBlock, 2>(
        "one attempt each",
        Bound::Exhaustive,
        [Role::Attempts(1), Role::Attempts(1)],
    )
}

/// Two proposers, two attempts each: retries with higher ballots, each one
/// re-running phase 1.
fn two_twice() -> Model {
    race::<WordBlock, 2>(
        "two attempts each",
        Bound::Exhaustive,
        [Role::Attempts(2), Role::Attempts(2)],
    )
}

#[test]
fn two_proposers_one_attempt_each_exhaustive() {
    two_once().check();
}

/// Proposer 0 proposes to the end against two attempts of proposer 1, and
/// the other way round: the `Propose` side must decide (it runs alone once
/// the other's attempts are spent), with backoff between its attempts.
#[test]
fn two_proposers_one_to_the_end_exhaustive() {
    for roles in [
        [Role::Propose, Role::Attempts(2)],
        [Role::Attempts(2), Role::Propose],
    ] {
        race::<WordBlock, 2>("to the end vs bounded", Bound::Exhaustive, roles).check();
    }
}

/// Proposer `crasher` stops forever after its `k`-th shared-memory step, for
/// every `k` of a whole proposal; the other proposes to the end and must
/// decide, and whatever both decided must agree. Proposer 0's proposal is
/// the fast one (lowest ballot), proposer 1's has both phases.
#[test]
fn two_proposers_every_crash_point_exhaustive() {
    for crasher in 0..2 {
        for k in 0..=scenario::solo_steps::<WordBlock, 2>(crasher) {
            let mut roles = [Role::Propose; 2];
            roles[crasher] = Role::HaltAfter(k);
            race::<WordBlock, 2>("crash", Bound::Exhaustive, roles).check();
        }
    }
}

/// Preemption bound for three proposers: exhaustively, three proposers with
/// one attempt each are beyond CI's budget.
const THREE_BOUND: usize = 3;

fn three_once() -> Model {
    race::<WordBlock, 3>(
        "one attempt each",
        Bound::Preemptions(THREE_BOUND),
        [Role::Attempts(1); 3],
    )
}

#[test]
fn three_proposers_one_attempt_each_bounded() {
    three_once().check();
}

/// Three proposers, proposer 0 crashing after each of its steps, proposer 1
/// proposing to the end, proposer 2 making one attempt.
#[test]
fn three_proposers_every_crash_point_bounded() {
    for k in 0..=scenario::solo_steps::<WordBlock, 3>(0) {
        race::<WordBlock, 3>(
            "crash",
            Bound::Preemptions(THREE_BOUND),
            [Role::HaltAfter(k), Role::Propose, Role::Attempts(1)],
        )
        .check();
    }
}

/// Preemption bound for the register over latch blocks, whose block writes
/// are 8 stores and reads 5 loads: each bound above 2 multiplies the time
/// past CI's budget.
const LATCH_BOUND: usize = 2;

/// The register over latch blocks (the representation of targets without
/// 64-bit atomics): two proposers, one attempt each.
#[test]
fn latch_register_two_proposers_one_attempt_each_bounded() {
    race::<LatchBlock, 2>(
        "one attempt each",
        Bound::Preemptions(LATCH_BOUND),
        [Role::Attempts(1), Role::Attempts(1)],
    )
    .check();
}

/// Latch blocks, each proposer crashing after each of its steps, including
/// in the middle of each block write (a latch write is 8 stores). Bound 1:
/// every crash point, at bound 2, is beyond CI's budget.
#[test]
fn latch_register_every_crash_point_bounded() {
    for crasher in 0..2 {
        for k in 0..=scenario::solo_steps::<LatchBlock, 2>(crasher) {
            let mut roles = [Role::Propose; 2];
            roles[crasher] = Role::HaltAfter(k);
            race::<LatchBlock, 2>("crash", Bound::Preemptions(1), roles).check();
        }
    }
}

/// One latch holding block 1, a writer storing block 2, a reader reading
/// once. (Two racing writes or two reads take minutes exhaustively.)
fn latch_alone() -> Model {
    Model::new("latch: 1 write vs 1 read", Bound::Exhaustive, || {
        scenario::latch_reads_whole_blocks(1, 1, 1, None)
    })
}

/// The writer of block 2 stops forever after each of its first 7 stores
/// (after all 8 it has finished: that is the model above): the reader must
/// still read a whole block at once, and the right one.
#[test]
fn latch_writer_stopped_at_every_store_exhaustive() {
    for k in 0..8 {
        Model::new(
            format!("latch: writer stopped after {k} of 8 stores"),
            Bound::Exhaustive,
            move || scenario::latch_reads_whole_blocks(1, 1, 1, Some(k)),
        )
        .check();
    }
}

/// Two replicas append one command each to a two-slot log.
#[test]
fn log_two_replicas_one_append_each_bounded() {
    Model::new(
        "paxos log: 2 replicas x 1 append",
        Bound::Preemptions(3),
        || {
            scenario::log_race::<WordBlock, 2>([Part::Append(1); 2], 2);
        },
    )
    .check();
}

/// Replica 0 leads slot 0 and, while it keeps winning, slot 1 (phase 2
/// alone: the lowest ballot is its own), while replica 1 appends once with
/// both phases, as a usurper. Bound 5: unbounded, it does not finish.
fn log_leader_and_usurper() -> Model {
    Model::new(
        "paxos log: leader x 2 appends vs usurper x 1",
        Bound::Preemptions(5),
        || {
            scenario::log_race::<WordBlock, 2>([Part::Append(2), Part::Append(1)], 3);
        },
    )
}

#[test]
fn log_leader_and_usurper_bounded() {
    log_leader_and_usurper().check();
}

/// The leader (replica 0) stops forever after each of its shared-memory
/// steps through two lone appends (`solo_steps` each: its first slot, then
/// its phase-2-only proposal in the second); replica 1 appends twice and must
/// get past the stopped leader's lowest ballot and any vote it left. Bound 3:
/// under half a second per stopping point.
#[test]
fn log_a_stopped_leader_blocks_nobody_bounded() {
    let leader_steps = 2 * scenario::solo_steps::<WordBlock, 2>(0);
    for k in 0..=leader_steps {
        Model::new(
            format!("paxos log: leader stopped after {k} steps vs 2 appends"),
            Bound::Preemptions(3),
            move || {
                scenario::log_race::<WordBlock, 2>(
                    [Part::AppendHaltingAfter(2, k), Part::Append(2)],
                    4,
                );
            },
        )
        .check();
    }
}

/// Two proposers with two attempts each, and an observer polling the
/// register, pass. Then: removing or weakening either fence of the register
/// lets two proposers decide differently; weakening an ordering of the
/// register (the decision) or of its word blocks lets two proposers disagree,
/// or hands out an input that was never seen written. The word block's store
/// is loom-blind (proposer 0's first vote has no fence before it, and loom
/// sees no schedule between it and the fence after), so a Miri test covers
/// it.
#[test]
fn register_models_and_every_fence_and_ordering() {
    let passing = Passing::check(vec![
        two_once(),
        two_twice(),
        observer_polls_until_decided(),
    ]);
    let fences = doorway::paxos::register::FENCES.iter().map(|site| site.0);
    let accesses = (doorway::paxos::register::ORDERINGS.iter())
        .chain(&doorway::paxos::block::ORDERINGS)
        .map(|access| access.name);
    passing.aims_are_declared(fences.chain(accesses));
    passing.every_fence_is_necessary(&doorway::paxos::register::FENCES);
    passing.every_ordering_is_necessary(&doorway::paxos::register::ORDERINGS, &[]);
    passing.every_ordering_is_necessary(
        &doorway::paxos::block::ORDERINGS,
        &[(
            "paxos: word block store",
            "shapes::paxos_first_vote_is_adopted",
        )],
    );
}

/// An observer that polls the register until a decision lands, against a
/// proposer that proposes to the end and one that attempts once: the observer
/// hands out the decided input as soon as it sees the decision, so its read of
/// the decision must carry the input cell's write.
fn observer_polls_until_decided() -> Model {
    observed_race::<WordBlock, 2>(
        "observer polls until decided",
        Bound::Exhaustive,
        [Role::Propose, Role::Attempts(1)],
        true,
    )
    // The other models read the decision only before it can land.
    .tried_first_for(&["paxos: a reader reads the decision"])
}

/// Two writes racing one read: the second write's `seq := s + 1` must carry
/// the first write's copy 1 to a reader steered there. (With one racing
/// write, copy 1 still holds the initial block, and nothing shows it.)
fn latch_two_writes() -> Model {
    Model::new("latch: 2 writes vs 1 read", Bound::Preemptions(3), || {
        scenario::latch_reads_whole_blocks(0, 2, 1, None)
    })
}

/// A latch read against one write, and against two, returns whole blocks;
/// removing either release fence of the latch writer, or the acquire fence
/// of the reader, or weakening an ordering of the latch, lets a read return a
/// torn block.
#[test]
fn latch_models_and_every_fence_and_ordering() {
    let passing = Passing::check(vec![latch_alone(), latch_two_writes()]);
    passing.every_fence_is_necessary(&doorway::paxos::latch::FENCES);
    passing.every_ordering_is_necessary(&doorway::paxos::latch::ORDERINGS, &[]);
}

/// Each deliberate flaw of the algorithm is caught by one of the models,
/// cheapest first, as a violation of agreement or validity.
#[test]
fn every_flaw_is_caught() {
    let models = [two_once(), two_twice(), three_once()];
    for broken in Flaw::ALL {
        let caught = models.iter().any(|model| {
            model.catches_under(&format!("flaw {broken:?}"), |explore| {
                flaw::with(broken, explore)
            })
        });
        assert!(caught, "no model catches the flaw {broken:?}");
    }
    for broken in Flaw::LOG {
        let caught = log_leader_and_usurper()
            .catches_under(&format!("flaw {broken:?}"), |explore| {
                flaw::with(broken, explore)
            });
        assert!(caught, "no model catches the flaw {broken:?}");
    }
}
