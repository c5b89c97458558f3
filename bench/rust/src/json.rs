//! A JSON value and its encoder: just what the Google Benchmark report needs (there is no
//! JSON crate among Debian's packaged ones this program builds against).

use std::fmt::Write;

#[derive(Clone, Debug)]
pub enum Json {
    Str(String),
    Int(i64),
    /// Written with up to 6 significant digits like Google Benchmark's reporter does
    /// (enough for any timing); a non-finite value cannot be written and becomes 0.
    Num(f64),
    Bool(bool),
    Arr(Vec<Json>),
    /// Keys keep their insertion order, as in Google Benchmark's output.
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }

    /// The whole document, indented by two spaces per level.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        match self {
            Json::Str(s) => write_str(out, s),
            Json::Int(i) => {
                let _ = write!(out, "{}", i);
            }
            Json::Num(x) => write_num(out, *x),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Arr(items) => {
                if items.is_empty() {
                    out.push_str("[]");
                    return;
                }
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    indent(out, depth + 1);
                    item.write(out, depth + 1);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                indent(out, depth);
                out.push(']');
            }
            Json::Obj(fields) => {
                if fields.is_empty() {
                    out.push_str("{}");
                    return;
                }
                out.push_str("{\n");
                for (i, (key, value)) in fields.iter().enumerate() {
                    indent(out, depth + 1);
                    write_str(out, key);
                    out.push_str(": ");
                    value.write(out, depth + 1);
                    out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
                }
                indent(out, depth);
                out.push('}');
            }
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

// %g-like with 6 significant digits (Google Benchmark prints doubles with std::setprecision
// defaults): integers stay integers, tiny and huge values use exponent notation.
fn write_num(out: &mut String, x: f64) {
    if !x.is_finite() {
        out.push('0');
        return;
    }
    if x == 0.0 {
        out.push('0');
        return;
    }
    let exp = x.abs().log10().floor() as i32;
    if (-5..15).contains(&exp) {
        let decimals = (5 - exp).max(0) as usize;
        let mut s = format!("{:.*}", decimals, x);
        if s.contains('.') {
            while s.ends_with('0') {
                s.pop();
            }
            if s.ends_with('.') {
                s.pop();
            }
        }
        out.push_str(&s);
    } else {
        let _ = write!(out, "{:.5e}", x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings() {
        let doc = Json::Obj(vec![
            ("a".into(), Json::Num(143.02234)),
            ("b".into(), Json::Num(69919312.7)),
            ("c".into(), Json::Num(0.0129285)),
            ("d".into(), Json::str("x\"y\n")),
            ("e".into(), Json::Num(f64::NAN)),
            ("f".into(), Json::Num(2.5e-9)),
        ]);
        let text = doc.render();
        assert!(text.contains("\"a\": 143.022"), "{}", text);
        assert!(text.contains("\"b\": 69919313"), "{}", text);
        assert!(text.contains("\"c\": 0.0129285"), "{}", text);
        assert!(text.contains("\"d\": \"x\\\"y\\n\""), "{}", text);
        assert!(text.contains("\"e\": 0"), "{}", text);
        assert!(text.contains("\"f\": 2.50000e-9"), "{}", text);
    }
}
