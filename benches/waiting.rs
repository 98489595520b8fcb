//! Waiting in proportion to the line: four threads on the two cores (two
//! pinned to each) taking one FIFO lock in turn, beside the floor those
//! turns cannot beat, a bare scheduler switch. A plain `main` (not
//! criterion): fixed-length runs, counted.
//!
//! - **Scheduler-switch floor**: two threads pinned to one core hand a turn
//!   back and forth, each calling `yield_now` until the turn is its own; the
//!   time per handoff.
//! - **Each FIFO lock**, with an empty critical section, twice: the policy
//!   of today (a waiter that is not next yields its core at once, and any
//!   waiter that has waited 50 µs sleeps until the participant ahead of it
//!   moves) and, through a test hook, the policy without sleeping (waiters
//!   yield for as long as they wait). Time per acquisition and the
//!   per-thread max/min of acquisitions.
//! - **Two threads, one per core**: the same locks' handoff, both policies.
//!
//! Contenders run in short interleaved rounds (this VM's cache-line transfer
//! cost changes for seconds at a time); each figure is the median of its
//! rounds. The line round trip is measured between rounds and printed.
//!
//! Run with `cargo bench --bench waiting`.

use doorway::__private::sleeping;
use doorway::{
    RawLock, bakery::Bakery, fastbakery::FastBakery, percore::PerCore, ticket::Ticket,
    tournament::Tournament,
};
use doorway_harness::bench::pool::Pool;
use doorway_harness::bench::stats::{Table, machine};
use doorway_harness::bench::{line_round_trip, median};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// Length of one timed run.
const RUN: Duration = Duration::from_millis(300);
/// Interleaved rounds per contender.
const ROUNDS: usize = 9;

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return; // `cargo bench -- --list` lists criterion benches; nothing here.
    }
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    println!("waiting: {}", machine());
    if cores.len() < 2 {
        println!("waiting: needs two cores");
        return;
    }
    let cores = [cores[0], cores[1]];
    let mut floor = Vec::new();
    let mut rows: Vec<Row> = CONTENDERS.iter().map(|c| Row::new(c.0)).collect();
    let mut trips = Vec::new();
    for round in 0..ROUNDS {
        floor.push(switch_floor(cores[0]));
        for (row, contender) in rows.iter_mut().zip(CONTENDERS) {
            for asleep in [true, false] {
                sleeping::set(asleep);
                let four = (contender.1)(4, cores);
                let two = (contender.1)(2, cores);
                row.push(!asleep, four, two);
            }
            sleeping::set(true);
        }
        if let Some(trip) = line_round_trip(Pool::global()) {
            trips.push(trip.as_nanos() as f64);
        }
        eprintln!("waiting: round {} of {ROUNDS}", round + 1);
    }
    let floor = median(&mut floor);
    let trip = if trips.is_empty() {
        0.0
    } else {
        median(&mut trips)
    };
    let mut table = Table::new(&[
        "lock",
        "4 threads: per acquisition",
        "vs floor",
        "max/min",
        "never sleeping: per acquisition",
        "never sleeping: max/min",
        "2 threads: handoff",
        "never sleeping: handoff",
    ]);
    for row in &mut rows {
        table.row(row.cells(floor));
    }
    println!(
        "\nscheduler-switch floor (two threads on one core, yield_now): {floor:.0} ns per handoff; \
         line round trip {trip:.0} ns; medians of {ROUNDS} interleaved rounds of {} ms:\n{}",
        RUN.as_millis(),
        table.render()
    );
}

/// A lock under test: its name, and a run of `threads` threads on the two
/// cores returning (ns per acquisition, per-thread max/min).
type Contender = (
    &'static str,
    fn(usize, [core_affinity::CoreId; 2]) -> (f64, f64),
);

const CONTENDERS: [Contender; 5] = [
    ("Bakery<8>", |t, c| run(Bakery::<8>::new(), t, c)),
    ("PerCore<8>", |t, c| run(PerCore::<8>::new(), t, c)),
    ("FastBakery<8>", |t, c| run(FastBakery::<8>::new(), t, c)),
    ("Tournament<8>", |t, c| run(Tournament::<8>::new(), t, c)),
    ("Ticket", |t, c| run(Ticket::new(), t, c)),
];

