//! doorway on four `riscv32imc` harts of QEMU's `virt` machine: a core with
//! no atomic instruction at all (no A extension), so no compare-and-swap, no
//! `fetch_add`, no LR/SC; only loads, stores and fences.
//!
//! In seven phases, each between two barriers:
//!
//! 1. to 4. every hart takes each of doorway's load/store locks
//!    (`Bakery<4>`, `FastBakery<4>`, `PerCore<4>`, `Tournament<4>`) [`K`]
//!    times around a non-atomic counter;
//! 5. the four harts decide [`PAXOS_ROUNDS`] Paxos registers, one per round;
//! 6. every hart adds to a `portable_atomic::AtomicU32` at least [`K`]
//!    times: its `fetch_add` goes through `critical-section`, which doorway's
//!    [`HartCriticalSection`] implements;
//! 7. two async tasks per hart take doorway's `AsyncLock` [`tasks::K_ASYNC`]
//!    times each around a non-atomic counter, holding it across a yield,
//!    under a small executor of the image's own (see [`tasks`]).
//!
//! During every phase each hart's machine timer interrupts it every 100 µs,
//! and the handler adds to the same `portable_atomic` counter (so the
//! critical section is also taken from interrupt handlers, on every hart,
//! while the other harts take it from thread code). Hart 0 checks every
//! total and every agreement, prints one line per phase, and ends QEMU
//! through the test device: exit status 0 when everything adds up, non-zero
//! otherwise.
//!
//! # The pattern a firmware copies
//!
//! - **Locks live in `static`s**, built in `const` context (`Lock::new`): no
//!   allocator, no `std`.
//! - **Each hart's participant is its hart id.** `mhartid` is fixed per hart
//!   and unique, which is exactly the safety contract of
//!   [`Lock::participant_unchecked`]; see [`count`].
//! - **Interrupts.** doorway's `Lock`s serve code running on different harts.
//!   A handler must never take a `Lock` that the code it interrupted may
//!   hold or wait for: it would wait for that code, which cannot run until
//!   the handler returns. Data shared with a handler goes through
//!   `critical-section`, here [`HartCriticalSection`]: it masks the hart's
//!   interrupts *before* taking its bakery and unmasks them *after*
//!   releasing it, so it serves other harts and the hart's own handlers at
//!   once. In this image the handler takes only the critical section.
//!
//! # Boot
//!
//! See [`boot`]: stacks by hart id, and harts other than 0 released by a
//! CLINT software interrupt once hart 0 has zeroed `.bss`.

#![no_std]
#![no_main]

mod boot;
mod hart;
mod machine;
mod tasks;

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU32, Ordering::*};
use doorway::bakery::Bakery;
use doorway::fastbakery::FastBakery;
use doorway::harts::{Hart, HartCriticalSection, MachineMode};
use doorway::paxos::register::PaxosRegister;
use doorway::percore::PerCore;
use doorway::tournament::Tournament;
use doorway::{Guard, Lock, Participant, Withdraw};
use machine::Uart;

/// Harts the image runs on (QEMU's `-smp 4`).
pub const HARTS: usize = 4;

/// Acquisitions of each lock per hart, and the least number of adds per
/// hart in the critical-section phase.
pub const K: u32 = 2000;

/// Paxos registers decided, one per round, by all four harts.
pub const PAXOS_ROUNDS: usize = 100;

/// Timer interrupts each hart takes at least during the critical-section
/// phase (it keeps adding until then).
const MIN_TICKS: u32 = 4;

/// How long hart 0 waits for the other harts to arrive (QEMU's clock).
const ARRIVAL_TIMEOUT: u64 = 10 * machine::TIMER_HZ;

// The program's `critical-section` implementation: a bakery of four harts,
// each hart's interrupts masked while it is inside.
doorway::hart_critical_section!(static CRITICAL: HartCriticalSection<QemuHart, HARTS>);

/// RISC-V machine mode ([`MachineMode`]), waiting QEMU's way: a hart that
/// has looked [`SPIN_LOOKS`] times naps between looks instead of spinning
/// (see [`hart::nap`]). On silicon, where every hart has a core of its own,
/// `MachineMode` alone would do.
struct QemuHart;

// SAFETY: the index and the interrupt mask are `MachineMode`'s; `relax`
// returns after a nap and enters no critical section.
unsafe impl Hart for QemuHart {
    fn index() -> usize {
        MachineMode::index()
    }

    fn mask_interrupts() -> bool {
        MachineMode::mask_interrupts()
    }

