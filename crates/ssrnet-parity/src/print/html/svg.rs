//! Charts as inline SVG, written directly: an axis pair (linear or log10), lines, bars, points and
//! reference lines, each mark with an optional `<title>` that a browser shows on hover. Written
//! by hand rather than through plotters because each mark needs its own escaped `<title>` (the
//! node, op, value and module under the pointer), which plotters' SVG backend does not write.

use std::fmt::Write;

use super::escape;

/// How values map along an axis.
#[derive(Debug, Clone, Copy)]
pub enum Scale {
    /// `lo..=hi` evenly.
    Linear { lo: f64, hi: f64 },
    /// `lo..=hi` (both > 0) by decades; values at or below 0 sit on the lower edge.
    Log { lo: f64, hi: f64 },
}

impl Scale {
    /// A linear scale from 0 to `top` or a little past it, ending on a round step (1, 2 or 5
    /// times a power of ten, about a quarter of the span) so the ticks read as round numbers.
    pub fn linear_to(top: f64) -> Scale {
        let step = nice_step(top.max(f64::MIN_POSITIVE) / 4.0);
        Scale::Linear { lo: 0.0, hi: (top / step).ceil().max(1.0) * step }
    }

    /// A log scale spanning `values` (positive, finite ones), widened to whole decades, with at
    /// least one decade and at least `floor` at the bottom.
    pub fn log_of(values: impl Iterator<Item = f64>, floor: f64) -> Scale {
        let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
        for v in values.filter(|v| v.is_finite() && *v > 0.0) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !lo.is_finite() {
            (lo, hi) = (floor, floor * 10.0);
        }
        let lo = 10f64.powf(lo.max(floor).log10().floor());
        let hi = 10f64.powf(hi.max(lo * 10.0).log10().ceil());
        Scale::Log { lo, hi }
    }

    /// The lower end.
    pub fn lo(self) -> f64 {
        match self {
            Scale::Linear { lo, .. } | Scale::Log { lo, .. } => lo,
        }
    }

    /// Where `v` falls, from 0 (lo) to 1 (hi), clamped.
    fn unit(self, v: f64) -> f64 {
        let t = match self {
            Scale::Linear { lo, hi } => (v - lo) / (hi - lo).max(f64::MIN_POSITIVE),
            Scale::Log { lo, hi } if v > 0.0 => (v / lo).log10() / (hi / lo).log10(),
            Scale::Log { .. } => 0.0,
        };
        if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) }
    }

    /// Tick values and their labels: every decade on a log scale (every other past 8), five
    /// steps on a linear one.
    fn ticks(self) -> Vec<(f64, String)> {
        match self {
            Scale::Log { lo, hi } => {
                let (a, b) = (lo.log10().round() as i32, hi.log10().round() as i32);
                let step = if b - a > 8 { 2 } else { 1 };
                (a..=b).step_by(step).map(|e| (10f64.powi(e), format!("1e{e}"))).collect()
            }
            Scale::Linear { lo, hi } => {
                let step = nice_step((hi - lo) / 4.0);
                let first = (lo / step).ceil() as i64;
                (first..)
                    .map(|k| k as f64 * step)
                    .take_while(|v| *v <= hi + step * 1e-9)
                    .map(|v| (v, short(v)))
                    .collect()
            }
        }
    }
}

/// The round step (1, 2 or 5 times a power of ten) at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw * (1.0 - 1e-12))
        .unwrap_or(10.0 * power)
}

/// A number short enough for an axis label.
fn short(v: f64) -> String {
    if v == 0.0 || (1e-2..1e4).contains(&v.abs()) {
        format!("{}", (v * 100.0).round() / 100.0)
    } else {
        format!("{v:.1e}")
    }
}

/// One chart being drawn: its plot area, axes and marks.
pub struct Chart {
    width: f64,
    height: f64,
    x: Scale,
    y: Scale,
    marks: String,
    label: String,
}

/// Space around the plot area for ticks and labels: left, right, top, bottom.
const MARGIN: (f64, f64, f64, f64) = (58.0, 12.0, 12.0, 36.0);

impl Chart {
    /// A `width` x `height` chart of `x` against `y`; `label` names it for screen readers.
    pub fn new(width: f64, height: f64, x: Scale, y: Scale, label: &str) -> Chart {
        Chart { width, height, x, y, marks: String::new(), label: label.to_string() }
    }

    /// The pixel column of `x`.
    pub fn px(&self, x: f64) -> f64 {
        MARGIN.0 + self.x.unit(x) * (self.width - MARGIN.0 - MARGIN.1)
    }

    /// The pixel row of `y`.
    pub fn py(&self, y: f64) -> f64 {
        self.height - MARGIN.3 - self.y.unit(y) * (self.height - MARGIN.2 - MARGIN.3)
    }

    /// A line through `points` (x, y) in order.
    pub fn line(&mut self, points: impl Iterator<Item = (f64, f64)>, class: &str) {
        let mut path = String::new();
        for (i, (x, y)) in points.enumerate() {
            let _ = write!(
                path,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { "L" },
                self.px(x),
                self.py(y)
            );
        }
        if !path.is_empty() {
            let _ = writeln!(self.marks, "<path class=\"{class}\" d=\"{path}\"/>");
        }
    }

    /// A bar over `x0..x1` from the bottom up to `y`, with a hover `title`.
    pub fn bar(&mut self, x0: f64, x1: f64, y: f64, class: &str, title: &str) {
        let (left, right, top, bottom) = (self.px(x0), self.px(x1), self.py(y), self.py_bottom());
        let _ = writeln!(
            self.marks,
            "<rect class=\"{class}\" x=\"{left:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{}</title></rect>",
            (right - left - 1.0).max(1.0),
            (bottom - top).max(0.0),
            escape(title)
        );
    }

