//! Load time of a model file (parse, differentiate, simplify, compile) at
//! growing nesting depth (issue 15, part 1): with hash-consed expressions the
//! cost grows linearly with depth. `tests/symbolic/depth.rs` asserts the
//! linear growth on the deterministic sizes (DAG nodes, tape instructions);
//! this measures the wall time: `cargo bench --bench symbolic_depth`.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use repcollapse::symbolic::parser::MAX_DEPTH;
use repcollapse::symbolic::SymbolicModel;

/// One state `x`, one parameter `mu`, right-hand side `expr`.
fn model_text(expr: &str) -> String {
    format!("name = \"deep\"\n[parameters]\nmu = 0.7\n[state]\nx = 0.3\n[equations]\nx = \"{expr}\"\n")
}

fn load_at_depth(c: &mut Criterion) {
    let mut g = c.benchmark_group("model file load");
    // `max(max(...(x, mu)...), mu) - x` is the shape reported in the issue
    // (23 s and 1 GB at depth 20 with tree expressions); `exp` nests a
    // one-argument function whose derivative repeats its argument.
    let constructs: [(&str, fn(usize) -> String); 2] = [
        ("max", |d| format!("{}x{} - x", "max(".repeat(d), ", mu)".repeat(d))),
        ("exp", |d| format!("{}x*mu{}", "exp(".repeat(d), ")".repeat(d))),
    ];
    for (label, build) in constructs {
        for depth in [10, 100, MAX_DEPTH] {
            let text = model_text(&build(depth));
            g.bench_with_input(BenchmarkId::new(label, depth), &text, |b, text| {
                b.iter(|| SymbolicModel::from_toml_str(text, "deep.toml").expect("model loads"))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, load_at_depth);
criterion_main!(benches);