    unsafe fn unmask_interrupts() {
        // SAFETY: the caller keeps `MachineMode`'s contract, which is ours.
        unsafe { MachineMode::unmask_interrupts() }
    }

    fn relax(looks: u32) {
        if looks > SPIN_LOOKS {
            hart::nap();
        }
    }
}

/// Looks a waiting hart takes, spinning, before it naps between looks: a
/// handoff to a hart that is running comes within a few looks.
const SPIN_LOOKS: u32 = 32;

/// The UART, guarded by doorway's own lock.
static UART: Lock<Bakery<HARTS>, Uart> = Lock::new(Uart);

/// The counters, each behind one of doorway's locks: plain integers, not
/// atomics.
static BAKERY: Lock<Bakery<HARTS>, Tally> = Lock::new(Tally::new());
static FAST_BAKERY: Lock<FastBakery<HARTS>, Tally> = Lock::new(Tally::new());
static PER_CORE: Lock<PerCore<HARTS>, Tally> = Lock::new(Tally::new());
static TOURNAMENT: Lock<Tournament<HARTS>, Tally> = Lock::new(Tally::new());

/// One register per round.
static REGISTERS: [PaxosRegister<u32, HARTS>; PAXOS_ROUNDS] =
    [const { PaxosRegister::new() }; PAXOS_ROUNDS];
/// What each hart's proposer returned, per round; row `h` written by hart
/// `h` only.
static DECIDED: [[AtomicU32; PAXOS_ROUNDS]; HARTS] =
    [const { [const { AtomicU32::new(0) }; PAXOS_ROUNDS] }; HARTS];

/// Added to by every hart and every timer interrupt: `fetch_add` emulated
/// through the critical section.
static ADDS: portable_atomic::AtomicU32 = portable_atomic::AtomicU32::new(0);
/// Adds made by each hart's thread code; entry `h` written by hart `h`.
static ADDED: [AtomicU32; HARTS] = [const { AtomicU32::new(0) }; HARTS];
/// Timer interrupts taken per hart (each one add); entry `h` written by
/// hart `h`'s handler.
static TICKS: [AtomicU32; HARTS] = [const { AtomicU32::new(0) }; HARTS];

/// The barrier: hart `h` stores the number of barriers it has reached in
/// `ARRIVED[h]` (one writer per register, no read-modify-write).
static ARRIVED: [AtomicU32; HARTS] = [const { AtomicU32::new(0) }; HARTS];

/// Exit codes for QEMU (the test device's failure status).
const FAILED_CHECK: u16 = 1;
const MISSING_HARTS: u16 = 3;
const PANICKED: u16 = 4;

/// Every hart enters here from `boot`, with its hart id, on its own stack.
extern "C" fn start(hart: usize) -> ! {
    hart::install_trap_vector();
    say(
        hart,
        format_args!(
            "hart {hart}: up, stack pointer {:#010x}",
            hart::stack_pointer()
        ),
    );
    let mut barrier = Barrier::new(hart);
    if !barrier.wait_until(Some(machine::now() + ARRIVAL_TIMEOUT)) {
        let arrived = ARRIVED.iter().filter(|a| a.load(Acquire) > 0).count();
        say(
            hart,
            format_args!("FAIL: {arrived} of {HARTS} harts arrived; run QEMU with -smp {HARTS}"),
        );
        machine::exit(false, MISSING_HARTS);
    }

    let mut passed = true;
    passed &= phase(
        &mut barrier,
        "bakery",
        |b| count(b.hart, &BAKERY),
        || check_counter(&BAKERY),
    );
    passed &= phase(
        &mut barrier,
        "fast bakery",
        |b| count(b.hart, &FAST_BAKERY),
        || check_counter(&FAST_BAKERY),
    );
    passed &= phase(
        &mut barrier,
        "per-core bakery",
        |b| count(b.hart, &PER_CORE),
        || check_counter(&PER_CORE),
    );
    passed &= phase(
        &mut barrier,
        "tournament",
        |b| count(b.hart, &TOURNAMENT),
        || check_counter(&TOURNAMENT),
    );
    passed &= phase(&mut barrier, "paxos register", decide, check_paxos);
    passed &= phase(
        &mut barrier,
        "critical-section",
        |b| add(b.hart),
        check_adds,
    );
    passed &= phase(
        &mut barrier,
        "async lock",
        |b| tasks::run(b.hart),
        || Outcome::Async(tasks::check()),
    );

    if hart == 0 {
        if !passed {
            say(hart, format_args!("harts: FAILED"));
            machine::exit(false, FAILED_CHECK);
        }
        say(hart, format_args!("harts: all checks passed"));
        machine::exit(true, 0);
    }
    loop {
        hart::wait_for_interrupt();
    }
}

