//! The Paxos register and log on real threads: agreement, validity, decide
//! once, every crash point, stalls, livelock freedom, and the log's single
//! sequence. One suite, instantiated per block representation at the bottom.
//!
//! Counts shrink under Miri, which runs the same tests to look for data races
//! and undefined behaviour (and leaks of the values in the input cells).
//!
//! The crash points use doorway's step hooks (the private feature
//! `__test_hooks`, which this repository's dev-dependency on itself enables).

#![cfg(not(loom))]

use doorway::paxos::{
    block::WordBlock, latch::LatchBlock, log::PaxosLog, register::Attempt, register::PaxosRegister,
};
use doorway_harness::paxos::{self as scenario, Fate, Part, Race, Role};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::Duration;

/// Registers in the stress tests.
const REGISTERS: usize = if cfg!(miri) { 3 } else { 3000 };

/// Repetitions of each concurrent crash point (the sequential ones are
/// deterministic and run once).
const CRASH_REPEATS: usize = if cfg!(miri) { 1 } else { 20 };

/// How long a test waits for proposers that must finish before it calls the
/// run a livelock. Not a performance bound: a correct run takes milliseconds.
const LIVELOCK_WATCHDOG: Duration = Duration::from_secs(120);

/// Crash points `0..=last`: every one normally; under Miri, which looks for
/// undefined behaviour rather than for the bad interleaving, every
/// `miri_stride`-th and the last.
fn crash_points(last: usize, miri_stride: usize) -> impl Iterator<Item = usize> {
    let stride = if cfg!(miri) { miri_stride } else { 1 };
    (0..=last).filter(move |k| k % stride == 0 || *k == last)
}

/// Runs `f` on a thread and fails if it does not finish within the watchdog.
fn within_watchdog<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || done.send(f()));
    finished
        .recv_timeout(if cfg!(miri) {
            Duration::MAX
        } else {
            LIVELOCK_WATCHDOG
        })
        .unwrap_or_else(|_| panic!("{what}: proposers did not finish; livelock suspected"))
}

