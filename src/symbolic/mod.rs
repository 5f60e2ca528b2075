//! TEMPORARY stand-in.
pub fn to_toml_string(_n: &str, _p: &[(String, f64)], _s: &[(String, f64)], _e: &[(String, String)], _o: &[(String, String)]) -> String { String::new() }
