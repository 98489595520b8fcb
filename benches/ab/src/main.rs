//! doorway's A/B bench: one run of every contender on two pinned threads, in
//! short interleaved rounds, as a user's crate builds them.
//!
//! `benches/ab/run OLD NEW` builds this same crate against two commits of
//! doorway and runs the two binaries alternately; each run prints one line
//! per measurement (see [`run`]), and `report` reads the runs of both
//! commits back and prints the comparison (see [`report`]).
//!
//! Only API that every commit since f3c3f7f has is used here: each lock's
//! `new()`, `RawLock::lock`/`unlock` with a participant index, and
//! `PaxosRegister::proposers`/`Proposer::propose`.
//!
//! - **Handoff**: two threads pinned to cores 0 and 1 take one lock back to
//!   back with an empty critical section (a counter bumped non-atomically, so
//!   a broken lock shows as lost increments, which fail the run). A lock's
//!   figure is the time of the slice over both threads' acquisitions.
//! - **Round**: the line round trip (one word bounced between the two
//!   threads), then every contender for one slice, starting at a different
//!   contender each round, then the Paxos decide beside its bare steps. The
//!   ratio to `spin::TicketMutex` is taken within a round, so a change of the
//!   round trip (on a VM it moves for seconds at a time) moves both sides.
//! - **Decide**: thread 0 alone decides a batch of fresh
//!   `PaxosRegister<u64, 3>`s as proposer 1 (both phases), and does the same
//!   shared-memory steps bare on a batch of plain words of the same layout.

use core_affinity::CoreId;
use doorway::paxos::register::PaxosRegister;
use doorway::{
    RawLock, bakery::Bakery, fastbakery::FastBakery, percore::PerCore, peterson::Peterson,
    ticket::Ticket, tournament::Tournament,
};
use std::cell::UnsafeCell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering, fence};
use std::time::{Duration, Instant};

/// A lock under test: runs `critical` holding it as participant `who`.
trait Contender: Sync {
    fn with_lock(&self, who: usize, critical: impl FnOnce());
}

/// A doorway raw lock; participant `who` is pinned thread `who`.
struct Raw<R>(R);

impl<R: RawLock> Contender for Raw<R> {
    #[inline]
    fn with_lock(&self, who: usize, critical: impl FnOnce()) {
        // SAFETY: thread `who` is the only thread acting as participant `who`.
        unsafe { self.0.lock(who) };
        critical();
        // SAFETY: `who` holds the lock.
        unsafe { self.0.unlock(who) };
    }
}

impl Contender for spin::mutex::TicketMutex<()> {
    #[inline]
    fn with_lock(&self, _: usize, critical: impl FnOnce()) {
        let _guard = self.lock();
        critical();
    }
}

impl Contender for parking_lot::Mutex<()> {
    #[inline]
    fn with_lock(&self, _: usize, critical: impl FnOnce()) {
        let _guard = self.lock();
        critical();
    }
}

impl Contender for std::sync::Mutex<()> {
    #[inline]
    fn with_lock(&self, _: usize, critical: impl FnOnce()) {
        let _guard = self.lock().unwrap_or_else(|e| e.into_inner());
        critical();
    }
}

/// Every contender, in a fixed order; the ratios are to `BASELINE`.
const NAMES: [&str; 10] = [
    "Bakery<2>",
    "Bakery<8>",
    "PerCore<8>",
    "Peterson",
    "Tournament<4>",
    "Ticket",
    "FastBakery<8>",
    "spin::TicketMutex",
    "parking_lot::Mutex",
    "std::sync::Mutex",
];
const BASELINE: usize = 7;

/// One of each, built once per run.
struct Locks {
    bakery2: Raw<Bakery<2>>,
    bakery8: Raw<Bakery<8>>,
    percore8: Raw<PerCore<8>>,
    peterson: Raw<Peterson>,
    tournament4: Raw<Tournament<4>>,
    ticket: Raw<Ticket>,
    fastbakery8: Raw<FastBakery<8>>,
    spin: spin::mutex::TicketMutex<()>,
    parking_lot: parking_lot::Mutex<()>,
    std: std::sync::Mutex<()>,
}

