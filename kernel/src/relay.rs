//! The evaluation process's stdout, relayed through a pipe by a thread of its own.
//!
//! When a cell's `?` returns an error, evcxr prints the error on stderr and a line on stdout
//! that its parent side keeps to itself: the cell would count as a success, and a notebook
//! run by nbconvert would go on past it. The relay announces that line to the kernel with a
//! marker line of its own first, so the cell is reported as an error.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::FromRawFd;

/// What evcxr's generated code prints when a `?` in a cell returned an error.
const EVCXR_USER_ERROR: &[u8] = b"EVCXR_ERROR_OCCURRED";
/// The line the kernel reads that from (see session.rs).
pub const USER_ERROR_MARKER: &str = "FERROLAB_USER_ERROR";

/// In the evaluation process (where evcxr sets `EVCXR_IS_RUNTIME`), before evcxr takes over.
pub fn install_in_evaluation_process() {
    if std::env::var_os("EVCXR_IS_RUNTIME").is_none() {
        return;
    }
    let mut pipe = [0; 2];
    // SAFETY: plain descriptor calls; each result is checked before it is used, and fd 1 is
    // replaced only once the pipe and the copy of the real stdout exist.
    let real_stdout = unsafe {
        if libc::pipe(pipe.as_mut_ptr()) != 0 {
            return;
        }
        let real = libc::dup(1);
        if real < 0 || libc::dup2(pipe[1], 1) < 0 {
            return;
        }
        libc::close(pipe[1]);
        real
    };
    // SAFETY: both descriptors were just created here and are owned by nothing else.
    let (reader, mut out) = unsafe { (File::from_raw_fd(pipe[0]), File::from_raw_fd(real_stdout)) };
    std::thread::spawn(move || {
        for line in BufReader::new(reader).split(b'\n').map_while(Result::ok) {
            if line == EVCXR_USER_ERROR {
                let _ = writeln!(out, "{USER_ERROR_MARKER}");
            }
            if out
                .write_all(&line)
                .and_then(|_| out.write_all(b"\n"))
                .is_err()
            {
                return;
            }
        }
    });
}