    /// A point at (x, y) of radius `r`, with a hover `title`.
    pub fn point(&mut self, x: f64, y: f64, r: f64, class: &str, title: &str) {
        let _ = writeln!(
            self.marks,
            "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r}\"><title>{}</title></circle>",
            self.px(x),
            self.py(y),
            escape(title)
        );
    }

    /// A full-height band over `x0..x1`, transparent until hovered, with a hover `title`: how a
    /// line chart names what lies under the pointer.
    pub fn band(&mut self, x0: f64, x1: f64, title: &str) {
        let (left, right) = (self.px(x0), self.px(x1));
        let _ = writeln!(
            self.marks,
            "<rect class=\"hit\" x=\"{left:.1}\" y=\"{}\" width=\"{:.1}\" height=\"{}\"><title>{}</title></rect>",
            MARGIN.2,
            (right - left).max(0.5),
            self.height - MARGIN.2 - MARGIN.3,
            escape(title)
        );
    }

    /// A horizontal reference line at `y`, labelled.
    pub fn hline(&mut self, y: f64, class: &str, label: &str) {
        let (x0, x1, py) = (MARGIN.0, self.width - MARGIN.1, self.py(y));
        let _ = writeln!(
            self.marks,
            "<line class=\"{class}\" x1=\"{x0}\" y1=\"{py:.1}\" x2=\"{x1}\" y2=\"{py:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            x1 - 2.0,
            py - 3.0,
            escape(label)
        );
    }

    /// A vertical reference line at `x`, labelled.
    pub fn vline(&mut self, x: f64, class: &str, label: &str) {
        let (px, top, bottom) = (self.px(x), MARGIN.2, self.py_bottom());
        let _ = writeln!(
            self.marks,
            "<line class=\"{class}\" x1=\"{px:.1}\" y1=\"{top}\" x2=\"{px:.1}\" y2=\"{bottom:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            px + 3.0,
            top + 10.0,
            escape(label)
        );
    }

    fn py_bottom(&self) -> f64 {
        self.height - MARGIN.3
    }

    /// The chart as an `<svg>` element, its axes labelled `x_label` and `y_label`.
    pub fn finish(self, x_label: &str, y_label: &str) -> String {
        let (w, h) = (self.width, self.height);
        let (left, right, top, bottom) = (MARGIN.0, w - MARGIN.1, MARGIN.2, h - MARGIN.3);
        let mut out = String::with_capacity(self.marks.len() + 2048);
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
            escape(&self.label)
        );
        for (v, text) in self.y.ticks() {
            let y = self.py(v);
            let _ = writeln!(
                out,
                "<line class=\"grid\" x1=\"{left}\" y1=\"{y:.1}\" x2=\"{right}\" y2=\"{y:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{text}</text>",
                left - 4.0,
                y + 4.0
            );
        }
        for (v, text) in self.x.ticks() {
            let x = self.px(v);
            let _ = writeln!(
                out,
                "<line class=\"axis\" x1=\"{x:.1}\" y1=\"{bottom}\" x2=\"{x:.1}\" y2=\"{:.1}\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{text}</text>",
                bottom + 4.0,
                bottom + 15.0
            );
        }
        out.push_str(&self.marks);
        let _ = writeln!(
            out,
            "<line class=\"axis\" x1=\"{left}\" y1=\"{bottom}\" x2=\"{right}\" y2=\"{bottom}\"/><line class=\"axis\" x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{bottom}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text><text transform=\"rotate(-90)\" x=\"{:.1}\" y=\"12\" text-anchor=\"middle\">{}</text>\n</svg>",
            (left + right) / 2.0,
            h - 4.0,
            escape(x_label),
            -(top + bottom) / 2.0,
            escape(y_label)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_scale_spans_whole_decades_and_places_values_by_their_logs() {
        let Scale::Log { lo, hi } =
            Scale::log_of([3e-7, 2e-3, 0.0, f64::INFINITY].into_iter(), 1e-12)
        else {
            panic!("a log scale")
        };
        assert_eq!((lo, hi), (1e-7, 1e-2));
        let s = Scale::Log { lo, hi };
        assert!((s.unit(1e-4) - 0.6).abs() < 1e-12);
        assert_eq!((s.unit(0.0), s.unit(1.0)), (0.0, 1.0));
    }

    #[test]
    fn a_linear_scale_ends_on_a_round_step() {
        let s = Scale::linear_to(12.1);
        assert!(matches!(s, Scale::Linear { lo: 0.0, hi: 15.0 }), "{s:?}");
        let ticks: Vec<String> = s.ticks().into_iter().map(|(_, t)| t).collect();
        assert_eq!(ticks, ["0", "5", "10", "15"]);
        let ticks: Vec<String> =
            Scale::linear_to(134.0).ticks().into_iter().map(|(_, t)| t).collect();
        assert_eq!(ticks, ["0", "50", "100", "150"]);
    }

    #[test]
    fn titles_are_escaped_and_the_svg_is_one_element() {
        let mut c = Chart::new(
            200.0,
            100.0,
            Scale::Linear { lo: 0.0, hi: 1.0 },
            Scale::Linear { lo: 0.0, hi: 1.0 },
            "t<",
        );
        c.point(0.5, 0.5, 2.0, "culprit", "<script>alert(1)</script>");
        let svg = c.finish("x", "y");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script"), "{svg}");
    }
}