impl Locks {
    fn new() -> Box<Locks> {
        Box::new(Locks {
            bakery2: Raw(Bakery::new()),
            bakery8: Raw(Bakery::new()),
            percore8: Raw(PerCore::new()),
            peterson: Raw(Peterson::new()),
            tournament4: Raw(Tournament::new()),
            ticket: Raw(Ticket::new()),
            fastbakery8: Raw(FastBakery::new()),
            spin: spin::mutex::TicketMutex::new(()),
            parking_lot: parking_lot::Mutex::new(()),
            std: std::sync::Mutex::new(()),
        })
    }

    /// Thread `who`'s side of contender `index`'s slice; its acquisitions.
    fn slice(&self, index: usize, who: usize, shared: &Shared, marks: &mut Vec<(u64, u64)>) -> u64 {
        match index {
            0 => side(&self.bakery2, who, shared, marks),
            1 => side(&self.bakery8, who, shared, marks),
            2 => side(&self.percore8, who, shared, marks),
            3 => side(&self.peterson, who, shared, marks),
            4 => side(&self.tournament4, who, shared, marks),
            5 => side(&self.ticket, who, shared, marks),
            6 => side(&self.fastbakery8, who, shared, marks),
            7 => side(&self.spin, who, shared, marks),
            8 => side(&self.parking_lot, who, shared, marks),
            9 => side(&self.std, who, shared, marks),
            _ => unreachable!(),
        }
    }
}

/// A line of its own.
#[repr(align(128))]
struct Padded<T>(T);

/// What the two threads share: the job, the stop flag, the counter the lock
/// protects, and the round trip's word, each in its own line.
struct Shared {
    /// The job thread 1 is to run next (1 + its number; 0: none yet).
    job: Padded<AtomicUsize>,
    /// Thread 1's acquisitions in the job just done, plus one (0: not done).
    done: Padded<AtomicU64>,
    stop: Padded<AtomicBool>,
    counter: Padded<UnsafeCell<u64>>,
    ball: Padded<AtomicU64>,
    /// How long a slice lasts.
    slice: Duration,
}

// SAFETY: `counter` is written only inside the critical section of the lock
// under test, and read by thread 0 after both threads have finished a slice.
unsafe impl Sync for Shared {}

/// Job numbers beyond the contenders.
const ROUND_TRIP: usize = NAMES.len();
const QUIT: usize = NAMES.len() + 1;

/// One thread's side of a slice: acquire, bump, release until told to stop.
/// Thread 0 keeps the time and tells thread 1 when the slice is over; every
/// 64 of its acquisitions it notes the time and the counter (read while it
/// holds the lock, so it counts both threads' acquisitions) in `marks`.
#[inline(never)]
fn side<C: Contender>(lock: &C, who: usize, shared: &Shared, marks: &mut Vec<(u64, u64)>) -> u64 {
    let counter = shared.counter.0.get();
    let mut acquisitions = 0u64;
    let started = Instant::now();
    loop {
        let mut seen = 0;
        lock.with_lock(who, || {
            // SAFETY: inside the critical section.
            unsafe {
                seen = counter.read_volatile() + 1;
                counter.write_volatile(seen);
            }
        });
        acquisitions += 1;
        if who == 0 {
            if acquisitions.is_multiple_of(64) {
                let now = started.elapsed();
                marks.push((now.as_nanos() as u64, seen));
                if now >= shared.slice {
                    shared.stop.0.store(true, Ordering::Relaxed);
                    return acquisitions;
                }
            }
        } else if shared.stop.0.load(Ordering::Relaxed) {
            return acquisitions;
        }
    }
}

/// The median over windows of at least `CHUNK_NS` of a slice's marks of the
/// time per acquisition: a window in which the scheduler took a core away
/// (other processes run on this machine too) is one window, not a skew of
/// the whole slice.
const CHUNK_NS: u64 = 200_000;

fn chunked(marks: &[(u64, u64)]) -> f64 {
    let mut rates = Vec::new();
    let mut from = (0u64, marks.first().map_or(0, |m| m.1));
    for &(t, count) in marks.iter().skip(1) {
        if t - from.0 >= CHUNK_NS && count > from.1 {
            rates.push((t - from.0) as f64 / (count - from.1) as f64);
            from = (t, count);
        }
    }
    median(&rates)
}

