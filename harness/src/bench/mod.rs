//! The one benchmark harness, shared by every bench and by the `contention`
//! demo.
//!
//! - [`pool`]: a persistent pool of pinned threads, released together inside
//!   each run, with a watchdog.
//! - [`contenders`]: the lineup, doorway's locks and the baselines
//!   (`spin::TicketMutex`, `parking_lot::Mutex`, `std::sync::Mutex`), each
//!   joining with one line.
//! - [`work`]: calibrated busy work for critical sections and the gaps
//!   between them.
//! - [`stats`]: fairness figures and tables.
//!
//! The lock and each thread's data sit in cache lines of their own: the
//! counter a run increments is padded, and each worker counts its own
//! acquisitions on its own stack.

pub mod contenders;
pub mod pool;
pub mod stats;
pub mod work;

use crate::locks::{FifoReport, Visit, audit_entry_order};
use contenders::Contender;
use crossbeam_utils::CachePadded;
use pool::{Pool, RunReport};
use std::cell::UnsafeCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use work::Work;

/// How long any single run may take before the watchdog stops it.
pub const WATCHDOG: Duration = Duration::from_secs(10);

/// Thread counts for scaling runs: 1, 2, 4 … up to the cores, and the cores.
pub fn thread_counts(cores: usize) -> Vec<usize> {
    let mut counts: Vec<usize> = std::iter::successors(Some(1), |&n| Some(n * 2))
        .take_while(|&n| n <= cores)
        .collect();
    if counts.last() != Some(&cores) {
        counts.push(cores);
    }
    counts
}

/// A counter that only the lock under test protects, alone in its cache line.
struct Counter(CachePadded<UnsafeCell<u64>>);

// SAFETY: the counter is incremented only inside the critical section of the
// lock under test, and read after the run; a broken lock shows up as lost
// increments, which every run reports.
unsafe impl Sync for Counter {}

impl Counter {
    fn new() -> Counter {
        Counter(CachePadded::new(UnsafeCell::new(0)))
    }

    /// A read and a separate write, as a lock must make atomic.
    #[inline]
    fn bump(&self) {
        let ptr = self.0.get();
        // SAFETY: called inside the critical section only.
        unsafe { ptr.write_volatile(ptr.read_volatile() + 1) };
    }

    fn value(&self) -> u64 {
        // SAFETY: called after the run, when no worker runs.
        unsafe { *self.0.get() }
    }
}

/// What a contended run measured.
pub struct Contended {
    pub report: RunReport,
    /// Increments the counter lost: zero unless the lock is broken.
    pub lost: u64,
}

impl Contended {
    /// Per-thread acquisition counts.
    pub fn counts(&self) -> Vec<u64> {
        self.report.workers.iter().map(|w| w.acquisitions).collect()
    }

    /// Acquisitions per second over the whole run.
    pub fn throughput(&self) -> f64 {
        self.report.acquisitions() as f64 / self.report.elapsed.as_secs_f64().max(1e-9)
    }
}

/// `threads` workers each acquire `lock` up to `per_thread` times (until the
/// watchdog stops them after `deadline`), doing `inside` in the critical
/// section and `outside` between acquisitions.
pub fn contended_run<C: Contender>(
    pool: &Pool,
    lock: &Arc<C>,
    threads: usize,
    per_thread: u64,
    inside: Work,
    outside: Work,
    deadline: Duration,
) -> Contended {
    let counter = Arc::new(Counter::new());
    let job = {
        let lock = Arc::clone(lock);
        let counter = Arc::clone(&counter);
        Arc::new(move |who: usize, stop: &pool::Stop| {
            let mut done = 0;
            while done < per_thread && (done % 64 != 0 || !stop.requested()) {
                lock.with_lock(who, || {
                    counter.bump();
                    inside.run();
                });
                outside.run();
                done += 1;
            }
            done
        })
    };
    let report = pool.run(threads, deadline, job);
    let lost = report.acquisitions() - counter.value();
    Contended { report, lost }
}

/// The shape of a contended bench: pinned threads, work inside and outside
/// the lock, and the watchdog's deadline for one run.
#[derive(Clone, Copy)]
pub struct Load {
    pub threads: usize,
    pub inside: Work,
    pub outside: Work,
    pub deadline: Duration,
}

impl Load {
    /// Back-to-back acquisitions with empty critical sections: pure handoff.
    pub fn handoff(threads: usize, deadline: Duration) -> Load {
        Load {
            threads,
            inside: Work::NONE,
            outside: Work::NONE,
            deadline,
        }
    }
}

/// One criterion sample (`iter_custom`) of a contended bench.
pub struct Sample {
    /// The time `iters` acquisitions took, extrapolated from the
    /// acquisitions done when the watchdog stopped the run.
    pub time: Duration,
    pub stopped_by_watchdog: bool,
}

