//! What the operator sees while AWS works: progress bars and one live row per resource on a
//! terminal, plain lines otherwise (CI logs), and the confirmation a protected stage needs.
//! With `--json` the same progress also goes out as one JSON object per line on standard output
//! (the human lines stay on standard error, unchanged).

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::error::AwsError;
use super::report::Event;

/// Where progress goes: live bars on a terminal, lines on standard error otherwise.
#[derive(Debug, Clone)]
pub struct Ui {
    bars: Option<MultiProgress>,
    lines: Lines,
    json: Option<JsonEvents>,
    steps: crate::timing::Steps,
}

/// Where `--json` events go: standard output, one object per line, or memory for tests.
#[derive(Debug, Clone)]
struct JsonEvents(Option<Arc<Mutex<Vec<String>>>>);

impl JsonEvents {
    fn emit(&self, line: String) {
        match &self.0 {
            Some(memory) => memory
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(line),
            None => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
        }
    }
}

/// Where plain lines go: standard error, or memory (tests read what an operator would see).
#[derive(Debug, Clone, Default)]
struct Lines(Option<Arc<Mutex<Vec<String>>>>);

impl Lines {
    fn emit(&self, text: &str) {
        match &self.0 {
            Some(memory) => memory
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(text.to_owned()),
            None => eprintln!("{text}"),
        }
    }
}

