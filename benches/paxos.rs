//! The Paxos register against a `Mutex<Option<T>>` set-once register and
//! `OnceLock`.
//!
//! - `paxos/uncontended`: one thread decides a fresh register (made outside
//!   the measurement). Proposer 0's first ballot is the lowest of all and
//!   skips phase 1; any other proposer runs both phases. Beside them, an
//!   uncontended `Bakery<N>` lock and unlock with the same `N`, the floor the
//!   register's two fences and block reads are held to; and proposer 1 of a
//!   `PaxosRegister<_, 3>` beside its bare steps: the same stores, `SeqCst`
//!   fences and loads on plain atomics of the same layout (`Bare`), which is
//!   the floor of the decide itself. (This crate turns on doorway's private
//!   feature for its other benches; outside loom and Miri it changes nothing
//!   on the register's path, whose flaws, fences and orderings are constants
//!   there, so this is the decide a user's crate gets. `benches/ab` measures
//!   the same pair with no private feature at all.)
//! - `paxos/read`: reading a decided register.
//! - `paxos/contended`: two threads of the harness's pinned pool decide a
//!   run of fresh registers, both proposing to each in turn. Time per
//!   iteration is time per decision (throughput: decisions per second).
//! - `paxos/log`: appends to a `PaxosLog` by one replica alone (after its
//!   first slot it leads, and each append is phase 2 alone), beside a
//!   `Mutex<Vec<_>>` push; and by two pool threads, each a replica appending
//!   its own commands to one log, beside the same push from two threads. Time
//!   per iteration is time per appended command.
//! - `paxos/stalled`: the same with three proposers, one of which stopped in
//!   the middle of its proposal before the run began: it voted for its own
//!   value and never re-read the others. The two live proposers must still
//!   decide every register. The mutex register cannot be measured here: its
//!   holder, stalled with the lock held, blocks everyone, and the bench prints
//!   that it is blocked instead.
//!
//! Run with `cargo bench --bench paxos`.

use doorway_harness::bench as harness;

use criterion::measurement::WallTime;
use criterion::{
    BatchSize, BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main,
};
use doorway::__private::paxos::propose_halting_after;
use doorway::paxos::latch::LatchBlock;
use doorway::{RawLock, bakery::Bakery, paxos::log::PaxosLog, paxos::register::PaxosRegister};
use harness::WATCHDOG;
use harness::pool::{Pool, RunReport, Stop};
use std::cell::UnsafeCell;
use std::hint::black_box;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering, fence};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A set-once register behind a lock: the first `decide` wins.
#[derive(Default)]
struct MutexRegister(Mutex<Option<u64>>);

impl MutexRegister {
    fn decide(&self, value: u64) -> u64 {
        *self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(value)
    }
}

/// The shared-memory steps of an uncontended decide by proposer 1 of a
/// `PaxosRegister<u64, 3>`, bare: the register's layout (one-word blocks,
/// input cells, the decision byte) and its accesses, in order: the decision
/// load, the input store, phase 1 (block store, `SeqCst` fence, the two other
/// blocks loaded and checked, the highest vote picked), phase 2 (block store,
/// fence, two loads, the check), the decision store, and the decided input
/// read back. Nothing else: no campaign, no ballot arithmetic, no step
/// budget. One thread uses it; it is a floor, not a register.
struct Bare {
    blocks: [AtomicU64; 3],
    inputs: [UnsafeCell<Option<u64>>; 3],
    decision: AtomicU8,
}

impl Default for Bare {
    fn default() -> Self {
        Self {
            blocks: [const { AtomicU64::new(0) }; 3],
            inputs: [const { UnsafeCell::new(None) }; 3],
            decision: AtomicU8::new(0),
        }
    }
}

impl Bare {
    /// The block word `(mbal, bal, input + 1)`, packed as the register packs it.
    fn word(mbal: u64, bal: u64, input: u64) -> u64 {
        (mbal << 36) | (bal << 8) | input
    }

    fn mbal(word: u64) -> u64 {
        word >> 36
    }

