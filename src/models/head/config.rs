//! Configuration of Model H (shared projection head, `docs/head.md`):
//! every Model E key plus the variant, the head rate and the weight decay.
//!
//! The Model E part is validated by [`EmbeddingConfig::from_params`] itself
//! (design, `dim >= K-1`, batch range, time grid), so the two models cannot
//! drift apart in what they accept.
use std::sync::LazyLock;

use serde::Serialize;

use crate::config::{Kind, Overrides, ParamSpec, Params};
use crate::error::{Error, Result};
use crate::models::embedding::config::{self as embedding_config, EmbeddingConfig};

/// The five training variants of `docs/head.md` ("Model").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// Model E: no head (`W = I`, never trained).
    None,
    /// Full gradient flow of `l1 + l2` in x, y and W.
    Head,
    /// `W = I` fixed, stop-gradient on the targets (reduces to Model E).
    SgOnly,
    /// x, W from `l1` with `sg(y)`; y, W from `l2` with `sg(x)`.
    Symmetric,
    /// x, W from `l1` with `sg(y)`; y from `1/2 |y_c - sg(x_i)|^2`.
    Asymmetric,
}

impl Variant {
    pub const NAMES: [&'static str; 5] = ["none", "head", "sg-only", "symmetric", "asymmetric"];
    pub const ALL: [Variant; 5] = [Variant::None, Variant::Head, Variant::SgOnly, Variant::Symmetric, Variant::Asymmetric];

    /// Parses a variant name; the error lists the valid names and suggests
    /// the closest one.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(Variant::None),
            "head" => Ok(Variant::Head),
            "sg-only" => Ok(Variant::SgOnly),
            "symmetric" => Ok(Variant::Symmetric),
            "asymmetric" => Ok(Variant::Asymmetric),
            other => {
                let hint = crate::error::suggest(other, Self::NAMES).map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default();
                Err(Error::invalid("variant", format!("\"{other}\"{hint}"), "one of none | head | sg-only | symmetric | asymmetric"))
            }
        }
    }
    pub fn name(self) -> &'static str {
        Self::NAMES[Self::ALL.iter().position(|v| *v == self).expect("listed")]
    }
    /// Whether W is trained.
    pub fn trains_head(self) -> bool {
        matches!(self, Variant::Head | Variant::Symmetric | Variant::Asymmetric)
    }
    /// `h = 1` for the full gradient (the second loss term pulls x and y
    /// directly), `0` otherwise.
    pub fn full_gradient(self) -> bool {
        self == Variant::Head
    }
}

const HEAD_KEYS: &[ParamSpec] = &[
    ParamSpec { name: "variant", kind: Kind::Choice(&Variant::NAMES), default: "\"symmetric\"", doc: "training variant (docs/head.md)" },
    ParamSpec { name: "eta_w", kind: Kind::RATE, default: "1.0", doc: "head rate" },
    ParamSpec { name: "weight_decay", kind: Kind::NON_NEGATIVE_RATE, default: "0.0", doc: "weight decay lambda on x, y and W (each scaled by its own rate)" },
    ParamSpec { name: "head_init_noise", kind: Kind::NON_NEGATIVE, default: "0.0", doc: "std of W(0) - I per entry, in units of 1/sqrt(d)" },
];

/// Every key a Model H config accepts: the Model E keys (with head-friendly
/// defaults for `dim` and `t_max`) followed by the head keys.
pub static SCHEMA: LazyLock<Vec<ParamSpec>> = LazyLock::new(|| {
    let mut v: Vec<ParamSpec> = embedding_config::SCHEMA
        .iter()
        .map(|s| match s.name {
            "per_class" => ParamSpec { default: "30", ..*s },
            "dim" => ParamSpec { default: "6", ..*s },
            "t_max" => ParamSpec { default: "100.0", ..*s },
            "dt" => ParamSpec { default: "0.02", ..*s },
            _ => *s,
        })
        .collect();
    v.extend_from_slice(HEAD_KEYS);
    v
});

/// A validated Model H configuration.
#[derive(Clone, Debug, Serialize)]
pub struct HeadConfig {
    /// The Model E part (design, dimension, x/y rates, simulation and ODE settings).
    pub base: EmbeddingConfig,
    pub variant: Variant,
    pub eta_w: f64,
    pub weight_decay: f64,
    pub head_init_noise: f64,
    #[serde(skip)]
    pub params: Params,
}