macro_rules! register_suite {
    ($name:ident: $block:ty) => {
        mod $name {
            use super::*;

            type B = $block;

            /// Steps of a lone proposal by proposer `me` of `N`.
            fn solo_steps<const N: usize>(me: usize) -> usize {
                scenario::solo_steps::<B, N>(me)
            }

            #[test]
            fn a_lone_proposer_decides_its_own_value() {
                for me in 0..3 {
                    let mut register = PaxosRegister::<String, 3, B>::new();
                    let proposer = register.proposers().into_iter().nth(me).unwrap();
                    assert_eq!(proposer.propose(format!("mine {me}")), format!("mine {me}"));
                    assert_eq!(register.decided(), Some(format!("mine {me}")));
                    assert_eq!(register.winner(), Some(me));
                }
            }

            #[test]
            fn a_lone_proposer_decides_in_exactly_its_step_bound() {
                for me in 0..4 {
                    let bound = solo_steps::<4>(me);
                    let mut register = PaxosRegister::<u32, 4, B>::new();
                    let proposer = register.proposers().into_iter().nth(me).unwrap();
                    let (value, steps) = scenario::propose_counting_steps(proposer, 7);
                    assert_eq!((value, steps), (7, bound), "proposer {me}");

                    let mut register = PaxosRegister::<u32, 4, B>::new();
                    let proposer = register.proposers().into_iter().nth(me).unwrap();
                    assert_eq!(
                        scenario::propose_halting_after(proposer, 7, bound - 1),
                        None,
                        "proposer {me} decided in fewer steps than counted"
                    );
                    assert_eq!(register.decided(), None);
                }
            }

            /// Proposer `crasher` stops forever after its `k`-th step, for
            /// every `k` of a whole proposal: first alone before the others
            /// start, then racing them. The others must decide and agree
            /// (the harness checks agreement, validity and liveness).
            #[test]
            fn every_crash_point_leaves_the_others_deciding() {
                for crasher in [0, 1] {
                    for k in crash_points(solo_steps::<3>(crasher), 4) {
                        let mut roles = [Role::Propose; 3];
                        roles[crasher] = Role::HaltAfter(k);
                        let values = [10, 11, 12];
                        let fates = scenario::race::<u64, B, 3>(Race {
                            values,
                            roles,
                            first: Some(crasher),
                            poll_until_decided: false,
                        });
                        let decided_alone = fates[crasher] == Fate::Decided(values[crasher]);
                        assert_eq!(decided_alone, k == solo_steps::<3>(crasher));
                        for _ in 0..CRASH_REPEATS {
                            scenario::race::<u64, B, 3>(Race {
                                values,
                                roles,
                                first: None,
                                poll_until_decided: false,
                            });
                        }
                    }
                }
            }

            /// After proposer 0 stops at any point, proposer 1, alone,
            /// decides within two attempts (register invariant 6).
            #[test]
            fn a_survivor_decides_within_two_attempts() {
                for crasher in [0, 2] {
                    for k in crash_points(solo_steps::<3>(crasher), 4) {
                        let mut roles = [Role::Idle; 3];
                        roles[crasher] = Role::HaltAfter(k);
                        roles[1] = Role::Attempts(2);
                        let fates = scenario::race::<u64, B, 3>(Race {
                            values: [10, 11, 12],
                            roles,
                            first: Some(crasher),
                            poll_until_decided: false,
                        });
                        assert!(
                            matches!(fates[1], Fate::Decided(_)),
                            "proposer {crasher} stopped after {k} steps; the survivor ended {:?}",
                            fates[1]
                        );
                    }
                }
            }

            /// Proposer 0 stalls after its `k`-th step (its thread blocks)
            /// while the others decide; when it resumes it learns the same
            /// value. For every `k`.
            #[test]
            fn a_stalled_proposer_blocks_nobody_and_learns_the_decision() {
                // After its last step a proposal is over: nothing to stall.
                for k in crash_points(solo_steps::<3>(0) - 1, 4) {
                    let mut register = PaxosRegister::<u64, 3, B>::new();
                    let [stalled, b, c] = register.proposers();
                    let (stall, resume) = mpsc::channel::<()>();
                    let (paused_tx, paused) = mpsc::channel::<()>();
                    let (first, others) = std::thread::scope(|s| {
                        let first = s.spawn(move || {
                            scenario::propose_pausing_after(stalled, 100, k, || {
                                paused_tx.send(()).unwrap();
                                resume.recv().unwrap();
                            })
                        });
                        let paused = paused.recv_timeout(LIVELOCK_WATCHDOG).is_ok();
                        let others = [
                            s.spawn(move || b.propose(101)),
                            s.spawn(move || c.propose(102)),
                        ]
                        .map(|h| h.join().unwrap());
                        stall.send(()).ok();
                        let (first, did_pause) = first.join().unwrap();
                        assert!(paused && did_pause, "the pause after step {k} never ran");
                        (first, others)
                    });
                    assert_eq!(others[0], others[1], "agreement violated");
                    assert_eq!(first, others[0], "agreement violated: the stalled proposer");
                    assert_eq!(register.decided(), Some(first));
                    // Proposer 0 votes at the lowest ballot without a phase 1.
                    // Once that vote is visible, every later phase 1 reads it
                    // and adopts it (nobody can have voted higher yet), so it
                    // wins; before, no block names its input, so it cannot.
                    let vote_visible = scenario::vote_visible_after::<B, 3>(0);
                    assert_eq!(
                        first == 100,
                        k >= vote_visible,
                        "proposer 0 stalled after step {k}; decided {first}"
                    );
                }
            }

            #[test]
            fn try_propose_reports_preemption_and_tries_again() {
                let mut register = PaxosRegister::<&str, 3, B>::new();
                let [_, b, c] = register.proposers();
                let (stall, resume) = mpsc::channel::<()>();
                let (paused_tx, paused) = mpsc::channel::<()>();
                std::thread::scope(|s| {
                    // `c` (ballot 3) stops right after promising ballot 3:
                    // decision load, input, then the block write.
                    let c = s.spawn(move || {
                        scenario::propose_pausing_after(
                            c,
                            "c",
                            2 + scenario::write_steps::<B>(),
                            || {
                                paused_tx.send(()).unwrap();
                                resume.recv().unwrap();
                            },
                        )
                    });
                    paused.recv().unwrap();
                    let retry = match b.try_propose("b") {
                        Attempt::Preempted(retry) => retry,
                        Attempt::Decided(v) => {
                            panic!("ballot 2 decided {v:?} past a promise of ballot 3")
                        }
                    };
                    assert_eq!(retry.index(), 1);
                    match retry.try_again() {
                        Attempt::Decided(v) => assert_eq!(v, "b"),
                        Attempt::Preempted(p) => {
                            panic!("preempted again by a stalled proposer: {p:?}")
                        }
                    }
                    stall.send(()).unwrap();
                    let (c, _) = c.join().unwrap();
                    assert_eq!(c, "b", "the resumed proposer must adopt the decided value");
                });
            }

            #[test]
            fn a_decision_is_made_once() {
                let mut register = PaxosRegister::<u32, 4, B>::new();
                let [a, b, c, d] = register.proposers();
                assert_eq!(b.propose(2), 2);
                assert_eq!(a.propose(1), 2, "a later proposal changed the decision");
                match c.try_propose(3) {
                    Attempt::Decided(v) => assert_eq!(v, 2),
                    Attempt::Preempted(_) => panic!("a decided register preempted a proposer"),
                }
                assert_eq!(
                    scenario::propose_counting_steps(d, 4),
                    (2, 1),
                    "a late proposer reads the decision in one step"
                );
                assert_eq!(register.decided(), Some(2));
                assert_eq!(register.into_decided(), Some(2));
            }

            /// Threads propose random values into many registers, all
            /// starting each register at once; every register must decide
            /// one of its proposed values, the same for everyone.
            #[test]
            fn many_registers_agree_under_contention() {
                const N: usize = 4;
                let mut registers: Vec<PaxosRegister<u64, N, B>> =
                    (0..REGISTERS).map(|_| PaxosRegister::new()).collect();
                let mut per_thread: [Vec<_>; N] = Default::default();
                for register in &mut registers {
                    for (k, proposer) in register.proposers().into_iter().enumerate() {
                        per_thread[k].push(proposer);
                    }
                }
                let values: Vec<[u64; N]> = {
                    let mut random = scenario::xorshift(0x5eed);
                    (0..REGISTERS)
                        .map(|_| core::array::from_fn(|_| random.next().unwrap()))
                        .collect()
                };
                let barrier = Barrier::new(N);
                let decided: Vec<Vec<u64>> = std::thread::scope(|s| {
                    let handles: Vec<_> = per_thread
                        .into_iter()
                        .enumerate()
                        .map(|(k, proposers)| {
                            let (values, barrier) = (&values, &barrier);
                            s.spawn(move || {
                                barrier.wait();
                                proposers
                                    .into_iter()
                                    .zip(values)
                                    .map(|(proposer, v)| proposer.propose(v[k]))
                                    .collect()
                            })
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().unwrap()).collect()
                });
                for (r, register) in registers.iter().enumerate() {
                    let value = register.decided().expect("every register decided");
                    assert!(
                        values[r].contains(&value),
                        "validity violated in register {r}"
                    );
                    for (k, seen) in decided.iter().enumerate() {
                        assert_eq!(
                            seen[r], value,
                            "agreement violated: thread {k}, register {r}"
                        );
                    }
                }
            }

            /// More proposers than cores, all proposing at once, register
            /// after register: randomized backoff must let each register
            /// decide.
            #[test]
            fn proposers_all_at_once_do_not_livelock() {
                const N: usize = 8;
                let registers = if cfg!(miri) { 1 } else { 500 };
                within_watchdog("8 proposers at once", move || {
                    let barrier = Arc::new(Barrier::new(N));
                    for r in 0..registers {
                        let mut register = PaxosRegister::<usize, N, B>::new();
                        let decided: Vec<usize> = std::thread::scope(|s| {
                            let handles: Vec<_> = register
                                .proposers()
                                .into_iter()
                                .map(|proposer| {
                                    let barrier = Arc::clone(&barrier);
                                    s.spawn(move || {
                                        let me = proposer.index();
                                        barrier.wait();
                                        proposer.propose(r * N + me)
                                    })
                                })
                                .collect();
                            handles.into_iter().map(|h| h.join().unwrap()).collect()
                        });
                        assert!(
                            decided.iter().all(|&v| v == decided[0]),
                            "agreement violated: {decided:?}"
                        );
                        assert_eq!(decided[0] / N, r, "validity violated");
                    }
                });
            }

            #[test]
            fn log_replicas_see_one_sequence() {
                let appends = if cfg!(miri) { 2 } else { 300 };
                for _ in 0..if cfg!(miri) { 1 } else { 5 } {
                    let decided =
                        scenario::log_race::<B, 3>([Part::Append(appends); 3], 3 * appends);
                    assert_eq!(decided.len(), 3 * appends);
                }
            }

            /// The winner of a slot leads the next: alone, a replica's
            /// first append costs both phases unless it is replica 0 (slot
            /// 0's leader), and every later one phase 2 alone, the steps of
            /// proposer 0's lone proposal.
            #[test]
            fn a_lone_replica_leads_every_slot_after_its_first() {
                for me in 0..3 {
                    let mut log = PaxosLog::<u32, 3, B>::with_capacity(4);
                    let mut replica = log.replicas().into_iter().nth(me).unwrap();
                    let mut costs = Vec::new();
                    for (slot, command) in (0..4).enumerate() {
                        let (appended, steps) =
                            scenario::append_counting_steps(&mut replica, command);
                        assert_eq!(appended.ok(), Some(slot));
                        costs.push(steps);
                    }
                    let first = solo_steps::<3>(me);
                    let led = solo_steps::<3>(0);
                    assert_eq!(costs, [first, led, led, led], "replica {me}");
                }
            }

            /// Replica 0 stops forever after its `k`-th step, for every `k`
            /// of its first two appends; the others still fill the log.
            #[test]
            fn log_replicas_pass_a_crashed_one() {
                for k in crash_points(2 * solo_steps::<3>(1), 16) {
                    let parts = [
                        Part::AppendHaltingAfter(2, k),
                        Part::Append(4),
                        Part::Append(4),
                    ];
                    scenario::log_race::<B, 3>(parts, 12);
                }
            }
        }
    };
}

register_suite!(word_blocks: WordBlock);
register_suite!(latch_blocks: LatchBlock);

#[test]
fn a_latch_stays_whole_under_a_concurrent_reader() {
    for _ in 0..if cfg!(miri) { 2 } else { 2000 } {
        scenario::latch_reads_whole_blocks(0, 4, 8, None);
    }
}

#[test]
fn a_latch_writer_stopped_at_any_store_blocks_no_reader() {
    for k in 0..=16 {
        scenario::latch_reads_whole_blocks(1, 2, 4, Some(k));
    }
}

#[test]
#[should_panic(expected = "already handed out")]
fn proposers_are_handed_out_once() {
    let mut register = PaxosRegister::<u8, 2>::new();
    let _ = register.proposers();
    let _ = register.proposers();
}

#[test]
#[should_panic(expected = "out of range")]
fn an_out_of_range_proposer_panics() {
    let register = PaxosRegister::<u8, 2>::new();
    // SAFETY: no proposer exists; the call must panic anyway.
    let _ = unsafe { register.proposer_unchecked(2) };
}

#[test]
#[should_panic(expected = "proposed twice")]
fn an_index_that_proposes_twice_panics() {
    let register = PaxosRegister::<u8, 2>::new();
    // SAFETY: deliberately breaking the contract, one after the other, to see
    // the register refuse a second input from one index. The first proposer
    // stops after publishing its input (decision load, input store).
    unsafe {
        assert_eq!(
            scenario::propose_halting_after(register.proposer_unchecked(1), 1, 2),
            None
        );
        let _ = register.proposer_unchecked(1).propose(2);
    }
}

#[test]
#[should_panic(expected = "already handed out")]
fn replicas_are_handed_out_once() {
    let mut log = PaxosLog::<u8, 2>::with_capacity(1);
    let _ = log.replicas();
    let _ = log.replicas();
}

#[test]
fn a_full_log_gives_the_command_back() {
    let mut log = PaxosLog::<String, 2>::with_capacity(2);
    let [mut a, mut b] = log.replicas();
    assert_eq!(a.append("a0".into()), Ok(0));
    assert_eq!(b.append("b0".into()), Ok(1), "b passes slot 0, which a won");
    assert_eq!(b.next_slot(), 2);
    let full = a.append("a1".into()).unwrap_err();
    assert_eq!(full.0, "a1");
    assert_eq!(full.to_string(), "every slot of the Paxos log is decided");
    assert_eq!(log.len(), 2);
    assert_eq!(log.author(1), Some(1));
    assert_eq!(log.decided().collect::<Vec<_>>(), ["a0", "b0"]);
}

/// Every value moved into a register is dropped exactly once: decided or
/// not, published or not. (Miri also reports leaks.)
#[test]
fn every_proposed_value_is_dropped_once() {
    let value = Arc::new(());
    {
        let mut register = PaxosRegister::<Arc<()>, 3>::new();
        let [a, b, c] = register.proposers();
        // `c` publishes its input and stops; `a` decides; `b` finds the
        // decision before publishing, so its value is dropped at once.
        assert_eq!(
            scenario::propose_halting_after(c, Arc::clone(&value), 2),
            None
        );
        let decided = a.propose(Arc::clone(&value));
        assert_eq!(b.propose(Arc::clone(&value)), decided);
        assert_eq!(register.winner(), Some(0));
        drop(decided);
        assert!(
            Arc::strong_count(&value) > 1,
            "the register keeps its inputs"
        );
    }
    assert_eq!(
        Arc::strong_count(&value),
        1,
        "a proposed value leaked or was dropped twice"
    );
}

#[test]
fn debug_shows_the_state_without_blocking() {
    let mut register = PaxosRegister::<u8, 2>::new();
    let [a, _] = register.proposers();
    assert!(format!("{a:?}").contains("index: 0"));
    a.propose(5);
    let shown = format!("{register:?}");
    assert!(shown.contains("winner: Some(0)"), "{shown}");
}
