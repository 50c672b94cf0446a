//! The evaluation process's side of the kernel, installed once per process by the kernel:
//! panic reports, and the interrupt flag that long-running prelude code checks.

use std::sync::atomic::{AtomicPtr, Ordering};

use ferrolab_protocol::{env, marked_line, PanicReport, PANIC_MARKER};

/// The kernel's one-byte interrupt flag file, mapped into memory: checking it costs one load.
static INTERRUPT_FLAG: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());

/// The panic payload of a cell stopped by the user. Unwinding (rather than killing the
/// process) keeps every variable defined before the cell.
#[derive(Debug)]
pub struct Interrupted;

/// Called by the kernel in every new evaluation process.
pub fn install() {
    map_interrupt_flag();
    // The kernel handles SIGINT (JupyterLab's stop button may signal the whole process
    // group): here it must not kill the process and the session's variables with it.
    // SAFETY: setting a signal disposition to "ignore" has no handler to be unsafe in.
    unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let interrupted = payload.is::<Interrupted>();
        crate::track::end_live_runs(interrupted);
        if CATCHING.get() {
            return;
        }
        let message = panic_message(payload);
        let (file, line, column) = info
            .location()
            .map(|l| (l.file().to_owned(), l.line() as usize, l.column() as usize))
            .unwrap_or_default();
        let report = PanicReport {
            message,
            file,
            line,
            column,
            interrupted,
        };
        println!("{}", marked_line(PANIC_MARKER, &report));
    }));
}

thread_local! {
    /// Set while prelude code that catches panics runs (`catch_panics`): the kernel reports
    /// every panic it hears of as the cell's error, and these are not.
    static CATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, turning a panic into its message: for prelude code that carries on after one
/// (a sweep's failed trial) without failing the cell. An interrupt comes back as the
/// message "interrupted by the user".
pub(crate) fn catch_panics<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    let outer = CATCHING.replace(true);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING.set(outer);
    result.map_err(|payload| panic_message(&*payload))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if payload.is::<Interrupted>() {
        INTERRUPTED_MESSAGE.to_owned()
    } else {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "Box<dyn Any>".to_owned())
    }
}

pub(crate) const INTERRUPTED_MESSAGE: &str = "interrupted by the user";

/// Called by the kernel when it takes over a spare session that was started elsewhere (see
/// kernel/src/spare.rs): this process moves to the notebook's directory and environment,
/// as if the kernel had been started there.
pub fn adopt(dir: &str, set: &[(&str, &str)], unset: &[&str]) {
    if let Err(error) = std::env::set_current_dir(dir) {
        eprintln!("ferrolab: cannot change to the notebook's directory {dir}: {error}");
    }
    for (name, value) in set {
        std::env::set_var(name, value);
    }
    for name in unset {
        std::env::remove_var(name);
    }
}

fn map_interrupt_flag() {
    let Some(path) = std::env::var_os(env::INTERRUPT_FILE) else {
        return;
    };
    let Ok(file) = std::fs::OpenOptions::new().read(true).open(path) else {
        return;
    };
    use std::os::fd::AsRawFd;
    // SAFETY: a read-only shared mapping of one byte of a file the kernel keeps in place for
    // the whole session; the mapping outlives the descriptor, as mmap(2) allows.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            1,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    if ptr != libc::MAP_FAILED {
        INTERRUPT_FLAG.store(ptr.cast(), Ordering::Release);
    }
}

/// True once the user asked to stop the running cell.
pub fn interrupt_requested() -> bool {
    let flag = INTERRUPT_FLAG.load(Ordering::Acquire);
    // SAFETY: either null or the live one-byte mapping made in `map_interrupt_flag`.
    !flag.is_null() && unsafe { std::ptr::read_volatile(flag) } != 0
}

/// Stops the running cell if the user pressed stop: call it in long loops. The cell ends
/// with an `Interrupted` error and the session keeps its variables. Prelude loops (progress
/// bars, training, data loading) call it for you.
#[track_caller] // so that the stop is reported at the cell's line that checked
pub fn check_interrupt() {
    if interrupt_requested() {
        std::panic::panic_any(Interrupted);
    }
}

/// An iterator that stops the cell when the user presses stop, keeping the session's
/// variables: `for step in (0..1_000_000).interruptible() { ... }`.
pub struct Interruptible<I>(I);

impl<I: Iterator> Iterator for Interruptible<I> {
    type Item = I::Item;

    #[track_caller]
    fn next(&mut self) -> Option<I::Item> {
        check_interrupt();
        self.0.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

/// Adds `.interruptible()` to every iterator.
pub trait InterruptibleExt: Iterator + Sized {
    fn interruptible(self) -> Interruptible<Self> {
        Interruptible(self)
    }
}

impl<I: Iterator> InterruptibleExt for I {}
