//! Times the phases of validating a JSON array: splitting, parsing, checking.
//! `cargo run --release -p satya-adapt-core --example phases`
use std::time::Instant;

use satya_adapt_core::{is_valid, parse_value, ArrayElements, Schema, MAX_DEPTH};

fn main() {
    let n = 200_000;
    let items: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"name": "name{i}", "age": {}, "score": {}}}"#,
                i % 90,
                i as f64 * 0.5
            )
        })
        .collect();
    let input = format!("[{}]", items.join(", ")).into_bytes();
    let schema = Schema::from_json_text(r#"{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"score":{"type":"number"}},"required":["name","age","score"]}"#).unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let spans: Vec<_> = ArrayElements::new(&input).map(|r| r.unwrap()).collect();
        let split = t.elapsed();
        let t = Instant::now();
        let docs: Vec<_> = spans
            .iter()
            .map(|r| parse_value(&input[r.clone()], MAX_DEPTH).unwrap())
            .collect();
        let parse = t.elapsed();
        let t = Instant::now();
        let ok = docs.iter().filter(|d| is_valid(&schema, d)).count();
        let checking = t.elapsed();
        let per = |d: std::time::Duration| d.as_nanos() as f64 / n as f64;
        println!(
            "split {:.0} ns/rec, parse {:.0} ns/rec, check {:.0} ns/rec ({ok} valid), {} bytes/rec",
            per(split),
            per(parse),
            per(checking),
            input.len() / n
        );
    }
}
