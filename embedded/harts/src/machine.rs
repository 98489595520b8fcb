//! The devices of QEMU's `virt` machine that the image uses: the NS16550A
//! UART, the SiFive test device (ends QEMU with a status) and the CLINT
//! (per hart: a software-interrupt bit that wakes it, a timer that
//! interrupts it). Every access is a volatile load or store of one aligned
//! byte or word.

use core::fmt;
use core::ptr::{read_volatile, write_volatile};

/// The UART's transmit register; its line status register is 5 bytes on.
const UART: usize = 0x1000_0000;
/// Line status: the transmitter can take a byte.
const UART_THR_EMPTY: u8 = 1 << 5;

/// The SiFive test device ("finisher").
const TEST_DEVICE: usize = 0x0010_0000;
const FINISHER_PASS: u32 = 0x5555;
const FINISHER_FAIL: u32 = 0x3333;

/// The CLINT: a software-interrupt word per hart, a 64-bit compare register
/// per hart, and the machine timer (10 MHz on `virt`).
pub const CLINT_MSIP: usize = 0x0200_0000;
const CLINT_MTIMECMP: usize = 0x0200_4000;
const CLINT_MTIME: usize = 0x0200_BFF8;

/// Ticks of the machine timer per second on `virt`.
pub const TIMER_HZ: u64 = 10_000_000;

/// The UART, as a `fmt::Write` target. Who may write when is the caller's
/// business: the image keeps it in a doorway `Lock`, and only the panic
/// handler writes to it without holding that lock.
pub struct Uart;

impl Uart {
    fn put(&mut self, byte: u8) {
        // SAFETY: the UART's registers on `virt`; one byte loads and stores.
        unsafe {
            while read_volatile((UART + 5) as *const u8) & UART_THR_EMPTY == 0 {}
            write_volatile(UART as *mut u8, byte);
        }
    }
}

impl fmt::Write for Uart {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for byte in text.bytes() {
            if byte == b'\n' {
                self.put(b'\r');
            }
            self.put(byte);
        }
        Ok(())
    }
}

/// Ends QEMU: exit status 0 on pass, `code` on fail.
pub fn exit(pass: bool, code: u16) -> ! {
    let word = if pass {
        FINISHER_PASS
    } else {
        (u32::from(code) << 16) | FINISHER_FAIL
    };
    // SAFETY: the test device's register; QEMU ends at this store.
    unsafe { write_volatile(TEST_DEVICE as *mut u32, word) };
    loop {
        core::hint::spin_loop();
    }
}

/// The machine timer.
pub fn now() -> u64 {
    loop {
        // SAFETY: the CLINT's `mtime`, read as two words; the high word is
        // read again to catch a carry between the two reads.
        let (high, low, again) = unsafe {
            (
                read_volatile((CLINT_MTIME + 4) as *const u32),
                read_volatile(CLINT_MTIME as *const u32),
                read_volatile((CLINT_MTIME + 4) as *const u32),
            )
        };
        if high == again {
            return (u64::from(high) << 32) | u64::from(low);
        }
    }
}

/// When `hart`'s timer interrupt becomes pending (`u64::MAX`: never).
pub fn timer_deadline(hart: usize) -> u64 {
    let register = CLINT_MTIMECMP + 8 * hart;
    // SAFETY: `hart`'s compare register, read as two words (only `hart`
    // writes it, so it cannot change between the reads).
    let (low, high) = unsafe {
        (
            read_volatile(register as *const u32),
            read_volatile((register + 4) as *const u32),
        )
    };
    (u64::from(high) << 32) | u64::from(low)
}

/// Makes `hart`'s timer interrupt pending from time `at` on.
pub fn set_timer(hart: usize, at: u64) {
    let register = CLINT_MTIMECMP + 8 * hart;
    // SAFETY: `hart`'s compare register, written as two words: the high word
    // first goes to its maximum, so no interrupt fires on a half-written
    // value.
    unsafe {
        write_volatile((register + 4) as *mut u32, u32::MAX);
        write_volatile(register as *mut u32, at as u32);
        write_volatile((register + 4) as *mut u32, (at >> 32) as u32);
    }
}

/// Raises `hart`'s software interrupt: a `wfi` there returns.
pub fn raise_software_interrupt(hart: usize) {
    // SAFETY: the CLINT's MSIP word of `hart`, a hart of the machine.
    unsafe { write_volatile((CLINT_MSIP + 4 * hart) as *mut u32, 1) };
}

/// Clears `hart`'s software interrupt.
pub fn clear_software_interrupt(hart: usize) {
    // SAFETY: as in `raise_software_interrupt`.
    unsafe { write_volatile((CLINT_MSIP + 4 * hart) as *mut u32, 0) };
}
