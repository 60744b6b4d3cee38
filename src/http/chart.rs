//! Server-rendered SVG line charts of the last 24 hours.
//!
//! No script and nothing loaded from elsewhere: each chart is an inline
//! `<svg>` with one `<path>` whose points are the minute samples, placed on
//! a 24-hour time axis that ends now, plus the value a sample taken now
//! would have, so the line always reaches the right edge, where a dot marks
//! the latest value (until a few minutes are sampled, that dot is all there
//! is to see).

use crate::metrics::history::Sample;
use std::fmt::Write as _;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 140.0;
const DAY_SECS: f64 = 86_400.0;

/// Which series of the samples a chart draws.
#[derive(Clone, Copy, Debug)]
pub enum Series {
    Searching,
    Chats,
    Messages,
}

impl Series {
    fn of(self, sample: &Sample) -> u64 {
        match self {
            Series::Searching => sample.searching,
            Series::Chats => sample.chats,
            Series::Messages => sample.messages,
        }
    }

    fn id(self) -> &'static str {
        match self {
            Series::Searching => "chart-searching",
            Series::Chats => "chart-chats",
            Series::Messages => "chart-messages",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Series::Searching => "Users searching",
            Series::Chats => "Active chats",
            Series::Messages => "Messages relayed per minute",
        }
    }
}

/// One chart as an inline SVG element.
pub fn render(series: Series, samples: &[Sample], live: &Sample) -> String {
    let points: Vec<(u64, u64)> = samples
        .iter()
        .chain(std::iter::once(live))
        .map(|s| (s.at, series.of(s)))
        .collect();
    let peak = points.iter().map(|(_, v)| *v).max().unwrap_or(0);
    let max = peak.max(1);
    let start = live.at as f64 - DAY_SECS;
    let place = |at: u64, value: u64| {
        let x = ((at as f64 - start) / DAY_SECS * WIDTH).clamp(0.0, WIDTH);
        let y = HEIGHT - (value as f64 / max as f64) * (HEIGHT - 10.0);
        (x, y)
    };
    let mut path = String::new();
    for (index, (at, value)) in points.iter().enumerate() {
        let (x, y) = place(*at, *value);
        let verb = if index == 0 { 'M' } else { 'L' };
        let _ = write!(path, "{verb}{x:.1},{y:.1} ");
    }
    // The latest value as a dot, visible even before there is a line.
    let (now_x, now_y) = place(live.at, series.of(live));
    let (id, title) = (series.id(), series.title());
    format!(
        r##"<figure class="chart"><figcaption>{title} <span class="now">now: {now}, peak: {peak}</span></figcaption>
<svg id="{id}" role="img" aria-label="{title}, last 24 hours" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" data-points="{count}">
<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fafafa" stroke="#ddd"/>
<path class="series" d="{path}" fill="none" stroke="#2a6fdb" stroke-width="2"/>
<circle class="latest" cx="{dot_x:.1}" cy="{dot_y:.1}" r="4" fill="#2a6fdb"/>
<text x="4" y="12" font-size="10" fill="#888">{max}</text><text x="4" y="{label_y}" font-size="10" fill="#888">−24 h</text><text x="{now_label_x}" y="{label_y}" font-size="10" fill="#888">now</text>
</svg></figure>"##,
        now = series.of(live),
        count = points.len(),
        path = path.trim_end(),
        label_y = HEIGHT - 3.0,
        now_label_x = WIDTH - 24.0,
        dot_x = now_x.min(WIDTH - 4.0),
        dot_y = now_y.min(HEIGHT - 4.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: u64, chats: u64) -> Sample {
        Sample {
            at,
            chats,
            ..Sample::default()
        }
    }

    #[test]
    fn points_span_the_day_ending_now() {
        let now = 1_000_000;
        let samples = [sample(now - 86_400, 4), sample(now - 43_200, 4)];
        let svg = render(Series::Chats, &samples, &sample(now, 1));
        assert!(
            svg.contains(r#"d="M0.0,10.0 L360.0,10.0 L720.0,107.5""#),
            "{svg}"
        );
        assert!(svg.contains(r#"data-points="3""#));
        assert!(svg.contains("peak: 4"));
        let empty = render(Series::Messages, &[], &sample(now, 0));
        assert!(empty.contains(r#"d="M720.0,140.0""#), "{empty}");
    }
}