impl Ui {
    /// Live bars when standard error is a terminal.
    pub fn detect() -> Ui {
        if std::io::stderr().is_terminal() {
            Ui {
                bars: Some(MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
                lines: Lines::default(),
                json: None,
                steps: Default::default(),
            }
        } else {
            Ui::plain()
        }
    }

    /// Plain lines only.
    pub fn plain() -> Ui {
        Ui {
            bars: None,
            lines: Lines::default(),
            json: None,
            steps: Default::default(),
        }
    }

    /// `--json`: plain lines on standard error, and every event as one JSON object per line on
    /// standard output.
    pub fn json() -> Ui {
        Ui {
            json: Some(JsonEvents(None)),
            ..Ui::plain()
        }
    }

    /// Where this command's time goes (shared by clones of this `Ui`).
    pub fn steps(&self) -> &crate::timing::Steps {
        &self.steps
    }

    /// Whether events go out as JSON.
    pub fn is_json(&self) -> bool {
        self.json.is_some()
    }

    /// Emits one JSON event, `{"event": kind, ...fields}`, when `--json` is on.
    pub fn event(&self, kind: &str, fields: serde_json::Value) {
        let Some(json) = &self.json else {
            return;
        };
        json.emit(event_line(kind, fields));
    }

    /// Plain lines kept in memory instead of printed, for tests.
    pub fn recording() -> (Ui, Arc<Mutex<Vec<String>>>) {
        let memory = Arc::new(Mutex::new(Vec::new()));
        let ui = Ui {
            bars: None,
            lines: Lines(Some(memory.clone())),
            json: None,
            steps: Default::default(),
        };
        (ui, memory)
    }

    /// Prints a line above any live bars.
    pub fn line(&self, text: &str) {
        match &self.bars {
            Some(bars) => {
                let _ = bars.println(text);
            }
            None => self.lines.emit(text),
        }
    }

    /// A byte progress bar for an upload of `total` bytes (a start and an end line without a
    /// terminal).
    pub fn upload(&self, name: &str, total: u64) -> Transfer {
        match &self.bars {
            Some(bars) => {
                let bar = bars.add(ProgressBar::new(total));
                bar.set_style(
                    ProgressStyle::with_template(
                        "{msg:<40} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_message(name.to_owned());
                Transfer {
                    bar: Some(bar),
                    name: name.to_owned(),
                    total,
                    lines: self.lines.clone(),
                }
            }
            None => {
                self.lines
                    .emit(&format!("uploading {name} ({total} bytes)"));
                Transfer {
                    bar: None,
                    name: name.to_owned(),
                    total,
                    lines: self.lines.clone(),
                }
            }
        }
    }

    /// The live view of a stack operation's events.
    pub fn events(&self) -> EventRows {
        EventRows {
            bars: self.bars.clone(),
            rows: HashMap::new(),
            lines: self.lines.clone(),
            json: self.json.clone(),
        }
    }

    /// [`Ui::confirm`] on a blocking thread, so that the runtime still notices Ctrl-C while the
    /// question waits for an answer.
    pub async fn ask(&self, stage: &str, question: &str) -> Result<(), AwsError> {
        let (ui, stage, question) = (self.clone(), stage.to_owned(), question.to_owned());
        match tokio::task::spawn_blocking(move || ui.confirm(&stage, &question)).await {
            Ok(answer) => answer,
            Err(_) => Err(AwsError::NotConfirmed {
                stage: String::new(),
                why: "the question was abandoned".into(),
            }),
        }
    }

    /// Asks "yes/no" on the terminal; refuses without asking when there is none.
    pub fn confirm(&self, stage: &str, question: &str) -> Result<(), AwsError> {
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return Err(AwsError::NotConfirmed {
                stage: stage.to_owned(),
                why: format!("{question}: there is no terminal to ask on, pass `--yes`"),
            });
        }
        eprint!("{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            Ok(())
        } else {
            Err(AwsError::NotConfirmed {
                stage: stage.to_owned(),
                why: format!("{question}: the answer was no"),
            })
        }
    }
}

/// One upload's progress.
#[derive(Debug)]
pub struct Transfer {
    bar: Option<ProgressBar>,
    name: String,
    total: u64,
    lines: Lines,
}

impl Transfer {
    /// `bytes` more have been sent.
    pub fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    /// The upload is complete.
    pub fn finish(self) {
        match self.bar {
            Some(bar) => bar.finish(),
            None => self
                .lines
                .emit(&format!("uploaded {} ({} bytes)", self.name, self.total)),
        }
    }
}

/// One row per resource, updated in place with its latest status (or one line per event).
#[derive(Debug)]
pub struct EventRows {
    bars: Option<MultiProgress>,
    rows: HashMap<String, ProgressBar>,
    lines: Lines,
    json: Option<JsonEvents>,
}

impl EventRows {
    /// Shows an event: updates its resource's row, or prints its line.
    pub fn show(&mut self, event: &Event) {
        if let Some(json) = &self.json {
            json.emit(event_line(
                "resource",
                serde_json::json!({
                    "time": event.timestamp,
                    "logical_id": event.logical_id,
                    "resource_type": event.resource_type,
                    "status": event.status,
                    "reason": event.reason,
                }),
            ));
        }
        let Some(bars) = &self.bars else {
            self.lines.emit(&event.line());
            return;
        };
        let row = self
            .rows
            .entry(event.logical_id.clone())
            .or_insert_with(|| {
                let bar = bars.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix:<36} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(event.logical_id.clone());
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
                bar
            });
        let mut message = format!("{} {}", event.resource_type, event.status);
        if let Some(reason) = &event.reason {
            message.push_str(": ");
            message.push_str(reason);
        }
        row.set_message(message);
        if super::plan::is_settled(&event.status) {
            row.finish();
        }
    }

    /// Stops every row (the operation ended, or we stopped watching).
    pub fn finish(&mut self) {
        for row in self.rows.values() {
            if !row.is_finished() {
                row.abandon();
            }
        }
    }
}

/// One JSON event line: `{"event": kind}` followed by `fields` (an object; anything else goes
/// under `"value"`).
pub fn event_line(kind: &str, fields: serde_json::Value) -> String {
    let mut object = serde_json::Map::new();
    object.insert("event".into(), kind.into());
    match fields {
        serde_json::Value::Object(map) => object.extend(map),
        serde_json::Value::Null => {}
        other => {
            object.insert("value".into(), other);
        }
    }
    serde_json::Value::Object(object).to_string()
}