/// Thread 1: runs whatever job thread 0 posts until told to quit.
fn helper(locks: &Locks, shared: &Shared) {
    let mut last = 0;
    loop {
        let job = loop {
            let job = shared.job.0.load(Ordering::Acquire);
            if job != last {
                break job;
            }
            std::hint::spin_loop();
        };
        last = job;
        let index = (job - 1) % (QUIT + 1);
        let acquisitions = match index {
            ROUND_TRIP => {
                bounce(shared, 1);
                0
            }
            QUIT => return,
            _ => locks.slice(index, 1, shared, &mut Vec::new()),
        };
        shared.done.0.store(acquisitions + 1, Ordering::Release);
    }
}

/// Round trips of one word between the two threads: thread 0 sends odd
/// numbers, thread 1 answers with the next even one.
const BOUNCES: u64 = 20_000;

fn bounce(shared: &Shared, who: usize) -> Vec<u64> {
    let ball = &shared.ball.0;
    let mut times = Vec::with_capacity(21);
    let started = Instant::now();
    for i in 0..BOUNCES {
        if i % (BOUNCES / 20) == 0 {
            times.push(started.elapsed().as_nanos() as u64);
        }
        let (wait_for, send) = if who == 0 {
            (2 * i, 2 * i + 1)
        } else {
            (2 * i + 1, 2 * i + 2)
        };
        while ball.load(Ordering::Acquire) != wait_for {
            std::hint::spin_loop();
        }
        ball.store(send, Ordering::Release);
    }
    times.push(started.elapsed().as_nanos() as u64);
    times
}

/// Thread 0's side of the jobs.
struct Driver<'a> {
    locks: &'a Locks,
    shared: &'a Shared,
    posted: usize,
    /// Thread 0's marks of the current slice (kept, to allocate once).
    marks: Vec<(u64, u64)>,
}

impl Driver<'_> {
    /// Posts `index` for thread 1, runs thread 0's side with `run`, waits for
    /// thread 1; returns thread 1's acquisitions and thread 0's result.
    fn job<R>(&mut self, index: usize, run: impl FnOnce() -> R) -> (u64, R) {
        self.shared.stop.0.store(false, Ordering::Relaxed);
        self.shared.done.0.store(0, Ordering::Relaxed);
        // Each post is a new number, so thread 1 never runs one twice.
        self.posted += QUIT + 1;
        let job = self.posted - (QUIT + 1) + index + 1;
        self.shared.job.0.store(job, Ordering::Release);
        let result = run();
        let done = loop {
            let done = self.shared.done.0.load(Ordering::Acquire);
            if done != 0 {
                break done - 1;
            }
            std::hint::spin_loop();
        };
        (done, result)
    }

    /// Tells thread 1 to return (it reports nothing).
    fn quit(&mut self) {
        self.posted += QUIT + 1;
        let job = self.posted - (QUIT + 1) + QUIT + 1;
        self.shared.job.0.store(job, Ordering::Release);
    }

    /// Nanoseconds per round trip of a line between the two cores: the
    /// median over 20 windows of `BOUNCES / 20` round trips.
    fn round_trip(&mut self) -> f64 {
        self.shared.ball.0.store(0, Ordering::Relaxed);
        let shared = self.shared;
        let (_, times) = self.job(ROUND_TRIP, || bounce(shared, 0));
        median(
            &times
                .windows(2)
                .map(|w| (w[1] - w[0]) as f64 / (BOUNCES / 20) as f64)
                .collect::<Vec<_>>(),
        )
    }

    /// Nanoseconds per acquisition of contender `index`, both threads on it:
    /// over the whole slice, and the median over its windows.
    fn handoff(&mut self, index: usize) -> (f64, f64) {
        let before = self.counter();
        let (locks, shared) = (self.locks, self.shared);
        let mut marks = std::mem::take(&mut self.marks);
        marks.clear();
        let (theirs, (mine, elapsed)) = self.job(index, || {
            let started = Instant::now();
            let mine = locks.slice(index, 0, shared, &mut marks);
            (mine, started.elapsed())
        });
        let total = mine + theirs;
        let counted = self.counter() - before;
        assert_eq!(
            counted, total,
            "{}: {total} acquisitions but the counter moved by {counted}: exclusion broken",
            NAMES[index]
        );
        let whole = elapsed.as_nanos() as f64 / total as f64;
        let windows = chunked(&marks);
        self.marks = marks;
        (whole, windows)
    }

    fn counter(&self) -> u64 {
        // SAFETY: no slice is running (thread 1 reported done, which
        // synchronizes with its last increment).
        unsafe { *self.shared.counter.0.get() }
    }
}

