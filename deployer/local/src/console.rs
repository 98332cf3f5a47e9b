//! The stage's console log, written off the request path.
//!
//! Every request logs a line. Written where it is made, each line is a system call to the
//! terminal inside the request; here a request only appends its line to a shared buffer, and one
//! writer thread writes whatever has gathered, in one call. A busy stage's lines are gathered
//! for [`GATHER`] between writes, so the writer wakes about a hundred times a second however
//! many requests there are; an idle one's writer sleeps until a line comes. Nothing is dropped:
//! a request whose line finds the buffer full waits for the writer, as it would have waited for
//! the terminal. [`Console::finish`] writes out the rest before the process exits.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Bytes of log lines that may wait for the writer before a request waits instead.
const PENDING_LIMIT: usize = 1 << 20;

/// How long the writer lets lines gather after a write, before the next.
const GATHER: std::time::Duration = std::time::Duration::from_millis(10);

/// Lines waiting past this many bytes wake the writer before its gathering time is up.
const WAKE_AT: usize = 64 * 1024;

/// A `tracing_subscriber` writer whose lines reach `out` through a writer thread.
#[derive(Debug, Clone)]
pub struct Console {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// Where the lines go; held by whoever is writing to it.
    out: Mutex<Box<dyn Write + Send>>,
    /// Signalled when lines arrive or the console finishes.
    arrived: Condvar,
    /// Signalled when the writer has taken the lines that were waiting.
    taken: Condvar,
}

#[derive(Debug, Default)]
struct State {
    pending: Vec<u8>,
    /// Set by `finish`: the writer stops once the buffer is empty, and later lines are
    /// written where they are made.
    finished: bool,
    /// The writer is waiting for a first line, with nothing to write: the next line wakes it.
    idle: bool,
    writer: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Console {
    /// A console writing to `out` from a thread of its own.
    pub fn start(out: impl Write + Send + 'static) -> io::Result<Console> {
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            out: Mutex::new(Box::new(out)),
            arrived: Condvar::new(),
            taken: Condvar::new(),
        });
        let writer = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("console".into())
                .spawn(move || shared.write_out())?
        };
        shared.lock().writer = Some(writer);
        Ok(Console { shared })
    }

    /// Writes out every line logged so far and stops the writer thread; lines logged after
    /// this are written where they are made.
    pub fn finish(&self) {
        let writer = {
            let mut state = self.shared.lock();
            state.finished = true;
            state.writer.take()
        };
        self.shared.arrived.notify_all();
        if let Some(writer) = writer {
            let _ = writer.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the buffer leaves it usable: it holds only bytes.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `bytes` to the console's output. A closed terminal loses the log, not the stage.
    fn write(&self, bytes: &[u8]) {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = out.write_all(bytes).and_then(|()| out.flush());
    }

    /// The writer thread: takes the waiting lines as one batch and writes them in one call,
    /// then lets the next batch gather for [`GATHER`] (or until it is [`WAKE_AT`] bytes).
    fn write_out(&self) {
        let mut batch = Vec::new();
        let mut wrote = false;
        loop {
            {
                let mut state = self.lock();
                if wrote {
                    let gathering = std::time::Instant::now();
                    while !state.finished && state.pending.len() < WAKE_AT {
                        let left = GATHER.saturating_sub(gathering.elapsed());
                        if left.is_zero() {
                            break;
                        }
                        state = self
                            .arrived
                            .wait_timeout(state, left)
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                    }
                }
                while state.pending.is_empty() && !state.finished {
                    state.idle = true;
                    state = self.arrived.wait(state).unwrap_or_else(|e| e.into_inner());
                }
                state.idle = false;
                if state.pending.is_empty() {
                    return;
                }
                std::mem::swap(&mut batch, &mut state.pending);
            }
            self.taken.notify_all();
            self.write(&batch);
            batch.clear();
            wrote = true;
        }
    }

    fn append(&self, line: &[u8]) {
        let mut state = self.lock();
        while !state.finished && state.pending.len() >= PENDING_LIMIT {
            state = self.taken.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        if state.finished {
            drop(state);
            self.write(line);
            return;
        }
        let before = state.pending.len();
        state.pending.extend_from_slice(line);
        // Only an idle writer, or a gathering one whose batch has grown large, is woken.
        let wake = state.idle || (before < WAKE_AT && state.pending.len() >= WAKE_AT);
        drop(state);
        if wake {
            self.arrived.notify_one();
        }
    }
}

impl Write for &Console {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.shared.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Console {
    type Writer = &'a Console;

    fn make_writer(&'a self) -> &'a Console {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink that records every write call and can hold the writer thread still.
    #[derive(Clone, Default)]
    struct Sink {
        writes: Arc<Mutex<Vec<Vec<u8>>>>,
        gate: Arc<Mutex<()>>,
    }

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let _held = self.gate.lock().unwrap();
            self.writes.lock().unwrap().push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_arrive_whole_and_in_order_batched_while_the_writer_is_busy() {
        let sink = Sink::default();
        let console = Console::start(sink.clone()).unwrap();
        let gate = sink.gate.lock().unwrap();
        for i in 0..100 {
            (&console)
                .write_all(format!("line {i}\n").as_bytes())
                .unwrap();
        }
        drop(gate);
        console.finish();
        let writes = sink.writes.lock().unwrap();
        let text: String = writes
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        let expected: String = (0..100).map(|i| format!("line {i}\n")).collect();
        assert_eq!(text, expected);
        // The writer was held for the first line: the other 99 waited and went out together.
        assert!(writes.len() <= 3, "{} writes", writes.len());
    }

    #[test]
    fn a_full_buffer_makes_the_logger_wait_rather_than_lose_lines() {
        let sink = Sink::default();
        let console = Console::start(sink.clone()).unwrap();
        let gate = sink.gate.lock().unwrap();
        let line = vec![b'x'; 64 * 1024];
        let logger = {
            let console = console.clone();
            let line = line.clone();
            std::thread::spawn(move || {
                for _ in 0..40 {
                    (&console).write_all(&line).unwrap();
                }
            })
        };
        // 40 lines of 64 KiB are 2.5 MiB, over the limit: the logger cannot finish while the
        // writer is held.
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(!logger.is_finished(), "the buffer grew past its limit");
        drop(gate);
        logger.join().unwrap();
        console.finish();
        let total: usize = sink.writes.lock().unwrap().iter().map(Vec::len).sum();
        assert_eq!(total, 40 * line.len());
    }
}