/// Runs `work` on every hart between two barriers, with the timer ticking;
/// hart 0 then runs `check` and prints its line with the time the phase
/// took. Returns `false` on hart 0 when the check failed.
fn phase(
    barrier: &mut Barrier,
    name: &str,
    work: impl FnOnce(&mut Barrier),
    check: impl FnOnce() -> Outcome,
) -> bool {
    barrier.wait();
    let started = machine::now();
    hart::ticking(true);
    barrier.start_line();
    work(barrier);
    hart::ticking(false);
    barrier.wait();
    if barrier.hart != 0 {
        return true;
    }
    let micros = (machine::now() - started) * 1_000_000 / machine::TIMER_HZ;
    let outcome = check();
    let verdict = if outcome.passed() { "" } else { "  <-- FAIL" };
    let (ms, frac) = (micros / 1000, micros % 1000);
    say(
        0,
        format_args!("{name:<16} {outcome} ({ms}.{frac:03} ms){verdict}"),
    );
    outcome.passed()
}

/// What hart 0 found after a phase.
enum Outcome {
    /// A lock's counter, and its handoffs between harts.
    Counter { total: u32, handoffs: u32 },
    /// The Paxos rounds in which all four harts got the same valid value;
    /// the rounds each hart's proposal won.
    Paxos { agreed: u32, wins: [u32; HARTS] },
    /// The critical-section counter; the adds made by the harts' thread code
    /// and by their timer interrupts (in every phase so far).
    Adds { total: u32, added: u32, ticks: u32 },
    /// The async lock's counter and audit (see [`tasks`]).
    Async(tasks::Figures),
}

impl Outcome {
    fn passed(&self) -> bool {
        match *self {
            Outcome::Counter { total, .. } => total == HARTS as u32 * K,
            Outcome::Paxos { agreed, .. } => agreed == PAXOS_ROUNDS as u32,
            Outcome::Adds {
                total,
                added,
                ticks,
            } => added >= HARTS as u32 * K && ticks > 0 && total == added + ticks,
            Outcome::Async(ref figures) => figures.passed(),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Outcome::Counter { total, handoffs } => write!(
                f,
                "{HARTS} harts x {K} acquisitions, counter = {total} (expected {}), \
                 {handoffs} handoffs",
                HARTS as u32 * K
            ),
            Outcome::Paxos { agreed, wins } => write!(
                f,
                "{HARTS} proposers x {PAXOS_ROUNDS} rounds, {agreed} agreed \
                 (rounds won by hart 0..3: {wins:?})"
            ),
            Outcome::Adds {
                total,
                added,
                ticks,
            } => write!(
                f,
                "{HARTS} harts x >={K} fetch_add = {added}, + {ticks} in timer interrupts, \
                 counter = {total} (expected {})",
                added + ticks
            ),
            Outcome::Async(ref x) => write!(
                f,
                "{} tasks ({} per hart) x {} acquisitions, counter = {} (expected {}), \
                 per task {}..{}, {} waited, {} FIFO overtakes, {} handoffs, {} polls{}",
                tasks::TASKS,
                tasks::TASKS_PER_HART,
                tasks::K_ASYNC,
                x.total,
                tasks::TASKS as u32 * tasks::K_ASYNC,
                x.fewest,
                x.most,
                x.waited,
                x.overtakes,
                x.handoffs,
                x.polls,
                if x.free { "" } else { ", NOT FREE at the end" }
            ),
        }
    }
}

/// A lock's counter, and how often the lock went from one hart to another
/// (which shows whether the harts took turns or ran one after the other).
struct Tally {
    count: u32,
    handoffs: u32,
    last: usize,
}

impl Tally {
    const fn new() -> Self {
        Self {
            count: 0,
            handoffs: 0,
            last: usize::MAX,
        }
    }
}