/// A batch of fresh registers (or bare blocks) per timing.
const BATCH: usize = 4096;

/// The decide's shared-memory steps, bare: the same layout as a
/// `PaxosRegister<u64, 3>` with one-word blocks, and proposer 1's accesses
/// of an uncontended decide: the decision load, the input store, phase 1
/// (block store, `SeqCst` fence, two block loads, the promise check and the
/// pick of the highest vote), phase 2 (block store, fence, two loads, the
/// check), the decision store, and the decided input read back.
struct Bare {
    blocks: [AtomicU64; 3],
    inputs: [UnsafeCell<Option<u64>>; 3],
    decision: AtomicU8,
}

// SAFETY: a single thread uses each `Bare`.
unsafe impl Sync for Bare {}

const INPUT_BITS: u32 = 8;
const BALLOT_BITS: u32 = 28;

fn word(mbal: u64, bal: u64, input: u64) -> u64 {
    (mbal << (BALLOT_BITS + INPUT_BITS)) | (bal << INPUT_BITS) | input
}

fn mbal(word: u64) -> u64 {
    word >> (BALLOT_BITS + INPUT_BITS)
}

impl Bare {
    fn new() -> Bare {
        Bare {
            blocks: [const { AtomicU64::new(0) }; 3],
            inputs: [const { UnsafeCell::new(None) }; 3],
            decision: AtomicU8::new(0),
        }
    }

    #[inline(never)]
    fn decide(&self, value: u64) -> u64 {
        const ME: usize = 1;
        const BALLOT: u64 = 2; // rank 1's first ballot
        let decided = self.decision.load(Ordering::Acquire);
        if decided != 0 {
            // SAFETY: the decision names a written input.
            return unsafe { (*self.inputs[usize::from(decided) - 1].get()).unwrap() };
        }
        // SAFETY: proposer 1's own cell, written once, read by nobody yet.
        unsafe { *self.inputs[ME].get() = Some(value) };
        // Phase 1.
        self.blocks[ME].store(word(BALLOT, 0, 0), Ordering::Release);
        fence(Ordering::SeqCst);
        let (a, b) = (
            self.blocks[0].load(Ordering::Relaxed),
            self.blocks[2].load(Ordering::Relaxed),
        );
        if mbal(a) > BALLOT || mbal(b) > BALLOT {
            return u64::MAX; // preempted: never, alone
        }
        let mask = (1 << INPUT_BITS) - 1;
        let highest = if (a >> INPUT_BITS) & 0xfff_ffff >= (b >> INPUT_BITS) & 0xfff_ffff {
            a
        } else {
            b
        };
        let input = match highest & mask {
            0 => ME as u64,
            named => named - 1,
        };
        // Phase 2.
        self.blocks[ME].store(word(BALLOT, BALLOT, input + 1), Ordering::Release);
        fence(Ordering::SeqCst);
        let (a, b) = (
            self.blocks[0].load(Ordering::Relaxed),
            self.blocks[2].load(Ordering::Relaxed),
        );
        if mbal(a) > BALLOT || mbal(b) > BALLOT {
            return u64::MAX;
        }
        self.decision.store(input as u8 + 1, Ordering::Release);
        // SAFETY: `input` names a written cell.
        unsafe { (*self.inputs[input as usize].get()).unwrap() }
    }
}

/// Nanoseconds per decide: proposer 1 of a fresh `PaxosRegister<u64, 3>`.
#[inline(never)]
fn decide_register() -> f64 {
    let mut registers: Vec<PaxosRegister<u64, 3>> =
        (0..BATCH).map(|_| PaxosRegister::new()).collect();
    let started = Instant::now();
    for register in registers.iter_mut() {
        let [_, proposer, _] = register.proposers();
        black_box(proposer.propose(black_box(7)));
    }
    started.elapsed().as_nanos() as f64 / BATCH as f64
}

/// Nanoseconds per decide done bare on a fresh batch.
#[inline(never)]
fn decide_bare() -> f64 {
    let bares: Vec<Bare> = (0..BATCH).map(|_| Bare::new()).collect();
    let started = Instant::now();
    for bare in bares.iter() {
        black_box(black_box(bare).decide(black_box(7)));
    }
    started.elapsed().as_nanos() as f64 / BATCH as f64
}