/// Times `iters` acquisitions of `lock`, shared evenly among `load.threads`
/// workers of the global pinned pool and released together. A lost increment
/// fails the bench: a lock that breaks exclusion has no time worth reporting.
pub fn contended_sample<C: Contender>(name: &str, lock: &Arc<C>, load: Load, iters: u64) -> Sample {
    let per_thread = iters.div_ceil(load.threads as u64);
    let run = contended_run(
        Pool::global(),
        lock,
        load.threads,
        per_thread,
        load.inside,
        load.outside,
        load.deadline,
    );
    assert_eq!(run.lost, 0, "{name} lost increments");
    let planned = per_thread * load.threads as u64;
    Sample {
        time: run
            .report
            .scaled_to(planned)
            .mul_f64(iters as f64 / planned as f64),
        stopped_by_watchdog: run.report.stopped_by_watchdog,
    }
}

/// Runs `threads` workers through the lock's doorway and waiting room
/// `per_thread` times each, stamping an audit clock around every doorway, and
/// audits the order of entry. `None` if the lock has no doorway to audit.
pub fn fifo_audit<C: Contender>(
    pool: &Pool,
    lock: &Arc<C>,
    threads: usize,
    per_thread: u64,
    deadline: Duration,
) -> Option<FifoReport> {
    struct Log(UnsafeCell<Vec<Visit>>);
    // SAFETY: the log is appended to inside the lock's critical section only,
    // and read after the run.
    unsafe impl Sync for Log {}

    let clock = Arc::new(CachePadded::new(AtomicUsize::new(0)));
    let log = Arc::new(Log(UnsafeCell::new(Vec::with_capacity(
        (threads as u64 * per_thread) as usize,
    ))));
    let auditable = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let job = {
        let (lock, clock, log, auditable) = (
            Arc::clone(lock),
            Arc::clone(&clock),
            Arc::clone(&log),
            Arc::clone(&auditable),
        );
        Arc::new(move |who: usize, stop: &pool::Stop| {
            let mut done = 0;
            while done < per_thread && !stop.requested() {
                // SAFETY: the push happens inside the critical section.
                let audited = lock
                    .with_lock_audited(who, &clock, |visit| unsafe { (*log.0.get()).push(visit) });
                if audited.is_none() {
                    auditable.store(false, Ordering::Relaxed);
                    break;
                }
                done += 1;
            }
            done
        })
    };
    pool.run(threads, deadline, job);
    if !auditable.load(Ordering::Relaxed) {
        return None;
    }
    let log = Arc::try_unwrap(log)
        .ok()
        .expect("workers are done")
        .0
        .into_inner();
    Some(audit_entry_order(&log))
}

/// One lock's figures over a fixed-length contended run.
pub struct ContentionRow {
    pub name: &'static str,
    pub fifo: bool,
    pub threads: usize,
    /// Acquisitions per second, all threads together.
    pub throughput: f64,
    pub fairness: stats::Fairness,
    /// FIFO overtakes found by the audit run; `None` for locks without an
    /// auditable doorway.
    pub overtakes: Option<usize>,
    pub lost: u64,
    /// The core-to-core line round trip measured right after the run.
    pub round_trip: Option<Duration>,
}

/// Acquisitions per thread in a FIFO audit run (the audit logs each one).
const AUDIT_PER_THREAD: u64 = 20_000;

/// Runs every lock of the lineup that `only` selects (by name) for
/// `duration` with `threads` threads, then audits the FIFO ones; calls
/// `progress` before each lock.
pub fn contention_rows(
    threads: usize,
    duration: Duration,
    inside: Work,
    outside: Work,
    only: &dyn Fn(&str) -> bool,
    mut progress: impl FnMut(&str),
) -> Vec<ContentionRow> {
    struct Collect<'p> {
        threads: usize,
        duration: Duration,
        inside: Work,
        outside: Work,
        fifo: bool,
        rows: Vec<ContentionRow>,
        only: &'p dyn Fn(&str) -> bool,
        progress: &'p mut dyn FnMut(&str),
    }
    impl contenders::FamilyVisitor for Collect<'_> {
        fn family<F: contenders::Family>(&mut self) {
            self.fifo = F::FIFO;
            F::build(self.threads, self);
        }
    }
    impl contenders::Visitor for Collect<'_> {
        fn visit<C: Contender>(&mut self, name: &'static str, lock: C) {
            if !(self.only)(name) {
                return;
            }
            (self.progress)(name);
            let pool = Pool::global();
            let lock = Arc::new(lock);
            let run = contended_run(
                pool,
                &lock,
                self.threads,
                u64::MAX,
                self.inside,
                self.outside,
                self.duration,
            );
            let round_trip = line_round_trip(pool);
            let audit = fifo_audit(pool, &lock, self.threads, AUDIT_PER_THREAD, WATCHDOG);
            self.rows.push(ContentionRow {
                name,
                fifo: self.fifo,
                threads: self.threads,
                throughput: run.throughput(),
                fairness: stats::Fairness::of(&run.counts()),
                overtakes: audit.map(|report| report.overtakes),
                lost: run.lost,
                round_trip,
            });
        }
    }
    let mut collect = Collect {
        threads,
        duration,
        inside,
        outside,
        fifo: false,
        rows: Vec::new(),
        only,
        progress: &mut progress,
    };
    contenders::lineup(&mut collect);
    collect.rows
}

