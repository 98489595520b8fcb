//! What seats cost, and what a `try_lock` storm does to a thread that calls
//! `lock`. A plain `main` (not criterion): fixed-length runs, counted.
//!
//! - **Seat kept**: one thread, uncontended `Lock::lock` (its own seat found
//!   in one compare-and-swap) against a participant handle's `lock` on the
//!   same lock type, interleaved in short rounds; the median round of each.
//! - **Seat taken over**: two pinned threads take turns on a lock with one
//!   seat, so every acquisition takes the seat the other thread left idle,
//!   against the same turns on a lock with two seats, where each thread keeps
//!   its own; the difference is the handover.
//! - **`try_lock` storm**: on a `Bakery<4>`, one thread calls `lock()` while
//!   three spin on `try_lock()`, against all four calling `lock()`: the
//!   `lock()` thread's acquisitions per second, the worst wait it saw, and the
//!   ratio (goal: at least one half).
//!
//! Run with `cargo bench --bench seats`.

use doorway::{Lock, bakery::Bakery, percore::PerCore, peterson::Peterson};
use doorway_harness::bench::pool::{Pool, Stop};
use doorway_harness::bench::stats::{Table, machine};
use doorway_harness::bench::{line_round_trip, median};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Acquisitions per timed round of the uncontended comparison.
const ROUND: u32 = 200_000;
/// Rounds per contender, interleaved.
const ROUNDS: usize = 31;

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return; // `cargo bench -- --list` lists criterion benches; nothing here.
    }
    println!("seats: {}", machine());
    seat_kept();
    seat_taken_over();
    try_lock_storm();
}

/// Nanoseconds per lock+unlock of `body`, run `ROUND` times.
fn round(mut body: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..ROUND {
        body();
    }
    start.elapsed().as_nanos() as f64 / f64::from(ROUND)
}

fn seat_kept() {
    let mut table = Table::new(&[
        "lock",
        "Participant::lock",
        "Lock::lock (seat kept)",
        "ratio",
    ]);
    macro_rules! compare {
        ($name:expr, $lock:ty) => {{
            let mut by_handle = Lock::<$lock, u64>::new(0);
            let by_seat = Lock::<$lock, u64>::new(0);
            let (mut handle_ns, mut seat_ns) = (Vec::new(), Vec::new());
            {
                let [mut me, _] = by_handle.participants();
                for _ in 0..ROUNDS {
                    handle_ns.push(round(|| *black_box(&mut me).lock() += 1));
                    seat_ns.push(round(|| *black_box(&by_seat).lock() += 1));
                }
            }
            let (handle, seat) = (median(&mut handle_ns), median(&mut seat_ns));
            table.row(vec![
                $name.to_string(),
                format!("{handle:.2} ns"),
                format!("{seat:.2} ns"),
                format!("{:.2}×", seat / handle),
            ]);
        }};
    }
    compare!("Bakery<2>", Bakery<2>);
    compare!("Bakery<8>", Bakery<8>);
    compare!("PerCore<2>", PerCore<2>);
    compare!("Peterson", Peterson);
    println!(
        "\nuncontended, one thread, medians of {ROUNDS} interleaved rounds:\n{}",
        table.render()
    );
}

/// Two pool threads take strict turns on `lock`, `turns` times in all (a
/// shared turn counter, outside the lock, says whose turn it is);
/// nanoseconds per turn.
fn turns<R: doorway::Seated + Send + 'static>(lock: Arc<Lock<R, u64>>, turns: u64) -> f64 {
    let pool = Pool::global();
    let turn = Arc::new(AtomicU64::new(0));
    let job = Arc::new(move |who: usize, stop: &Stop| {
        let mut done = 0;
        while done < turns / 2 && !stop.requested() {
            let now = turn.load(Ordering::Acquire);
            if now % 2 != who as u64 {
                std::hint::spin_loop();
                continue;
            }
            *lock.lock() += 1;
            turn.store(now + 1, Ordering::Release);
            done += 1;
        }
        done
    });
    let report = pool.run(2, Duration::from_secs(10), job);
    report.elapsed.as_nanos() as f64 / report.acquisitions().max(1) as f64
}

