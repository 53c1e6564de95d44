//! The Prometheus text exposition format, version 0.0.4: what `GET /metrics` answers.
//!
//! Written by hand because the format is small and exactly specified, and the cardinality
//! cap (see the parent module) has to be applied before anything reaches an exporter anyway.
//! Every family has its `# HELP` and `# TYPE` lines, then its samples; label values escape
//! `\`, `"` and newlines; histograms expose cumulative `_bucket` series with an `le` label
//! (ending in `+Inf`, equal to `_count`), `_sum` and `_count`.

/// The `Content-Type` of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What kind of metric a family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (reset by a restart).
    Counter,
    /// A value now.
    Gauge,
    /// Observations counted into cumulative buckets.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// Label names and values of one sample, in output order.
pub type Labels = Vec<(&'static str, String)>;

/// Observations of one histogram series.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramValue {
    /// Upper bounds of the finite buckets, ascending.
    pub bounds: &'static [f64],
    /// Observations per bucket, NOT cumulative: `counts[i]` fell in `(bounds[i-1], bounds[i]]`;
    /// one more entry at the end counts those above the last bound.
    pub counts: Vec<u64>,
    /// Sum of the observed values.
    pub sum: f64,
}

impl HistogramValue {
    /// Every observation.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// The value of one sample.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A counter or gauge value.
    Number(f64),
    /// A whole histogram series.
    Histogram(HistogramValue),
}

/// One labelled series of a family.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Its labels.
    pub labels: Labels,
    /// Its value.
    pub value: Value,
}

/// One metric family: a name, its help text, its kind and its series.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// Metric name (counters end in `_total`).
    pub name: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// Counter, gauge or histogram.
    pub kind: Kind,
    /// Its series.
    pub samples: Vec<Sample>,
}

