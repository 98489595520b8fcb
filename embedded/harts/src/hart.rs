//! The calling hart's machine-mode registers, and the waits built on them.
//!
//! Interrupt enable lives in two places: `mstatus.MIE` says whether any
//! interrupt traps, `mie` which ones may (and which may end a `wfi`: a
//! pending interrupt enabled in `mie` ends it even while `mstatus.MIE` is
//! clear, without trapping). The waits below use that: they mask
//! `mstatus.MIE`, choose their wake-up sources in `mie`, sleep, and put both
//! back.

use crate::machine;
use core::arch::asm;
use doorway::harts::{Hart, MachineMode};

/// `mie`/`mip` bit of the machine software interrupt.
pub const SOFTWARE: usize = 1 << 3;
/// `mie`/`mip` bit of the machine timer interrupt.
pub const TIMER: usize = 1 << 7;

/// Ticks of the timer between the end of a timer interrupt's handler and the
/// next timer interrupt, while ticking (10 MHz: 100 µs of QEMU's clock).
const TICK_INTERVAL: u64 = 1_000;

/// Ticks of a nap (20 µs).
const NAP: u64 = 200;

/// This hart's index: its `mhartid`.
pub fn index() -> usize {
    MachineMode::index()
}

/// Runs `f` with this hart's interrupts masked, then puts them back as they
/// were.
pub fn masked<T>(f: impl FnOnce() -> T) -> T {
    let were_enabled = MachineMode::mask_interrupts();
    let value = f();
    if were_enabled {
        // SAFETY: they were enabled before `mask_interrupts`.
        unsafe { MachineMode::unmask_interrupts() };
    }
    value
}

/// Replaces `mie` with `bits`; returns the old value.
pub fn swap_enabled(bits: usize) -> usize {
    let old: usize;
    // SAFETY: writes this hart's `mie`, in machine mode; no `nomem`, so
    // memory accesses keep their side.
    unsafe { asm!("csrrw {0}, mie, {1}", out(reg) old, in(reg) bits, options(nostack)) };
    old
}

/// Sleeps until an interrupt enabled in `mie` is pending, or returns at once
/// (`wfi` may). For QEMU a sleeping hart is a halted vCPU.
pub fn wait_for_interrupt() {
    // SAFETY: `wfi` only waits.
    unsafe { asm!("wfi", options(nostack)) };
}

/// Orders every memory and device access before it against every one after
/// it (`fence iorw, iorw`): a store to memory before a store to the CLINT, a
/// store to the CLINT before a load from memory.
pub fn io_fence() {
    // SAFETY: a fence; no `nomem`, so the compiler keeps accesses in order too.
    unsafe { asm!("fence iorw, iorw", options(nostack)) };
}

/// Naps about 20 µs of QEMU's clock: what a hart does between two looks
/// while it waits for another to leave a lock.
///
/// Under QEMU a napping hart is a halted vCPU. With single-threaded TCG the
/// host thread passes at once to the next hart; a spinning hart would keep
/// it for a whole time slice (100 ms), and a FIFO lock whose next holder is
/// not running hands over once per slice. With multi-threaded TCG the vCPU's
/// host thread sleeps, and gives its host core to a hart that can move.
///
/// Keeps the hart's state as it found it: interrupts are masked during the
/// nap and restored after; the timer is set to the nap's end and then back
/// to the next tick, so a tick that fell due meanwhile is taken (late by a
/// nap at most) when interrupts are unmasked again.
pub fn nap() {
    masked(|| {
        let hart = index();
        let tick = machine::timer_deadline(hart);
        machine::set_timer(hart, machine::now() + NAP);
        let enabled = swap_enabled(TIMER);
        wait_for_interrupt();
        swap_enabled(enabled);
        machine::set_timer(hart, tick);
    });
}

/// Starts (`true`) or stops this hart's timer interrupts, one 100 µs after
/// the last: the handler ([`crate::trap`]) re-arms the timer when it is done.
///
/// Under single-threaded TCG every timer interrupt also makes QEMU move to
/// the next hart, so ticking is what interleaves the harts there: without
/// it, each hart would run its whole share of a phase in one time slice.
pub fn ticking(on: bool) {
    let hart = index();
    if on {
        machine::set_timer(hart, machine::now() + TICK_INTERVAL);
        // SAFETY: enables the timer interrupt in `mie` and `mstatus.MIE`, in
        // machine mode, with `mtvec` set (`install_trap_vector`).
        unsafe { asm!("csrs mie, {0}", "csrsi mstatus, 8", in(reg) TIMER, options(nostack)) };
    } else {
        // SAFETY: disables them again.
        unsafe { asm!("csrci mstatus, 8", "csrc mie, {0}", in(reg) TIMER, options(nostack)) };
        machine::set_timer(hart, u64::MAX);
    }
}

/// Re-arms this hart's timer for the next tick (from the handler).
pub fn next_tick() {
    machine::set_timer(index(), machine::now() + TICK_INTERVAL);
}

unsafe extern "C" {
    /// The trap vector in `boot` (4-byte aligned, for `mtvec`'s direct mode).
    fn trap_entry();
}

/// Points this hart's `mtvec` at `trap_entry`.
pub fn install_trap_vector() {
    let vector = trap_entry as *const () as usize;
    // SAFETY: writes this hart's machine trap vector, in machine mode; the
    // address is 4-byte aligned, so the mode bits are 0 (direct).
    unsafe { asm!("csrw mtvec, {0}", in(reg) vector, options(nostack)) };
}

/// The cause of the trap being handled.
pub fn trap_cause() -> usize {
    let cause: usize;
    // SAFETY: reads this hart's `mcause`.
    unsafe { asm!("csrr {0}, mcause", out(reg) cause, options(nomem, nostack)) };
    cause
}

/// The address the trap being handled interrupted.
pub fn trap_address() -> usize {
    let pc: usize;
    // SAFETY: reads this hart's `mepc`.
    unsafe { asm!("csrr {0}, mepc", out(reg) pc, options(nomem, nostack)) };
    pc
}

/// The calling hart's stack pointer, to show that each hart has its own.
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: copies `sp`.
    unsafe { asm!("mv {0}, sp", out(reg) sp, options(nomem, nostack)) };
    sp
}
