//! TEMPORARY stand-in until the engine-core branch lands.
use crate::engine::VectorField;
use crate::error::Result;
#[derive(Default)]
pub struct FixedPointOptions { pub starts: usize, pub seed: u64 }
pub struct FixedPoint;
pub fn find_fixed_points(_f: &dyn VectorField, _p: &[f64], _o: &FixedPointOptions) -> Result<Vec<FixedPoint>> { Ok(vec![]) }
pub fn fixed_points_json(_f: &dyn VectorField, _p: &[FixedPoint]) -> serde_json::Value { serde_json::json!({"fixed_points": []}) }