fn seat_taken_over() {
    if Pool::global().cores() < 2 {
        println!("\nseat taken over: needs two cores");
        return;
    }
    const TURNS: u64 = 100_000;
    let (mut one_seat, mut two_seats) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        one_seat.push(turns(Arc::new(Lock::<Bakery<1>, u64>::new(0)), TURNS));
        two_seats.push(turns(Arc::new(Lock::<Bakery<2>, u64>::new(0)), TURNS));
    }
    let (one, two) = (median(&mut one_seat), median(&mut two_seats));
    let trip = line_round_trip(Pool::global()).map_or(0, |t| t.as_nanos());
    println!(
        "\nseat taken over: two pinned threads in strict turns, medians of 7 interleaved runs \
         (line round trip {trip} ns):\n\
         - Bakery<1>, the seat taken over every turn: {one:.0} ns per turn\n\
         - Bakery<2>, each thread keeps its seat:    {two:.0} ns per turn\n\
         - the handover: {:.0} ns per turn ({:.2}×)",
        one - two,
        one / two
    );
}

/// What the `lock()` thread saw in a storm run.
struct StormRun {
    per_second: f64,
    worst_wait: Duration,
}

/// Worker 0 calls `lock()`; workers 1..4 call `try_lock()` (or `lock()`, if
/// `all_lock`), for `length`.
fn storm(all_lock: bool, length: Duration) -> StormRun {
    let lock = Arc::new(Lock::<Bakery<4>, u64>::new(0));
    let worst_nanos = Arc::new(AtomicU64::new(0));
    let job = {
        let (lock, worst_nanos) = (lock.clone(), worst_nanos.clone());
        Arc::new(move |who: usize, stop: &Stop| {
            let mut acquired = 0;
            let deadline = Instant::now() + length;
            while Instant::now() < deadline && !stop.requested() {
                if who == 0 || all_lock {
                    let asked = Instant::now();
                    let mut guard = lock.lock();
                    let waited = asked.elapsed().as_nanos() as u64;
                    *guard += 1;
                    drop(guard);
                    if who == 0 {
                        worst_nanos.fetch_max(waited, Ordering::Relaxed);
                        acquired += 1;
                    }
                } else if let Some(mut guard) = lock.try_lock() {
                    *guard += 1;
                }
            }
            acquired
        })
    };
    let report = Pool::global().run(4, length + Duration::from_secs(5), job);
    StormRun {
        per_second: report.workers[0].acquisitions as f64 / length.as_secs_f64(),
        worst_wait: Duration::from_nanos(worst_nanos.load(Ordering::Relaxed)),
    }
}

fn try_lock_storm() {
    const LENGTH: Duration = Duration::from_millis(500);
    let mut table = Table::new(&["run", "lock() thread, acq/s", "its worst wait"]);
    let (mut storms, mut calm) = (Vec::new(), Vec::new());
    for round in 0..3 {
        for all_lock in [false, true] {
            let run = storm(all_lock, LENGTH);
            let name = if all_lock {
                "all four call lock()"
            } else {
                "three spin on try_lock()"
            };
            table.row(vec![
                format!("{name}, round {}", round + 1),
                format!("{:.0}", run.per_second),
                format!("{:.1} µs", run.worst_wait.as_secs_f64() * 1e6),
            ]);
            if all_lock {
                calm.push(run.per_second);
            } else {
                storms.push(run.per_second);
            }
        }
    }
    let (storm, calm) = (median(&mut storms), median(&mut calm));
    println!(
        "\ntry_lock storm on Bakery<4>, 4 threads on {} cores, {} ms runs:\n{}\n\
         median: {storm:.0} against {calm:.0} acquisitions per second: {:.2}× (goal: at least 0.5×)",
        Pool::global().cores(),
        LENGTH.as_millis(),
        table.render(),
        storm / calm
    );
}