impl HeadConfig {
    /// Builds a config from a checked parameter set.
    pub fn from_params(p: Params) -> Result<Self> {
        let mut table = toml::Table::new();
        for spec in embedding_config::SCHEMA {
            let v = match spec.kind {
                Kind::Int { .. } => toml::Value::Integer(p.int(spec.name)),
                Kind::Real { .. } => toml::Value::Float(p.real(spec.name)),
                Kind::Choice(_) | Kind::Text => toml::Value::String(p.text(spec.name).to_string()),
            };
            table.insert(spec.name.to_string(), v);
        }
        let base = EmbeddingConfig::from_params(Params::from_table(embedding_config::SCHEMA, &table, "head parameters")?)?;
        // Beyond Model E's arrays: per seed in flight, three more `N x d`
        // arrays (head outputs, their gradient, the metric outputs) and four
        // `d x d` head matrices (W, its gradient, two products).
        let n = base.design.classes as f64 * base.design.per_class as f64;
        let d = base.dim as f64;
        let c = base.seeds.min(rayon::current_num_threads()).max(1) as f64;
        let bytes = base.memory_estimate() + c * 8.0 * (3.0 * n * d + 4.0 * d * d);
        let formula = format!("Model E's estimate + seeds in flight x 8 (3 N dim + 4 dim^2) bytes with N = {n}, dim = {}", base.dim);
        crate::limits::check_memory("dim", base.dim, bytes, &formula)?;
        let variant = Variant::parse(p.text("variant"))?;
        if base.loss == crate::models::embedding::sphere::Loss::Cosine {
            // docs/head.md, "Normalised embeddings and the cosine loss".
            if variant == Variant::Head {
                return Err(Error::invalid("variant", "\"head\"", "symmetric | asymmetric | none | sg-only with loss = \"cosine\" (the full-gradient variant is not implemented on the sphere)"));
            }
            if p.real("weight_decay") != 0.0 {
                return Err(Error::invalid("weight_decay", p.real("weight_decay"), "0 with loss = \"cosine\" (the cosine is scale-free in W and x, y are unit vectors)"));
            }
        }
        Ok(HeadConfig {
            base,
            variant,
            eta_w: p.real("eta_w"),
            weight_decay: p.real("weight_decay"),
            head_init_noise: p.real("head_init_noise"),
            params: p,
        })
    }

    /// Config from `--set` pairs over the defaults.
    pub fn from_sets(sets: &[String]) -> Result<Self> {
        Self::from_overrides(&Overrides::from_sets(sets)?)
    }

    /// Config from typed overrides over the defaults.
    pub fn from_overrides(overrides: &Overrides) -> Result<Self> {
        let context = "head parameters";
        Self::from_params(Params::from_table(&SCHEMA, &toml::Table::new(), context)?.with_pairs(&SCHEMA, overrides, context)?)
    }

    /// Config from a TOML table (a study file's `[params]`) plus overrides.
    pub fn from_table(table: &toml::Table, sets: &[String], context: &str) -> Result<Self> {
        let p = Params::from_table(&SCHEMA, table, context)?.with_overrides(&SCHEMA, sets, context)?;
        Self::from_params(p)
    }

    /// The parameter set as JSON, recorded in every result file.
    /// The optimiser keys are left out while they are all at their
    /// defaults (plain GD), so that such files are unchanged.
    pub fn to_json(&self) -> serde_json::Value {
        crate::models::embedding::sphere::strip_default_key(crate::models::embedding::optimizer::strip_default_keys(self.params.to_json(), &self.params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_names_round_trip_and_bad_names_are_rejected() {
        for v in Variant::ALL {
            assert_eq!(Variant::parse(v.name()).unwrap(), v);
        }
        let e = HeadConfig::from_sets(&["variant=symmetrc".into()]).unwrap_err().to_string();
        assert!(e.contains("`variant`") && e.contains("symmetrc") && e.contains("asymmetric"), "{e}");
        let e = HeadConfig::from_sets(&["weight_decay=-1".into()]).unwrap_err().to_string();
        assert!(e.contains("`weight_decay`") && e.contains("[0, 1e100]"), "{e}");
        let e = HeadConfig::from_sets(&["eta_ww=1".into()]).unwrap_err().to_string();
        assert!(e.contains("did you mean `eta_w`"), "{e}");
        let ok = HeadConfig::from_sets(&["variant=asymmetric".into(), "classes=3".into()]).unwrap();
        assert_eq!((ok.variant, ok.base.design.classes), (Variant::Asymmetric, 3));
    }
}