/// The figures of one lock, per round.
struct Row {
    name: &'static str,
    now: Figures,
    before: Figures,
}

#[derive(Default)]
struct Figures {
    four: Vec<f64>,
    spread: Vec<f64>,
    two: Vec<f64>,
}

impl Row {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            now: Figures::default(),
            before: Figures::default(),
        }
    }

    fn push(&mut self, before: bool, (four, spread): (f64, f64), (two, _): (f64, f64)) {
        let figures = if before {
            &mut self.before
        } else {
            &mut self.now
        };
        figures.four.push(four);
        figures.spread.push(spread);
        figures.two.push(two);
    }

    fn cells(&mut self, floor: f64) -> Vec<String> {
        let now = median(&mut self.now.four);
        vec![
            self.name.to_string(),
            format!("{now:.0} ns"),
            format!("{:.2}×", now / floor),
            format!("{:.2}", median(&mut self.now.spread)),
            format!("{:.0} ns", median(&mut self.before.four)),
            format!("{:.2}", median(&mut self.before.spread)),
            format!("{:.0} ns", median(&mut self.now.two)),
            format!("{:.0} ns", median(&mut self.before.two)),
        ]
    }
}

/// Two threads pinned to `core` hand a turn back and forth with `yield_now`
/// for `RUN`; nanoseconds per handoff.
fn switch_floor(core: core_affinity::CoreId) -> f64 {
    let turn = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let handoffs = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(3));
    let workers: Vec<_> = (0..2)
        .map(|me| {
            let (turn, stop, handoffs, start) = (
                Arc::clone(&turn),
                Arc::clone(&stop),
                Arc::clone(&handoffs),
                Arc::clone(&start),
            );
            std::thread::spawn(move || {
                core_affinity::set_for_current(core);
                start.wait();
                while !stop.load(Ordering::Relaxed) {
                    if turn.load(Ordering::Acquire) % 2 == me {
                        turn.fetch_add(1, Ordering::Release);
                        handoffs.fetch_add(1, Ordering::Relaxed);
                    } else {
                        std::thread::yield_now();
                    }
                }
            })
        })
        .collect();
    start.wait();
    let begun = Instant::now();
    std::thread::sleep(RUN);
    stop.store(true, Ordering::Relaxed);
    let elapsed = begun.elapsed();
    workers.into_iter().for_each(|w| w.join().unwrap());
    elapsed.as_nanos() as f64 / handoffs.load(Ordering::Relaxed).max(1) as f64
}

/// `threads` threads, pinned in turn to the two cores, take `lock` as
/// participants `0..threads` with an empty critical section for `RUN`.
/// Returns nanoseconds per acquisition and the per-thread max/min of
/// acquisitions.
fn run<R: RawLock + Send + Sync + 'static>(
    lock: R,
    threads: usize,
    cores: [core_affinity::CoreId; 2],
) -> (f64, f64) {
    let lock = Arc::new(lock);
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(threads + 1));
    let workers: Vec<_> = (0..threads)
        .map(|me| {
            let (lock, stop, start) = (Arc::clone(&lock), Arc::clone(&stop), Arc::clone(&start));
            std::thread::spawn(move || {
                core_affinity::set_for_current(cores[me % 2]);
                start.wait();
                let mut count = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // SAFETY: participant `me` is this thread alone, and
                    // `threads` is within every contender's participants.
                    unsafe { lock.lock(me) };
                    count += 1;
                    // SAFETY: `me` holds the lock.
                    unsafe { lock.unlock(me) };
                }
                count
            })
        })
        .collect();
    start.wait();
    let begun = Instant::now();
    std::thread::sleep(RUN);
    stop.store(true, Ordering::Relaxed);
    let counts: Vec<u64> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let elapsed = begun.elapsed();
    let total: u64 = counts.iter().sum();
    let (max, min) = (
        *counts.iter().max().unwrap(),
        (*counts.iter().min().unwrap()).max(1),
    );
    (
        elapsed.as_nanos() as f64 / total.max(1) as f64,
        max as f64 / min as f64,
    )
}