    #[inline(never)]
    fn decide(&self, value: u64) -> u64 {
        const ME: usize = 1;
        const BALLOT: u64 = 2; // rank 1's first ballot of 3
        let decided = self.decision.load(Ordering::Acquire);
        if decided != 0 {
            // SAFETY: one thread uses a `Bare`; the decision names a written cell.
            return unsafe { *self.inputs[usize::from(decided) - 1].get() }.expect("written");
        }
        // SAFETY: one thread uses a `Bare`.
        unsafe { *self.inputs[ME].get() = Some(value) };
        // Phase 1.
        self.blocks[ME].store(Self::word(BALLOT, 0, 0), Ordering::Release);
        fence(Ordering::SeqCst);
        let (a, b) = (
            self.blocks[0].load(Ordering::Relaxed),
            self.blocks[2].load(Ordering::Relaxed),
        );
        if Self::mbal(a) > BALLOT || Self::mbal(b) > BALLOT {
            return u64::MAX; // preempted: never, alone
        }
        let bal = |word: u64| (word >> 8) & 0xfff_ffff;
        let highest = if bal(a) >= bal(b) { a } else { b };
        let input = match highest & 0xff {
            0 => ME as u64,
            named => named - 1,
        };
        // Phase 2.
        self.blocks[ME].store(Self::word(BALLOT, BALLOT, input + 1), Ordering::Release);
        fence(Ordering::SeqCst);
        let (a, b) = (
            self.blocks[0].load(Ordering::Relaxed),
            self.blocks[2].load(Ordering::Relaxed),
        );
        if Self::mbal(a) > BALLOT || Self::mbal(b) > BALLOT {
            return u64::MAX;
        }
        self.decision.store(input as u8 + 1, Ordering::Release);
        // SAFETY: one thread uses a `Bare`; `input` names a written cell.
        unsafe { *self.inputs[input as usize].get() }.expect("written")
    }
}

/// Times `decide` on each of `iters` fresh values made by `fresh`, in batches
/// of 4096 made before the clock starts.
fn in_fresh_batches<R>(
    iters: u64,
    fresh: impl Fn() -> R,
    mut decide: impl FnMut(&mut R) -> u64,
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(4096);
        left -= n;
        let mut batch: Vec<R> = (0..n).map(|_| fresh()).collect();
        let started = Instant::now();
        for one in batch.iter_mut() {
            black_box(decide(black_box(one)));
        }
        total += started.elapsed();
    }
    total
}

/// Registers per pool run in the contended benches: enough to amortize the
/// release of the pool, few enough to stay in memory for any iteration count.
const CHUNK: u64 = 1 << 14;

