//! Normal forms shared by the Hopf, cycle and LPC tests.
use repcollapse::symbolic::SymbolicModel;

/// The Bautin (generalised Hopf) normal form
/// `x' = x(p1 + p2 r - r^2) - y`, `y' = y(p1 + p2 r - r^2) + x`, `r = x^2 + y^2`,
/// with `p1 = 0` and the given `p2`: Hopf at `p1 = 0` with `l1 = 2 p2`,
/// cycles of radius^2 `r` on `p1 + p2 r - r^2 = 0` with period exactly
/// `2 pi`, folds of cycles on `p1 = -p2^2/4`, the Bautin point at the origin.
pub fn bautin(p2: f64) -> SymbolicModel {
    let text = format!(
        r#"
name = "bautin"
[parameters]
p1 = 0.0
p2 = {p2:?}
[state]
x = 0.0
y = 0.0
[equations]
x = "x*(p1 + p2*(x^2 + y^2) - (x^2 + y^2)^2) - y"
y = "y*(p1 + p2*(x^2 + y^2) - (x^2 + y^2)^2) + x"
"#
    );
    SymbolicModel::from_toml_str(&text, "test").expect("the Bautin normal form parses")
}
