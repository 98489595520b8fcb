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
//! - **Beside sleepers**: one thread's uncontended `Lock::lock` on an idle
//!   `Bakery<2>` and `PerCore<4>`, with 0, 1 and 64 threads asleep waiting
//!   for the seat of another lock (a `Bakery<1>` held by a parked thread),
//!   the three cases interleaved in one run (goal: the same cost in each:
//!   every lock has its own lobby).
//! - **Waiting for a pinned seat**: on a `MachinePerCore` whose every core is
//!   pinned, a thread calls `Lock::lock` while the pinned handles lock and
//!   unlock for 300 ms; the CPU time that waiter spent, against the pinned
//!   unlocks it sat through (goal: a short spin and a few wakes, not one per
//!   unlock).
//!
//! Run with `cargo bench --bench seats`; `cargo bench --bench seats --
//! sleepers pinned` runs only the sections named (`kept`, `taken`, `storm`,
//! `sleepers`, `pinned`).

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
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let run = |section: &str| named.is_empty() || named.iter().any(|name| name == section);
    println!("seats: {}", machine());
    if run("kept") {
        seat_kept();
    }
    if run("taken") {
        seat_taken_over();
    }
    if run("storm") {
        try_lock_storm();
    }
    if run("sleepers") {
        beside_sleepers();
    }
    if run("pinned") {
        waiting_for_a_pinned_seat();
    }
}

/// `sleepers` threads asleep waiting for the one seat of a lock that a
/// parked thread holds, until dropped.
struct Sleepers {
    release: std::sync::mpsc::Sender<()>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Sleepers {
    fn start(sleepers: usize) -> Self {
        let other = Arc::new(Lock::<Bakery<1>, u64>::new(0));
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (held, holding) = std::sync::mpsc::channel::<()>();
        let mut threads = vec![{
            let other = other.clone();
            std::thread::spawn(move || {
                let guard = other.lock();
                held.send(()).unwrap();
                let _ = released.recv();
                drop(guard);
            })
        }];
        holding.recv().unwrap();
        for _ in 0..sleepers {
            let other = other.clone();
            threads.push(std::thread::spawn(move || *other.lock() += 1));
        }
        // A waiter sleeps after about 50 µs of spinning and yielding.
        std::thread::sleep(Duration::from_millis(if sleepers == 0 { 1 } else { 200 }));
        Self { release, threads }
    }
}

impl Drop for Sleepers {
    fn drop(&mut self) {
        let _ = self.release.send(());
        for thread in self.threads.drain(..) {
            thread.join().unwrap();
        }
    }
}

fn beside_sleepers() {
    const CASES: [usize; 3] = [0, 1, 64];
    const REPEATS: usize = 5;
    let mut table = Table::new(&[
        "lock",
        "0 asleep elsewhere",
        "1 asleep elsewhere",
        "64 asleep elsewhere",
        "64 / 0",
    ]);
    macro_rules! compare {
        ($name:expr, $lock:ty) => {{
            let idle = Lock::<$lock, u64>::new(0);
            let mut medians: [Vec<f64>; 3] = Default::default();
            for _ in 0..REPEATS {
                for (case, &sleepers) in CASES.iter().enumerate() {
                    let _asleep = Sleepers::start(sleepers);
                    let mut rounds: Vec<f64> = (0..ROUNDS)
                        .map(|_| round(|| *black_box(&idle).lock() += 1))
                        .collect();
                    medians[case].push(median(&mut rounds));
                }
            }
            let ns = medians.map(|mut runs| median(&mut runs));
            table.row(vec![
                $name.to_string(),
                format!("{:.2} ns", ns[0]),
                format!("{:.2} ns", ns[1]),
                format!("{:.2} ns", ns[2]),
                format!("{:.2}×", ns[2] / ns[0]),
            ]);
        }};
    }
    compare!("Bakery<2>", Bakery<2>);
    compare!("PerCore<4>", PerCore<4>);
    println!(
        "\nbeside sleepers: uncontended Lock::lock + unlock of an idle lock while threads \
         sleep waiting for a seat of another lock; medians of {REPEATS} runs (each the \
         median of {ROUNDS} rounds), the cases interleaved:\n{}",
        table.render()
    );
}

/// The calling thread's CPU time.
#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

#[cfg(not(target_os = "linux"))]
fn waiting_for_a_pinned_seat() {
    println!("\nwaiting for a pinned seat: Linux only (thread CPU time)");
}

#[cfg(target_os = "linux")]
fn waiting_for_a_pinned_seat() {
    use doorway::percore::MachinePerCore;
    use std::sync::atomic::AtomicBool;
    const HOLD: Duration = Duration::from_millis(300);
    let lock = Lock::from_raw(MachinePerCore::new(), 0u64);
    let cores = lock.raw().cores();
    let stop = AtomicBool::new(false);
    let unlocks = AtomicU64::new(0);
    let pinned = std::sync::Barrier::new(cores + 1);
    let (waited, cpu) = std::thread::scope(|s| {
        for core in 0..cores {
            let (lock, stop, unlocks, pinned) = (&lock, &stop, &unlocks, &pinned);
            s.spawn(move || {
                let Ok(mut handle) = lock.pin(core) else {
                    pinned.wait();
                    return;
                };
                pinned.wait();
                while !stop.load(Ordering::Relaxed) {
                    *handle.lock() += 1;
                    unlocks.fetch_add(1, Ordering::Relaxed);
                    std::thread::yield_now();
                }
            });
        }
        pinned.wait();
        let waiter = s.spawn(|| {
            let (asked, cpu) = (Instant::now(), thread_cpu_time());
            *lock.lock() += 1;
            (asked.elapsed(), thread_cpu_time() - cpu)
        });
        std::thread::sleep(HOLD);
        stop.store(true, Ordering::Relaxed);
        waiter.join().unwrap()
    });
    println!(
        "\nwaiting for a pinned seat: MachinePerCore, all {cores} cores pinned, their handles \
         locking for {} ms ({} pinned unlocks); a thread in Lock::lock waited {:.0} ms and \
         used {:.3} ms of CPU ({:.4} of a core)",
        HOLD.as_millis(),
        unlocks.load(Ordering::Relaxed),
        waited.as_secs_f64() * 1e3,
        cpu.as_secs_f64() * 1e3,
        cpu.as_secs_f64() / waited.as_secs_f64()
    );
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
