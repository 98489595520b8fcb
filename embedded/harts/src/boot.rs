//! Boot: every hart starts at `_start` at once, finds its stack by its hart
//! id, and harts other than 0 sleep until hart 0 has zeroed `.bss`.
//!
//! # Why the release is a software interrupt
//!
//! A release flag in memory would have to live somewhere hart 0 does not
//! zero, and would still hold whatever the memory held at reset on a real
//! chip (QEMU zeroes RAM, silicon does not), so a waiting hart could not tell
//! "released" from "garbage". The CLINT's software-interrupt bit (MSIP) is
//! 0 at reset on every hart, and nothing but a store to the CLINT sets it. So
//! a hart `h > 0` enables only its software interrupt in `mie` (leaving
//! `mstatus.MIE` clear: nothing traps, the pending bit only ends a `wfi`),
//! sleeps in `wfi` until `mip.MSIP` is set, clears its own MSIP, and enters
//! Rust. Hart 0 zeroes `.bss`, then writes MSIP of harts `1..HARTS`. A
//! `fence iorw, iorw` on each side orders hart 0's zeroing stores before its
//! store to the CLINT, and the woken hart's acknowledgement before its first
//! load of memory. No Rust code runs on any hart before `.bss` is zero.
//! (`.data` is put in place by QEMU's ELF loader; firmware booting from
//! flash would copy it here, before the release, the same way.)
//!
//! Waiting harts are halted vCPUs for QEMU (`wfi`), so they cost the host
//! nothing while hart 0 works; harts past `HARTS` (with `-smp 5` or more)
//! park forever.
//!
//! # Stacks
//!
//! Hart `h`'s stack is the `h`-th `STACK_BYTES` of [`STACKS`], in a section
//! the linker script places after `.bss` (`link.x`), so hart 0's zeroing
//! never touches a stack in use.
//!
//! # Traps
//!
//! `trap_entry` saves the registers a Rust function may clobber on the
//! interrupted hart's stack, calls [`crate::trap`], restores them and
//! returns with `mret`. The image takes only the machine timer interrupt
//! ([`crate::hart::ticking`]).

use crate::HARTS;

/// Bytes of stack per hart.
pub const STACK_BYTES: usize = 16 * 1024;

/// Every hart's stack: hart `h`'s top is `STACKS + (h + 1) * STACK_BYTES`.
/// Used only through `sp` (Rust never makes a reference to it).
#[unsafe(link_section = ".stacks")]
static mut STACKS: core::mem::MaybeUninit<[[u128; STACK_BYTES / 16]; HARTS]> =
    core::mem::MaybeUninit::uninit();

core::arch::global_asm!(
    r#"
    .section .text.boot, "ax"
    .global _start
_start:
    csrr    a0, mhartid
    li      t0, {harts}
    bgeu    a0, t0, .Lpark

    # sp := STACKS + (hart + 1) * STACK_BYTES
    la      sp, {stacks}
    addi    t0, a0, 1
    li      t1, {stack_bytes}
    mul     t0, t0, t1
    add     sp, sp, t0

    bnez    a0, .Lwait_for_release

    # Hart 0: zero .bss, then release the others.
    la      t0, _sbss
    la      t1, _ebss
.Lzero:
    bgeu    t0, t1, .Lzeroed
    sw      zero, 0(t0)
    addi    t0, t0, 4
    j       .Lzero
.Lzeroed:
    fence   iorw, iorw
    li      t0, {clint_msip}
    li      t1, 1
    li      t2, 1
.Lrelease:
    li      t3, {harts}
    bgeu    t2, t3, .Lenter
    slli    t3, t2, 2
    add     t3, t3, t0
    sw      t1, 0(t3)
    addi    t2, t2, 1
    j       .Lrelease

.Lwait_for_release:
    li      t0, 8                   # mie.MSIE: the software interrupt ends wfi
    csrw    mie, t0
.Lsleep:
    wfi
    csrr    t0, mip
    andi    t0, t0, 8               # mip.MSIP
    beqz    t0, .Lsleep
    csrw    mie, zero
    li      t0, {clint_msip}
    slli    t1, a0, 2
    add     t0, t0, t1
    sw      zero, 0(t0)             # acknowledge: clear this hart's MSIP
    fence   iorw, iorw

.Lenter:
    call    {start}                 # a0 = hart index; never returns
.Lpark:
    csrw    mie, zero
    wfi
    j       .Lpark

    .section .text.trap, "ax"
    .global trap_entry
    .align  4
trap_entry:
    addi    sp, sp, -64
    sw      ra, 0(sp)
    sw      t0, 4(sp)
    sw      t1, 8(sp)
    sw      t2, 12(sp)
    sw      a0, 16(sp)
    sw      a1, 20(sp)
    sw      a2, 24(sp)
    sw      a3, 28(sp)
    sw      a4, 32(sp)
    sw      a5, 36(sp)
    sw      a6, 40(sp)
    sw      a7, 44(sp)
    sw      t3, 48(sp)
    sw      t4, 52(sp)
    sw      t5, 56(sp)
    sw      t6, 60(sp)
    call    {trap}
    lw      ra, 0(sp)
    lw      t0, 4(sp)
    lw      t1, 8(sp)
    lw      t2, 12(sp)
    lw      a0, 16(sp)
    lw      a1, 20(sp)
    lw      a2, 24(sp)
    lw      a3, 28(sp)
    lw      a4, 32(sp)
    lw      a5, 36(sp)
    lw      a6, 40(sp)
    lw      a7, 44(sp)
    lw      t3, 48(sp)
    lw      t4, 52(sp)
    lw      t5, 56(sp)
    lw      t6, 60(sp)
    addi    sp, sp, 64
    mret
"#,
    harts = const HARTS,
    stack_bytes = const STACK_BYTES,
    clint_msip = const crate::machine::CLINT_MSIP,
    stacks = sym STACKS,
    start = sym crate::start,
    trap = sym crate::trap,
);