impl Family {
    /// An empty family.
    pub fn new(name: &'static str, help: &'static str, kind: Kind) -> Self {
        Family {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    /// Adds a counter or gauge sample.
    pub fn push(&mut self, labels: Labels, value: f64) {
        self.samples.push(Sample {
            labels,
            value: Value::Number(value),
        });
    }

    /// Adds a histogram series.
    pub fn push_histogram(&mut self, labels: Labels, value: HistogramValue) {
        self.samples.push(Sample {
            labels,
            value: Value::Histogram(value),
        });
    }
}

/// The text of `families`, in order.
pub fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for family in families {
        render_family(&mut out, family);
    }
    out
}

fn render_family(out: &mut String, family: &Family) {
    out.push_str("# HELP ");
    out.push_str(family.name);
    out.push(' ');
    out.push_str(&escape_help(family.help));
    out.push('\n');
    out.push_str("# TYPE ");
    out.push_str(family.name);
    out.push(' ');
    out.push_str(family.kind.as_str());
    out.push('\n');
    for sample in &family.samples {
        match &sample.value {
            Value::Number(v) => line(out, family.name, "", &sample.labels, None, *v),
            Value::Histogram(h) => {
                let mut cumulative = 0u64;
                for (i, count) in h.counts.iter().enumerate() {
                    cumulative += count;
                    let le = match h.bounds.get(i) {
                        Some(bound) => format_value(*bound),
                        None => "+Inf".to_string(),
                    };
                    let le = Some(le.as_str());
                    line(
                        out,
                        family.name,
                        "_bucket",
                        &sample.labels,
                        le,
                        cumulative as f64,
                    );
                }
                line(out, family.name, "_sum", &sample.labels, None, h.sum);
                line(
                    out,
                    family.name,
                    "_count",
                    &sample.labels,
                    None,
                    h.count() as f64,
                );
            }
        }
    }
}

/// `name{labels[,le="…"]} value`.
fn line(out: &mut String, name: &str, suffix: &str, labels: &Labels, le: Option<&str>, v: f64) {
    out.push_str(name);
    out.push_str(suffix);
    if !labels.is_empty() || le.is_some() {
        out.push('{');
        let mut first = true;
        let extra = le.map(|le| ("le", le.to_string()));
        for (label, value) in labels.iter().chain(extra.iter()) {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(label);
            out.push_str("=\"");
            out.push_str(&escape_label_value(value));
            out.push('"');
        }
        out.push('}');
    }
    out.push(' ');
    out.push_str(&format_value(v));
    out.push('\n');
}

/// A label value as the format wants it: `\` → `\\`, `"` → `\"`, newline → `\n`.
pub fn escape_label_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Help text as the format wants it: `\` → `\\`, newline → `\n` (quotes stay).
fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Whole numbers without a fraction (exactly, up to 2^53), others in Rust's shortest
/// round-trip form, and Prometheus's spellings of the infinities and NaN.
pub fn format_value(v: f64) -> String {
    /// Largest magnitude below which every whole f64 is exact and prints as an integer.
    const EXACT_INTEGER_MAX: f64 = 9_007_199_254_740_992.0;
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else if v.fract() == 0.0 && v.abs() < EXACT_INTEGER_MAX {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Whether `name` is a valid metric or label name (`[a-zA-Z_:][a-zA-Z0-9_:]*`; label names
/// may not use `:` but ours never do).
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_and_gauge_lines() {
        let mut c = Family::new("x_total", "Things done.", Kind::Counter);
        c.push(
            vec![("function", "f".into()), ("version", "$LATEST".into())],
            3.0,
        );
        let mut g = Family::new("y", "A level.", Kind::Gauge);
        g.push(Vec::new(), 0.25);
        assert_eq!(
            render(&[c, g]),
            "# HELP x_total Things done.\n\
             # TYPE x_total counter\n\
             x_total{function=\"f\",version=\"$LATEST\"} 3\n\
             # HELP y A level.\n\
             # TYPE y gauge\n\
             y 0.25\n"
        );
    }

    #[test]
    fn an_empty_family_still_has_its_help_and_type() {
        let f = Family::new("z_total", "None yet.", Kind::Counter);
        assert_eq!(
            render(&[f]),
            "# HELP z_total None yet.\n# TYPE z_total counter\n"
        );
    }

    #[test]
    fn label_values_and_help_are_escaped() {
        let mut f = Family::new("q", "Back\\slash\nnew line \"quoted\".", Kind::Gauge);
        f.push(vec![("queue", "a\\b\"c\nd".into())], 1.0);
        assert_eq!(
            render(&[f]),
            "# HELP q Back\\\\slash\\nnew line \"quoted\".\n\
             # TYPE q gauge\n\
             q{queue=\"a\\\\b\\\"c\\nd\"} 1\n"
        );
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_at_inf() {
        const BOUNDS: &[f64] = &[1.0, 2.5, 10.0];
        let mut f = Family::new("d_ms", "Durations.", Kind::Histogram);
        f.push_histogram(
            vec![("function", "f".into())],
            HistogramValue {
                bounds: BOUNDS,
                counts: vec![1, 0, 2, 1],
                sum: 31.5,
            },
        );
        assert_eq!(
            render(&[f]),
            "# HELP d_ms Durations.\n\
             # TYPE d_ms histogram\n\
             d_ms_bucket{function=\"f\",le=\"1\"} 1\n\
             d_ms_bucket{function=\"f\",le=\"2.5\"} 1\n\
             d_ms_bucket{function=\"f\",le=\"10\"} 3\n\
             d_ms_bucket{function=\"f\",le=\"+Inf\"} 4\n\
             d_ms_sum{function=\"f\"} 31.5\n\
             d_ms_count{function=\"f\"} 4\n"
        );
    }

    #[test]
    fn values_are_formatted_as_prometheus_reads_them() {
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(-3.0), "-3");
        assert_eq!(format_value(1e15), "1000000000000000");
        assert_eq!(format_value(0.1), "0.1");
        assert_eq!(format_value(12.345), "12.345");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(f64::NAN), "NaN");
        // Beyond 2^53 the shortest round-trip form is used.
        assert_eq!(format_value(1e20).parse::<f64>().ok(), Some(1e20));
    }

    #[test]
    fn names_are_checked() {
        assert!(is_valid_name("lambda_invocations_total"));
        assert!(is_valid_name("_x:y"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("1x"));
        assert!(!is_valid_name("a-b"));
    }
}