fn pin(core: usize) {
    let cores = core_affinity::get_core_ids().expect("the cores");
    assert!(cores.len() >= 2, "the A/B bench needs two cores");
    assert!(
        core_affinity::set_for_current(CoreId { id: cores[core].id }),
        "pinning to core {core} failed"
    );
}

/// One run: `rounds` rounds of `slice_ms` per contender. Prints, per round,
/// `round R rt NS`, then `handoff R NAME NS WHOLE` per contender (ns per
/// acquisition: the median over the slice's windows, and over the whole
/// slice), and
/// `decide R register NS` / `decide R bare NS`.
fn run(rounds: usize, slice_ms: u64) {
    let locks = Locks::new();
    let shared = Shared {
        job: Padded(AtomicUsize::new(0)),
        done: Padded(AtomicU64::new(0)),
        stop: Padded(AtomicBool::new(false)),
        counter: Padded(UnsafeCell::new(0)),
        ball: Padded(AtomicU64::new(0)),
        slice: Duration::from_millis(slice_ms),
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            pin(1);
            helper(&locks, &shared)
        });
        pin(0);
        let mut driver = Driver {
            locks: &locks,
            shared: &shared,
            posted: 0,
            marks: Vec::with_capacity(1 << 20),
        };
        // Warm-up: a slice of each, not printed.
        for index in 0..NAMES.len() {
            driver.handoff(index);
        }
        for round in 0..rounds {
            println!("round {round} rt {:.1}", driver.round_trip());
            for k in 0..NAMES.len() {
                let index = (round + k) % NAMES.len();
                let (whole, windows) = driver.handoff(index);
                println!("handoff {round} {} {windows:.2} {whole:.2}", NAMES[index]);
            }
            println!("decide {round} register {:.2}", decide_register());
            println!("decide {round} bare {:.2}", decide_bare());
        }
        driver.quit();
    });
}

/// Per-round figures of one run file.
#[derive(Default)]
struct RunFile {
    /// Per contender, per round: the ratio to the baseline in that round.
    ratios: BTreeMap<String, Vec<f64>>,
    /// Per contender, per round: ns per acquisition.
    ns: BTreeMap<String, Vec<f64>>,
    round_trips: Vec<f64>,
    /// Per contender, per round: the ratio and the round's line round trip.
    by_round_trip: BTreeMap<String, Vec<(f64, f64)>>,
    /// Per round: (register, bare) ns per decide.
    decides: Vec<(f64, f64)>,
}

fn read_run(path: &str) -> RunFile {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut rounds: BTreeMap<usize, BTreeMap<String, f64>> = BTreeMap::new();
    let mut decides: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
    let mut round_trips: BTreeMap<usize, f64> = BTreeMap::new();
    let mut file = RunFile::default();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let number = |s: &str| {
            s.parse::<f64>()
                .unwrap_or_else(|_| panic!("{path}: {line}"))
        };
        match fields.as_slice() {
            ["round", round, "rt", ns] => {
                file.round_trips.push(number(ns));
                round_trips.insert(number(round) as usize, number(ns));
            }
            ["handoff", round, name, ns, ..] => {
                let round = number(round) as usize;
                rounds
                    .entry(round)
                    .or_default()
                    .insert(name.to_string(), number(ns));
            }
            ["decide", round, which, ns] => {
                let entry = decides.entry(number(round) as usize).or_default();
                match *which {
                    "register" => entry.0 = number(ns),
                    _ => entry.1 = number(ns),
                }
            }
            _ => {}
        }
    }
    for (number, round) in &rounds {
        let Some(&base) = round.get(NAMES[BASELINE]) else {
            continue;
        };
        for (name, &ns) in round {
            file.ratios.entry(name.clone()).or_default().push(ns / base);
            file.ns.entry(name.clone()).or_default().push(ns);
            if let Some(&rt) = round_trips.get(number) {
                let banded = file.by_round_trip.entry(name.clone()).or_default();
                banded.push((ns / base, rt));
            }
        }
    }
    file.decides = decides.into_values().collect();
    file
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// The spread of the logarithms of `ratios` (relative: 0.05 is about 5%),
/// as a standard deviation estimated from the median absolute deviation: a
/// run that the machine disturbed as a whole (another process took a core
/// for seconds) is one outlier, not a spread for every pair.
fn spread_of_logs(ratios: &[f64]) -> f64 {
    if ratios.len() < 2 {
        return f64::NAN;
    }
    let logs: Vec<f64> = ratios.iter().map(|r| r.ln()).collect();
    let center = median(&logs);
    let deviations: Vec<f64> = logs.iter().map(|l| (l - center).abs()).collect();
    1.4826 * median(&deviations)
}

