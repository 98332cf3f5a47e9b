//! Where the time of a command goes, step by step: `up --verbose` prints it, `up --json` puts
//! it in the summary.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The steps a command took and how long each one lasted, in order (shared by clones).
#[derive(Debug, Clone, Default)]
pub struct Steps(Arc<Mutex<Vec<(String, Duration)>>>);

impl Steps {
    /// Records that `step` took `took` (a step recorded twice adds up, in its first place).
    pub fn record(&self, step: &str, took: Duration) {
        let mut steps = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match steps.iter_mut().find(|(name, _)| name == step) {
            Some((_, total)) => *total += took,
            None => steps.push((step.to_owned(), took)),
        }
    }

    /// Runs `work`, recording its time as `step`.
    pub fn time<T>(&self, step: &str, work: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let result = work();
        self.record(step, started.elapsed());
        result
    }

    /// Awaits `work`, recording its time as `step`.
    pub async fn time_async<T>(&self, step: &str, work: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let result = work.await;
        self.record(step, started.elapsed());
        result
    }

    /// The steps so far.
    pub fn list(&self) -> Vec<(String, Duration)> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The steps as aligned lines, in milliseconds, with what no step accounts for and the
    /// total.
    pub fn render(&self, total: Duration) -> String {
        let steps = self.list();
        let accounted: Duration = steps.iter().map(|(_, d)| *d).sum();
        let other = total.saturating_sub(accounted);
        let rows: Vec<(String, Duration)> = steps
            .into_iter()
            .chain([("other".to_owned(), other), ("total".to_owned(), total)])
            .collect();
        let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
        let mut out = String::from("time:\n");
        for (name, took) in rows {
            out.push_str(&format!("  {name:<width$}  {:>7.1} ms\n", ms(took)));
        }
        out
    }

    /// The steps as a JSON object of milliseconds, in order.
    pub fn json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.list()
                .into_iter()
                .map(|(name, took)| (name, ms(took).into()))
                .collect(),
        )
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_add_up_in_order_and_the_rest_is_other() {
        let steps = Steps::default();
        steps.record("build", Duration::from_millis(300));
        steps.record("compare", Duration::from_millis(50));
        steps.clone().record("build", Duration::from_millis(20));
        assert_eq!(
            steps.render(Duration::from_millis(400)),
            "time:\n  build      320.0 ms\n  compare     50.0 ms\n  other       30.0 ms\n  total      400.0 ms\n"
        );
        assert_eq!(
            steps.json().to_string(),
            r#"{"build":320.0,"compare":50.0}"#
        );
        let value = steps.time("connect", || 7);
        assert_eq!(value, 7);
        assert_eq!(steps.list().last().unwrap().0, "connect");
    }
}
