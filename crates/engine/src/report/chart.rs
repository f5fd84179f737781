//! The session-age chart's geometry: bars of session files per age range, and a line at each
//! database's lifetime. Computed here in numbers; the HTML template only writes the SVG elements.
//!
//! Age ranges are categories (under 1 hour, 1 hour – 1 day, …), one slot each; a lifetime is
//! placed inside its range on a log scale, so 10 minutes sits left of the middle of "under 1 hour"
//! and 7 days exactly on the boundary between "1 – 7 days" and "7 – 30 days".

use super::model::SessionsView;
use serde::Serialize;

pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 240;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 44.0;

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub width: u32,
    pub height: u32,
    /// The plot area: x, y, width, height.
    pub plot: [f64; 4],
    pub bars: Vec<Bar>,
    pub lines: Vec<LifetimeLine>,
    pub ticks: Vec<Tick>,
    /// One sentence for screen readers and the SVG's title.
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// Centre of the slot, for the labels.
    pub cx: f64,
    pub count: u64,
    pub label: String,
    pub short: String,
    /// `alive`, `straddles` or `past`.
    pub class: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LifetimeLine {
    pub x: f64,
    pub label: String,
    /// Where the label hangs: `start` (right of the line) or `end` (left of it).
    pub anchor: String,
    /// The label's baseline, staggered when there are several lines.
    pub label_y: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tick {
    pub y: f64,
    pub label: String,
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A "nice" axis maximum: 1, 2, 5 × 10^n at or above `max`.
fn nice_max(max: u64) -> u64 {
    if max <= 4 {
        return 4;
    }
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            if step * m >= max {
                return step * m;
            }
        }
        step *= 10;
    }
}

/// Where `secs` falls on the x axis (0.0 = left edge of the first slot, n = right edge of the last).
fn slot_position(v: &SessionsView, secs: u64) -> f64 {
    let n = v.buckets.len();
    for (i, b) in v.buckets.iter().enumerate() {
        let upper = b.to_secs.unwrap_or(u64::MAX);
        if secs <= upper {
            // Log scale inside the range; the first range starts at one minute for the log.
            let lo = (b.from_secs.max(60)) as f64;
            let hi = match b.to_secs {
                Some(t) => t as f64,
                None => lo * 10.0,
            };
            let s = (secs as f64).clamp(lo, hi);
            let f = if hi > lo {
                (s / lo).ln() / (hi / lo).ln()
            } else {
                1.0
            };
            return i as f64 + f.clamp(0.0, 1.0);
        }
    }
    n as f64
}

pub fn chart(v: &SessionsView) -> Chart {
    let n = v.buckets.len().max(1) as f64;
    let plot_w = WIDTH as f64 - LEFT - RIGHT;
    let plot_h = HEIGHT as f64 - TOP - BOTTOM;
    let slot = plot_w / n;
    let max = nice_max(v.buckets.iter().map(|b| b.count).max().unwrap_or(0));
    let scale = |count: u64| plot_h * count as f64 / max as f64;
    let bars = v
        .buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let h = scale(b.count);
            Bar {
                x: round1(LEFT + slot * i as f64 + slot * 0.15),
                y: round1(TOP + plot_h - h),
                w: round1(slot * 0.7),
                h: round1(h),
                cx: round1(LEFT + slot * (i as f64 + 0.5)),
                count: b.count,
                label: b.label.clone(),
                short: b.short.clone(),
                class: b.against_lifetime.clone(),
            }
        })
        .collect();
    // One line per distinct lifetime; databases that share one share its line.
    let mut lines: Vec<LifetimeLine> = Vec::new();
    let mut distinct: Vec<(u64, Vec<&str>, &str)> = Vec::new();
    for t in &v.thresholds {
        match distinct.iter_mut().find(|(s, _, _)| *s == t.secs) {
            Some((_, dbs, _)) => dbs.push(&t.db),
            None => distinct.push((t.secs, vec![&t.db], &t.label)),
        }
    }
    let several = distinct.len() > 1;
    for (k, (secs, dbs, label)) in distinct.iter().enumerate() {
        let x = round1(LEFT + slot * slot_position(v, *secs));
        let text = if several {
            format!("lifetime {label} ({})", dbs.join(", "))
        } else {
            format!("lifetime {label}")
        };
        lines.push(LifetimeLine {
            x,
            label: text,
            anchor: if x > LEFT + plot_w * 0.6 {
                "end".into()
            } else {
                "start".into()
            },
            label_y: round1(TOP - 8.0 - 12.0 * (k % 2) as f64),
        });
    }
    let ticks = [0, max / 2, max]
        .into_iter()
        .map(|c| Tick {
            y: round1(TOP + plot_h - scale(c)),
            label: c.to_string(),
        })
        .collect();
    let lifetimes: Vec<String> = distinct.iter().map(|(_, _, l)| l.to_string()).collect();
    let description = format!(
        "{} by age; lifetime {}; {} older than the shortest lifetime.",
        crate::words::count(v.files as usize, "session file", "session files"),
        lifetimes.join(", "),
        crate::words::count(v.past_lifetime as usize, "file", "files")
    );
    Chart {
        width: WIDTH,
        height: HEIGHT,
        plot: [LEFT, TOP, plot_w, plot_h],
        bars,
        lines,
        ticks,
        description,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{AgeBucket, Threshold};

    fn view(secs: u64) -> SessionsView {
        let bounds = [3600u64, 86_400, 604_800, 2_592_000, 7_776_000];
        let mut buckets = Vec::new();
        let mut from = 0;
        for b in bounds.iter().map(|b| Some(*b)).chain([None]) {
            buckets.push(AgeBucket {
                from_secs: from,
                to_secs: b,
                label: String::new(),
                short: String::new(),
                count: 3,
                against_lifetime: "alive".into(),
            });
            from = b.unwrap_or(0);
        }
        SessionsView {
            path: "/s".into(),
            exists: true,
            files: 18,
            bytes: 0,
            fs_type: None,
            oldest_age_secs: None,
            buckets,
            thresholds: vec![Threshold {
                db: "odoo".into(),
                secs,
                label: "x".into(),
                set_by: String::new(),
            }],
            past_lifetime: 0,
        }
    }

    #[test]
    fn a_lifetime_on_a_range_boundary_sits_on_it() {
        assert_eq!(slot_position(&view(604_800), 604_800), 3.0);
        assert_eq!(slot_position(&view(3600), 3600), 1.0);
    }

    #[test]
    fn a_lifetime_inside_a_range_sits_on_a_log_scale() {
        let p = slot_position(&view(600), 600);
        assert!(p > 0.5 && p < 0.6, "{p}");
    }

    #[test]
    fn the_axis_ends_on_a_round_number() {
        assert_eq!(nice_max(0), 4);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(260), 500);
    }
}