/// Pairs of alternated runs for the paired log-ratios to put a 10%
/// difference two standard errors away from no difference, given the
/// pairs' spread: `(2 σ / ln 1.1)²` (the median of the pairs, which the
/// table shows, needs about 1.6 times as many for the same standard error).
fn runs_for_a_tenth(spread: f64) -> String {
    if spread.is_nan() {
        return "?".into();
    }
    format!(
        "{}",
        ((2.0 * spread / 1.1f64.ln()).powi(2)).ceil().max(2.0) as u64
    )
}

/// Bands of the line round trip, in ns: a lock's ratio to the spin lock
/// depends on how fast a line moves, and a VM moves between such regimes for
/// seconds at a time, so a run's median mixes them in whatever proportion it
/// met them. Within one band both commits are compared in the same regime.
const BANDS: [(f64, f64); 6] = [
    (0.0, 75.0),
    (75.0, 100.0),
    (100.0, 125.0),
    (125.0, 150.0),
    (150.0, 200.0),
    (200.0, f64::INFINITY),
];

/// Rounds a band needs on each side to be printed.
const BAND_ROUNDS: usize = 8;

/// Per lock and band of the round trip: the median ratio over every round of
/// every run in that band, for each commit, and new over old.
fn by_round_trip(old: &[RunFile], new: &[RunFile], old_name: &str, new_name: &str) {
    let in_band = |runs: &[RunFile], name: &str, (low, high): (f64, f64)| -> Vec<f64> {
        runs.iter()
            .filter_map(|r| r.by_round_trip.get(name))
            .flatten()
            .filter(|&&(_, rt)| rt >= low && rt < high)
            .map(|&(ratio, _)| ratio)
            .collect()
    };
    let bands: Vec<(f64, f64)> = BANDS
        .into_iter()
        .filter(|&band| {
            in_band(old, NAMES[0], band).len() >= BAND_ROUNDS
                && in_band(new, NAMES[0], band).len() >= BAND_ROUNDS
        })
        .collect();
    if bands.is_empty() {
        return;
    }
    println!();
    println!(
        "the same ratios by the line round trip of their round (median over every round in the band; {old_name} → {new_name}, and new/old):"
    );
    println!();
    let label = |(low, high): (f64, f64)| {
        if high.is_infinite() {
            format!("≥ {low:.0} ns")
        } else {
            format!("{low:.0}–{high:.0} ns")
        }
    };
    let header: Vec<String> = bands
        .iter()
        .map(|&band| {
            format!(
                "round trip {} ({} + {} rounds)",
                label(band),
                in_band(old, NAMES[0], band).len(),
                in_band(new, NAMES[0], band).len()
            )
        })
        .collect();
    println!("| lock | {} |", header.join(" | "));
    println!("|---|{}", "---|".repeat(bands.len()));
    for name in NAMES {
        let cells: Vec<String> = bands
            .iter()
            .map(|&band| {
                let (o, n) = (
                    median(&in_band(old, name, band)),
                    median(&in_band(new, name, band)),
                );
                format!("{o:.2}× → {n:.2}× ({:.3})", n / o)
            })
            .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
}

/// Reads the runs of both commits (old files, `--`, new files; run `i` of
/// each alternated) and prints the comparison as Markdown:
///
/// - per contender, each run's figure is the median over its rounds of the
///   ratio to `spin::TicketMutex` in the same round; the table gives the
///   best (lowest) and the median of those over the runs, for each commit,
///   and new over old (best over best, and the median of the paired runs'
///   new/old: run `i` of new against run `i` of old, which ran next to it),
///   the spread of those paired ratios, and how many pairs that spread
///   needs to tell a 10% difference (see [`runs_for_a_tenth`]);
/// - the round trips seen (min, median, max over all rounds of each);
/// - the decide: per run, the median over rounds of register/bare, and the
///   ns of each.
fn report(old: &[String], new: &[String], old_name: &str, new_name: &str) {
    let old: Vec<RunFile> = old.iter().map(|p| read_run(p)).collect();
    let new: Vec<RunFile> = new.iter().map(|p| read_run(p)).collect();
    let per_run = |runs: &[RunFile], name: &str| -> Vec<f64> {
        runs.iter()
            .filter_map(|r| r.ratios.get(name).map(|v| median(v)))
            .collect()
    };
    let per_run_ns = |runs: &[RunFile], name: &str| -> Vec<f64> {
        runs.iter()
            .filter_map(|r| r.ns.get(name).map(|v| median(v)))
            .collect()
    };
    println!(
        "two-thread handoff, ratio to spin::TicketMutex in the same round; {} runs of {old_name} and {} of {new_name}, alternated; each run's figure the median over its rounds:",
        old.len(),
        new.len()
    );
    println!();
    println!(
        "| lock | {old_name}: best | {old_name}: median | {new_name}: best | {new_name}: median | new/old, best | new/old, paired median | paired spread | runs for 10% | ns per handoff, median ({old_name} → {new_name}) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for name in NAMES {
        let (o, n) = (per_run(&old, name), per_run(&new, name));
        let paired: Vec<f64> = o.iter().zip(&n).map(|(o, n)| n / o).collect();
        let spread = spread_of_logs(&paired);
        println!(
            "| {name} | {:.2}× | {:.2}× | {:.2}× | {:.2}× | {:.3} | {:.3} | {:.1}% | {} | {:.1} → {:.1} |",
            min(&o),
            median(&o),
            min(&n),
            median(&n),
            min(&n) / min(&o),
            median(&paired),
            100.0 * spread,
            runs_for_a_tenth(spread),
            median(&per_run_ns(&old, name)),
            median(&per_run_ns(&new, name)),
        );
    }
    println!();
    for (label, runs) in [(old_name, &old), (new_name, &new)] {
        let all: Vec<f64> = runs.iter().flat_map(|r| r.round_trips.clone()).collect();
        println!(
            "- line round trip seen by {label}'s rounds: {:.0}–{:.0} ns, median {:.0} ({} rounds)",
            min(&all),
            max(&all),
            median(&all),
            all.len()
        );
    }
    by_round_trip(&old, &new, old_name, new_name);
    println!();
    println!(
        "Paxos decide (proposer 1 of a fresh `PaxosRegister<u64, 3>`, both phases) against its bare steps, same rounds:"
    );
    println!();
    println!(
        "| commit | register, ns (median) | bare, ns (median) | register / bare, best run | median run |"
    );
    println!("|---|---|---|---|---|");
    for (label, runs) in [(old_name, &old), (new_name, &new)] {
        let ratios: Vec<f64> = runs
            .iter()
            .map(|r| {
                median(
                    &r.decides
                        .iter()
                        .map(|(reg, bare)| reg / bare)
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let reg: Vec<f64> = runs
            .iter()
            .flat_map(|r| r.decides.iter().map(|d| d.0))
            .collect();
        let bare: Vec<f64> = runs
            .iter()
            .flat_map(|r| r.decides.iter().map(|d| d.1))
            .collect();
        println!(
            "| {label} | {:.2} | {:.2} | {:.2}× | {:.2}× |",
            median(&reg),
            median(&bare),
            min(&ratios),
            median(&ratios)
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => {
            let rounds = args.get(1).map_or(8, |s| s.parse().expect("rounds"));
            let slice_ms = args.get(2).map_or(20, |s| s.parse().expect("slice in ms"));
            run(rounds, slice_ms);
        }
        Some("report") => {
            let names = &args[1..3];
            let files = &args[3..];
            let split = files
                .iter()
                .position(|a| a == "--")
                .expect("old files -- new files");
            report(&files[..split], &files[split + 1..], &names[0], &names[1]);
        }
        _ => {
            eprintln!(
                "usage: doorway-ab run [ROUNDS [SLICE_MS]] | report OLD_NAME NEW_NAME OLD_FILES... -- NEW_FILES..."
            );
            std::process::exit(2);
        }
    }
}