fn uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group("paxos/uncontended");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    fn decide_as<const N: usize>(me: usize) -> impl FnMut(&mut PaxosRegister<u64, N>) -> u64 {
        move |register| {
            let proposer = register.proposers().into_iter().nth(me).expect("in range");
            proposer.propose(black_box(7))
        }
    }
    group.bench_function(
        "doorway PaxosRegister<_, 2> proposer 0 (lowest ballot)",
        |b| {
            b.iter_batched_ref(
                PaxosRegister::<u64, 2>::new,
                decide_as(0),
                BatchSize::SmallInput,
            )
        },
    );
    group.bench_function("doorway PaxosRegister<_, 2> proposer 1", |b| {
        b.iter_batched_ref(
            PaxosRegister::<u64, 2>::new,
            decide_as(1),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("doorway PaxosRegister<_, 8> proposer 1", |b| {
        b.iter_batched_ref(
            PaxosRegister::<u64, 8>::new,
            decide_as(1),
            BatchSize::SmallInput,
        )
    });
    // Proposer 1 of a `PaxosRegister<_, 3>` and its bare steps, timed the
    // same way: batches of fresh ones made before the clock starts, each
    // decided once; proposer 1 taken by a pattern, as the bare steps take
    // their block.
    group.bench_function("doorway PaxosRegister<_, 3> proposer 1", |b| {
        b.iter_custom(|iters| {
            in_fresh_batches(iters, PaxosRegister::<u64, 3>::new, |register| {
                let [_, proposer, _] = register.proposers();
                proposer.propose(black_box(7))
            })
        })
    });
    group.bench_function("bare steps of PaxosRegister<_, 3> proposer 1", |b| {
        b.iter_custom(|iters| in_fresh_batches(iters, Bare::default, |bare| bare.decide(7)))
    });
    group.bench_function("doorway PaxosRegister<_, 2, LatchBlock> proposer 1", |b| {
        b.iter_batched_ref(
            PaxosRegister::<u64, 2, LatchBlock>::new,
            |register| {
                let [_, proposer] = register.proposers();
                proposer.propose(black_box(7))
            },
            BatchSize::SmallInput,
        )
    });
    fn lock_unlock<const N: usize>(b: &mut criterion::Bencher<'_>) {
        let lock = Bakery::<N>::new();
        b.iter(|| {
            // SAFETY: participant 1 is this thread alone.
            unsafe { lock.lock(black_box(1)) };
            // SAFETY: participant 1 holds the lock.
            unsafe { lock.unlock(1) };
        })
    }
    group.bench_function("doorway Bakery<2> lock+unlock", lock_unlock::<2>);
    group.bench_function("doorway Bakery<8> lock+unlock", lock_unlock::<8>);
    group.bench_function("Mutex<Option<_>> set-once", |b| {
        b.iter_batched_ref(
            MutexRegister::default,
            |register| register.decide(black_box(7)),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("OnceLock", |b| {
        b.iter_batched_ref(
            OnceLock::<u64>::new,
            |once| *once.get_or_init(|| black_box(7)),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn read(c: &mut Criterion) {
    let mut group = c.benchmark_group("paxos/read");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1));
    let mut register = PaxosRegister::<u64, 2>::new();
    let [proposer, _] = register.proposers();
    proposer.propose(7);
    group.bench_function("doorway PaxosRegister::get", |b| {
        b.iter(|| *black_box(&register).get().expect("decided"))
    });
    let mutex = MutexRegister::default();
    mutex.decide(7);
    group.bench_function("Mutex<Option<_>> lock and read", |b| {
        b.iter(|| black_box(&mutex).decide(8))
    });
    let once = OnceLock::from(7u64);
    group.bench_function("OnceLock::get", |b| {
        b.iter(|| *black_box(&once).get().expect("set"))
    });
    group.finish();
}

/// A contended bench: `threads` pool workers run `decide(register, worker)`
/// on each of `iters` fresh registers (made by `fresh`, outside the
/// measurement), in the same order, all starting together. Returns the time
/// of the runs, so that time per iteration is time per decision.
fn decisions<R, F, D>(threads: usize, iters: u64, fresh: F, decide: D) -> Duration
where
    R: Send + Sync + 'static,
    F: Fn() -> R,
    D: Fn(&R, usize) -> u64 + Copy + Send + Sync + 'static,
{
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let chunk = left.min(CHUNK);
        left -= chunk;
        let registers: Arc<Vec<R>> = Arc::new((0..chunk).map(|_| fresh()).collect());
        let job = {
            let registers = Arc::clone(&registers);
            Arc::new(move |worker: usize, stop: &Stop| {
                let mut decided = 0;
                for register in registers.iter() {
                    black_box(decide(register, worker));
                    decided += 1;
                    if decided % 64 == 0 && stop.requested() {
                        break;
                    }
                }
                decided
            })
        };
        let report: RunReport = Pool::global().run(threads, WATCHDOG, job);
        assert!(
            !report.stopped_by_watchdog,
            "a contended run hit the watchdog"
        );
        total += report.elapsed;
    }
    total
}

/// A group timing decisions made by pool threads, reported per decision.
fn decisions_group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
        .throughput(Throughput::Elements(1));
    group
}

fn contended(c: &mut Criterion) {
    let threads = Pool::global().cores().min(2);
    let mut group = decisions_group(c, "paxos/contended");
    group.bench_function(
        format!("doorway PaxosRegister<_, 2>, {threads} proposers"),
        |b| {
            b.iter_custom(|iters| {
                decisions(
                    threads,
                    iters,
                    PaxosRegister::<u64, 2>::new,
                    |register, worker| {
                        // SAFETY: worker `worker` is the only user of this index on
                        // this register, and proposes to it once.
                        unsafe { register.proposer_unchecked(worker) }.propose(worker as u64)
                    },
                )
            })
        },
    );
    group.bench_function(
        format!("Mutex<Option<_>> set-once, {threads} threads"),
        |b| {
            b.iter_custom(|iters| {
                decisions(
                    threads,
                    iters,
                    MutexRegister::default,
                    |register, worker| register.decide(worker as u64),
                )
            })
        },
    );
    group.bench_function(format!("OnceLock, {threads} threads"), |b| {
        b.iter_custom(|iters| {
            decisions(threads, iters, OnceLock::<u64>::new, |once, worker| {
                *once.get_or_init(|| worker as u64)
            })
        })
    });
    group.finish();
}

/// Steps after which proposer 0 stops in the stalled bench: it has read the
/// decision, published its input and voted at the lowest ballot, and never
/// re-reads the others.
const STALL_AFTER: usize = 3;

/// A register whose proposer 0 stopped mid-proposal.
fn register_with_a_stalled_proposer() -> PaxosRegister<u64, 3> {
    let register = PaxosRegister::<u64, 3>::new();
    // SAFETY: proposer 0 is used here once; the bench uses proposers 1 and 2.
    let stalled = unsafe { register.proposer_unchecked(0) };
    assert_eq!(propose_halting_after(stalled, 99, STALL_AFTER), None);
    register
}

fn stalled(c: &mut Criterion) {
    let threads = Pool::global().cores().min(2);
    report_the_mutex_register_blocked();
    let mut group = decisions_group(c, "paxos/stalled");
    group.bench_function(
        format!("doorway PaxosRegister<_, 3>, proposer 0 stalled, {threads} live"),
        |b| {
            b.iter_custom(|iters| {
                decisions(
                    threads,
                    iters,
                    register_with_a_stalled_proposer,
                    |register, worker| {
                        // SAFETY: workers play proposers 1 and 2, once per register.
                        let decided = unsafe { register.proposer_unchecked(worker + 1) }
                            .propose(worker as u64);
                        assert_eq!(decided, 99, "the stalled proposer's vote must be adopted");
                        decided
                    },
                )
            })
        },
    );
    group.bench_function(
        format!("doorway PaxosRegister<_, 3>, proposer 0 idle, {threads} live"),
        |b| {
            b.iter_custom(|iters| {
                decisions(
                    threads,
                    iters,
                    PaxosRegister::<u64, 3>::new,
                    |register, worker| {
                        // SAFETY: workers play proposers 1 and 2, once per register.
                        unsafe { register.proposer_unchecked(worker + 1) }.propose(worker as u64)
                    },
                )
            })
        },
    );
    group.finish();
}

/// How long the mutex register gets to decide while its holder is stalled.
const BLOCKED_AFTER: Duration = Duration::from_millis(200);

/// A thread takes the mutex register's lock and stalls holding it; another
/// thread tries to decide. Prints whether it could.
fn report_the_mutex_register_blocked() {
    let register = Arc::new(MutexRegister::default());
    let (held, holding) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let holder = {
        let register = Arc::clone(&register);
        std::thread::spawn(move || {
            let guard = register.0.lock().unwrap();
            held.send(()).unwrap();
            released.recv().ok(); // stalled, lock held
            drop(guard);
        })
    };
    holding.recv().unwrap();
    let (decided, decision) = mpsc::channel();
    let contender = {
        let register = Arc::clone(&register);
        std::thread::spawn(move || decided.send(register.decide(1)).ok())
    };
    match decision.recv_timeout(BLOCKED_AFTER) {
        Ok(value) => println!(
            "paxos/stalled: Mutex<Option<_>> set-once decided {value} while its holder was stalled"
        ),
        Err(_) => println!(
            "paxos/stalled: Mutex<Option<_>> set-once: BLOCKED, no decision in {} ms while the lock holder is stalled",
            BLOCKED_AFTER.as_millis()
        ),
    }
    release.send(()).ok();
    holder.join().unwrap();
    contender.join().unwrap();
}

/// Commands each replica appends per pool run of the two-replica bench.
const APPENDS: u64 = 1 << 12;

/// Two pool workers, each a replica of one fresh `PaxosLog<u64, 2>` (or a
/// thread pushing to one `Mutex<Vec<_>>`), append `per_worker` commands
/// each, started together. Returns the time per command of `iters`
/// commands, in runs of `APPENDS` per worker.
fn two_appenders(iters: u64, log: bool) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let per_worker = (left / 2).clamp(1, APPENDS);
        left = left.saturating_sub(2 * per_worker);
        let slots = (2 * per_worker) as usize;
        let paxos = Arc::new(PaxosLog::<u64, 2>::with_capacity(slots));
        let vec = Arc::new(Mutex::new(Vec::with_capacity(slots)));
        let job = Arc::new(move |worker: usize, _: &Stop| {
            if log {
                // SAFETY: worker `worker` is replica `worker` of this log alone.
                let mut replica = unsafe { paxos.replica_unchecked(worker) };
                for i in 0..per_worker {
                    black_box(replica.append(i).ok());
                }
            } else {
                for i in 0..per_worker {
                    vec.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(black_box(i));
                }
            }
            per_worker
        });
        let report: RunReport = Pool::global().run(2, WATCHDOG, job);
        assert!(
            !report.stopped_by_watchdog,
            "an append run hit the watchdog"
        );
        total += report.elapsed;
    }
    total
}

fn log(c: &mut Criterion) {
    let mut group = c.benchmark_group("paxos/log");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(1));
    group.bench_function("doorway PaxosLog<_, 2> one replica alone, append", |b| {
        b.iter_custom(|iters| {
            let mut log = PaxosLog::<u64, 2>::with_capacity(iters as usize);
            let [_, mut replica] = log.replicas();
            let start = std::time::Instant::now();
            for i in 0..iters {
                black_box(replica.append(black_box(i)).ok());
            }
            start.elapsed()
        })
    });
    group.bench_function("Mutex<Vec<_>> push, one thread", |b| {
        b.iter_custom(|iters| {
            let vec = Mutex::new(Vec::with_capacity(iters as usize));
            let start = std::time::Instant::now();
            for i in 0..iters {
                vec.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(black_box(i));
            }
            start.elapsed()
        })
    });
    if Pool::global().cores() >= 2 {
        group.bench_function(
            "doorway PaxosLog<_, 2> two replicas competing, append",
            |b| b.iter_custom(|iters| two_appenders(iters, true)),
        );
        group.bench_function("Mutex<Vec<_>> push, two threads", |b| {
            b.iter_custom(|iters| two_appenders(iters, false))
        });
    }
    group.finish();
}

fn machine(_: &mut Criterion) {
    println!("paxos: machine: {}", harness::stats::machine());
}

criterion_group!(benches, machine, uncontended, read, contended, log, stalled);
criterion_main!(benches);
