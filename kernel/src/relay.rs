//! The evaluation process's stdout, relayed through a pipe by a thread of its own, which
//! adds two kinds of marker line for the kernel (ferrolab-protocol):
//!
//! - When a cell's `?` returns an error, evcxr prints the error on stderr (between two marker
//!   lines, for capture.rs) and a line on
//!   stdout that its parent side keeps to itself: the cell would count as a success, and a
//!   notebook run by nbconvert would go on past it. The relay announces that line first.
//! - When a run of code ends (evcxr's completion line), the relay numbers it on stderr, and
//!   hands the number to evcxr as a part of the run's result. stderr reaches the kernel
//!   through a pipe and a thread of evcxr's that nothing orders with the result; the number
//!   tells the kernel which line on stderr says that the run's stderr is all in.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::FromRawFd;

use ferrolab_protocol::{RUN_END_MARKER, RUN_END_MIME, USER_ERROR_MARKER};

/// What evcxr's generated code prints when a `?` in a cell returned an error.
const EVCXR_USER_ERROR: &[u8] = b"EVCXR_ERROR_OCCURRED";
/// What evcxr's runtime prints when a run of code has ended.
const EVCXR_RUN_COMPLETE: &[u8] = b"EVCXR_EXECUTION_COMPLETE";

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
        let mut runs: u64 = 0;
        for line in BufReader::new(reader).split(b'\n').map_while(Result::ok) {
            if line == EVCXR_USER_ERROR {
                let _ = writeln!(out, "{USER_ERROR_MARKER}");
            }
            if line == EVCXR_RUN_COMPLETE {
                runs += 1;
                // The run's own stderr writes are in the pipe already; this comes after them.
                let _ = writeln!(std::io::stderr().lock(), "{RUN_END_MARKER} {runs}");
                // A content block, as evcxr reads a cell's value: it comes back with the
                // result, where the kernel takes it out again.
                let _ = write!(
                    out,
                    "EVCXR_BEGIN_CONTENT {RUN_END_MIME}\n{runs}\nEVCXR_END_CONTENT\n"
                );
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