/// The time a cache line takes to go from core 0 to core 1 and back, measured
/// now with two pinned pool workers passing one atomic back and forth; `None`
/// on one core.
///
/// On a virtual machine this can change several times over for seconds at a
/// time (the host moves the virtual CPUs), and every contended figure moves
/// with it, so each contention row records the round trip in force when it
/// ran.
pub fn line_round_trip(pool: &Pool) -> Option<Duration> {
    const ROUNDS: u64 = 20_000;
    if pool.cores() < 2 {
        return None;
    }
    let ball = Arc::new(CachePadded::new(AtomicU64::new(0)));
    let job: pool::Job = {
        let ball = Arc::clone(&ball);
        Arc::new(move |who: usize, stop: &pool::Stop| {
            // Worker 0 moves the ball from even values, worker 1 from odd.
            for round in 0..ROUNDS {
                let mine = 2 * round + who as u64;
                while ball.load(Ordering::Acquire) != mine {
                    if stop.requested() {
                        return round;
                    }
                    std::hint::spin_loop();
                }
                ball.store(mine + 1, Ordering::Release);
            }
            ROUNDS
        })
    };
    let report = pool.run(2, Duration::from_secs(1), job);
    (!report.stopped_by_watchdog).then(|| report.elapsed / ROUNDS as u32)
}

/// The lock every ratio is taken against: doorway's ticket lock, the simplest
/// FIFO spin lock, waiting with the same policy as every doorway lock.
pub const REFERENCE: &str = "doorway Ticket";

/// The median of `values` (sorted in place); NaN when empty.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The run's typical line round trip: the median of its rows'.
pub fn typical_round_trip(rows: &[ContentionRow]) -> Option<Duration> {
    let mut trips: Vec<Duration> = rows.iter().filter_map(|row| row.round_trip).collect();
    trips.sort_unstable();
    trips.get(trips.len() / 2).copied()
}

/// How far a row's round trip may stray from the run's typical one before
/// the row is flagged: the VM's two regimes differ by about four times.
pub const OFF_REGIME: f64 = 2.0;

/// Whether `row` was measured while the line round trip was more than
/// [`OFF_REGIME`] times away from `typical` (either way): its throughput then
/// says more about the machine's regime than about the lock.
pub fn is_off_regime(row: &ContentionRow, typical: Option<Duration>) -> bool {
    match (row.round_trip, typical) {
        (Some(trip), Some(typical)) if !typical.is_zero() => {
            let ratio = trip.as_secs_f64() / typical.as_secs_f64();
            !(1.0 / OFF_REGIME..=OFF_REGIME).contains(&ratio)
        }
        _ => false,
    }
}

/// The table of a contention run: throughput, ratio to [`REFERENCE`],
/// fairness, FIFO overtakes, lost increments, and the line round trip, with
/// `†` on rows measured far from the run's typical round trip.
pub fn contention_table(rows: &[ContentionRow]) -> stats::Table {
    let typical = typical_round_trip(rows);
    let reference = rows
        .iter()
        .find(|row| row.name == REFERENCE)
        .map_or(f64::NAN, |row| row.throughput);
    let mut table = stats::Table::new(&[
        "lock",
        "threads",
        "Macq/s",
        &format!("vs {REFERENCE}"),
        "max/min",
        "Jain",
        "FIFO overtakes",
        "lost",
        "line round trip",
    ]);
    for row in rows {
        let overtakes = match (row.fifo, row.overtakes) {
            (_, Some(n)) => n.to_string(),
            (true, None) => "not audited".to_string(),
            (false, None) => "not FIFO".to_string(),
        };
        table.row(vec![
            row.name.to_string(),
            row.threads.to_string(),
            format!("{:.2}", row.throughput / 1e6),
            format!("{:.2}×", row.throughput / reference),
            format!("{:.2}", row.fairness.max_over_min),
            format!("{:.3}", row.fairness.jain),
            overtakes,
            row.lost.to_string(),
            row.round_trip.map_or("-".to_string(), |rtt| {
                let flag = if is_off_regime(row, typical) {
                    " †"
                } else {
                    ""
                };
                format!("{} ns{flag}", rtt.as_nanos())
            }),
        ]);
    }
    table
}