/// This hart takes `counter`'s lock `K` times and adds one each time.
fn count<R: Withdraw>(hart: usize, counter: &'static Lock<R, Tally>) {
    // SAFETY: `hart` is this hart's `mhartid`, fixed and unique per hart
    // (`boot` parks harts past `HARTS`, so it is below the lock's four
    // participants); this hart makes one participant of `counter`, and
    // nothing else uses index `hart` on it: no interrupt handler takes this
    // lock, and without `std` there is no `Lock::lock` that could hand out
    // seats.
    let mut me = unsafe { counter.participant_unchecked(hart) };
    for _ in 0..K {
        let mut tally = lock(&mut me);
        // Read, dawdle, write: a second hart inside would lose an update.
        let count = tally.count;
        dawdle();
        tally.count = count + 1;
        if tally.last != hart {
            tally.handoffs += u32::from(tally.last != usize::MAX);
            tally.last = hart;
        }
        drop(tally);
        dawdle();
    }
}

/// A few hundred instructions of nothing: inside a critical section it
/// widens the window in which a broken lock loses updates (with 16 instead
/// of 128 turns, single-threaded TCG could miss a hart that skips the lock
/// altogether), and between two it lets the other harts in.
fn dawdle() {
    for i in 0..128 {
        core::hint::black_box(i);
    }
}

/// Locks through `me`, napping between looks as the critical section does
/// (`Participant::lock` would spin: right on silicon, slow under QEMU).
fn lock<'a, R: Withdraw, T>(me: &'a mut Participant<'_, R, T>) -> Guard<'a, R, T> {
    let mut looks = 0;
    me.lock_unless(|| {
        looks += 1;
        QemuHart::relax(looks);
        false
    })
    .unwrap_or_else(|| unreachable!("a wait that never gives up"))
}

/// Hart 0 reads a counter after the barrier.
fn check_counter<R: Withdraw>(counter: &'static Lock<R, Tally>) -> Outcome {
    // SAFETY: index 0 is hart 0's, and hart 0 uses no other participant of
    // `counter` now (`count` has returned).
    let mut me = unsafe { counter.participant_unchecked(0) };
    let tally = lock(&mut me);
    Outcome::Counter {
        total: tally.count,
        handoffs: tally.handoffs,
    }
}

/// This hart proposes in every round; a barrier and a start line start each
/// round on all harts at once.
fn decide(barrier: &mut Barrier) {
    let hart = barrier.hart;
    for (round, register) in REGISTERS.iter().enumerate() {
        barrier.wait();
        barrier.start_line();
        // SAFETY: proposer `hart` of this round's register exists once,
        // here, on the hart with that `mhartid`; every round has its own
        // register, so no index ever proposes twice to one register.
        let proposer = unsafe { register.proposer_unchecked(hart) };
        let decided = proposer.propose(proposal(round, hart));
        DECIDED[hart][round].store(decided, Relaxed);
    }
}

/// Hart `hart`'s proposal in `round`: the round and the hart, recoverable.
fn proposal(round: usize, hart: usize) -> u32 {
    (round * 16 + hart + 1) as u32
}

/// Hart 0, after the barrier: in every round all four harts got the same
/// value, the register holds it, and it is that round's proposal of the
/// hart the register names as winner.
fn check_paxos() -> Outcome {
    let mut wins = [0u32; HARTS];
    let mut agreed = 0;
    for (round, register) in REGISTERS.iter().enumerate() {
        let first = DECIDED[0][round].load(Relaxed);
        let all_same = DECIDED.iter().all(|row| row[round].load(Relaxed) == first);
        let held = register.decided() == Some(first);
        match register.winner() {
            Some(winner) if all_same && held && first == proposal(round, winner) => {
                agreed += 1;
                wins[winner] += 1;
            }
            _ => {}
        }
    }
    Outcome::Paxos { agreed, wins }
}

/// This hart adds through portable-atomic's `fetch_add`, every other time
/// inside an outer critical section (so that the inner one nests), at least
/// `K` times and until its timer has interrupted it `MIN_TICKS` times.
fn add(hart: usize) {
    let ticks_before = TICKS[hart].load(Relaxed);
    let mut added = 0;
    while added < K || TICKS[hart].load(Relaxed) < ticks_before + MIN_TICKS {
        if added % 2 == 0 {
            ADDS.fetch_add(1, Relaxed);
        } else {
            critical_section::with(|_| ADDS.fetch_add(1, Relaxed));
        }
        added += 1;
    }
    ADDED[hart].store(added, Relaxed);
}

/// Hart 0, after the barrier: the adds of the harts and of the handlers.
fn check_adds() -> Outcome {
    Outcome::Adds {
        total: ADDS.load(Relaxed),
        added: ADDED.iter().map(|a| a.load(Relaxed)).sum(),
        ticks: TICKS.iter().map(|t| t.load(Relaxed)).sum(),
    }
}

/// The trap handler's Rust half (called from `boot`'s `trap_entry`, with
/// interrupts masked): a timer interrupt adds one through the critical
/// section, on whatever this hart was doing, and re-arms the timer.
extern "C" fn trap() {
    const MACHINE_TIMER: usize = (1 << (usize::BITS - 1)) | 7;
    let cause = hart::trap_cause();
    if cause != MACHINE_TIMER {
        panic!(
            "unexpected trap: mcause {cause:#x} at {:#010x}",
            hart::trap_address()
        );
    }
    ADDS.fetch_add(1, Relaxed);
    let ticks = &TICKS[hart::index()];
    // Only this hart's handler writes its entry: no read-modify-write needed.
    ticks.store(ticks.load(Relaxed) + 1, Relaxed);
    // Re-armed last: the interrupted code runs a whole interval before the
    // next tick, however long this one waited for the critical section.
    hart::next_tick();
}

/// A barrier for the four harts from single-writer registers: hart `h`
/// stores how many barriers it has reached in `ARRIVED[h]` and waits until
/// every register has caught up.
///
/// Waiting harts sleep in `wfi`, and every arrival raises the other harts'
/// software interrupts so that they look again. Under QEMU's single-threaded
/// TCG a sleeping hart hands the host thread to the next hart at once, where
/// a spinning one would keep it for its whole time slice (100 ms).
struct Barrier {
    hart: usize,
    reached: u32,
}

impl Barrier {
    fn new(hart: usize) -> Self {
        Self { hart, reached: 0 }
    }

    /// A second barrier right after a sleeping one, that spins: harts wake
    /// from `wfi` at different times (a halted vCPU takes a while to be
    /// scheduled again), and one hart alone could be done with its share
    /// before the last one wakes. Spinning here makes them start together
    /// (under single-threaded TCG, the ticking timer moves QEMU from hart to
    /// hart meanwhile).
    fn start_line(&mut self) {
        self.reached += 1;
        ARRIVED[self.hart].store(self.reached, Release);
        for other in &ARRIVED {
            while other.load(Acquire) < self.reached {
                core::hint::spin_loop();
            }
        }
    }

    /// Waits until every hart has reached this barrier.
    fn wait(&mut self) {
        self.wait_until(None);
    }

    /// As `wait`, but gives up at `deadline` (QEMU's clock, with the timer
    /// as a wake-up source; only while not ticking); `false` then.
    fn wait_until(&mut self, deadline: Option<u64>) -> bool {
        self.reached += 1;
        // Release: what this hart did before the barrier is seen by every
        // hart that passes it (their loads are `Acquire`).
        ARRIVED[self.hart].store(self.reached, Release);
        // The arrival before the wake-ups.
        hart::io_fence();
        for other in (0..HARTS).filter(|&other| other != self.hart) {
            machine::raise_software_interrupt(other);
        }
        hart::masked(|| {
            let mut wake_on = hart::SOFTWARE;
            if let Some(deadline) = deadline {
                machine::set_timer(self.hart, deadline);
                wake_on |= hart::TIMER;
            }
            let enabled = hart::swap_enabled(wake_on);
            let passed = loop {
                // Clear, then look: an arrival after the look raises the
                // interrupt again, and the `wfi` below returns at once. The
                // fence keeps the look after the clearing.
                machine::clear_software_interrupt(self.hart);
                hart::io_fence();
                if ARRIVED
                    .iter()
                    .all(|other| other.load(Acquire) >= self.reached)
                {
                    break true;
                }
                if deadline.is_some_and(|deadline| machine::now() >= deadline) {
                    break false;
                }
                hart::wait_for_interrupt();
            };
            hart::swap_enabled(enabled);
            if deadline.is_some() {
                machine::set_timer(self.hart, u64::MAX);
            }
            passed
        })
    }
}

/// Prints one line, holding the UART's lock as participant `hart`.
fn say(hart: usize, line: fmt::Arguments<'_>) {
    // SAFETY: `hart` is the caller's `mhartid` (see `count`); this
    // participant lives for this call only, and no handler prints.
    let mut uart = unsafe { UART.participant_unchecked(hart) };
    let _ = writeln!(*lock(&mut uart), "{line}");
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    // Straight to the device, without the UART's lock: this hart may hold it.
    let _ = writeln!(Uart, "hart {}: panic: {info}", hart::index());
    machine::exit(false, PANICKED)
}
