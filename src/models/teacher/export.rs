//! Model T's model file: the online sub-model's order-parameter ODE
//! ([`TeacherOde`], `docs/teacher.md` section 2) as model-file text, for
//! `repcollapse export teacher-student` (small `d`, `K`).
use crate::config::Overrides;
use crate::engine::VectorField;
use crate::error::{Error, Result};
use crate::models::teacher::config::{TeacherConfig, TeacherKind};
use crate::models::teacher::online::reduced::{TeacherOde, PARAM_NAMES};
use crate::models::teacher::online::theory::TeacherTheory;

/// Model-file text of the ODE (small `d`, `K`).
pub fn export(overrides: &Overrides) -> Result<String> {
    let cfg = TeacherConfig::from_overrides(overrides)?;
    let th = TeacherTheory::from_config(&cfg)?;
    let m = model_file_strings(&th.ode)?;
    let obs: Vec<(String, String)> = Vec::new();
    Ok(crate::symbolic::to_toml_string(&m.name, &m.params, &m.states, &m.equations, &obs))
}

/// The ODE as strings for a symbolic model file: parameter names with
/// values, state names with initial values, and one right-hand side per
/// state (in the crate's expression syntax: `+ - * / ^`, names, numbers).
#[derive(Clone, Debug, serde::Serialize)]
pub struct ModelFileStrings {
    pub name: String,
    pub params: Vec<(String, f64)>,
    pub states: Vec<(String, f64)>,
    pub equations: Vec<(String, String)>,
}

/// Model-file strings for small `d`, `K` (at most 200 states).
pub fn model_file_strings(ode: &TeacherOde) -> Result<ModelFileStrings> {
    let (d, k) = (ode.dim, ode.classes);
    if ode.dim() > 200 {
        return Err(Error::invalid("dim/classes", format!("{} states", ode.dim()), "at most 200 states for a model file"));
    }
    let kf = k as f64;
    let (c0, md, mo) = match ode.teacher.kind {
        TeacherKind::Mixture => (
            format!("(a^2/{kf} + sigma^2)"),
            format!("(a/{kf}*(1 - f))"),
            format!("(a/{kf}*f/{})", kf - 1.0),
        ),
        TeacherKind::Argmax => {
            let mu1 = ode.teacher.mu1;
            let mu2 = -mu1 / (kf - 1.0);
            // (mu1 I + mu2 E)((1-f) I + f/(K-1) E), E^2 = (K-1) I + (K-2) E.
            (
                "1".to_string(),
                format!("({mu1:e}*(1 - f) + {}*{mu2:e}*f/{})", kf - 1.0, kf - 1.0),
                format!("({mu1:e}*f/{} + {mu2:e}*(1 - f) + {}*{mu2:e}*f/{})", kf - 1.0, kf - 2.0, kf - 1.0),
            )
        }
    };
    let p = 1.0 / kf;
    let names = ode.state_names();
    let m = |a: usize, c: usize| if a == c { md.clone() } else { mo.clone() };
    let rn = |i: usize, c: usize| format!("R_{i}_{c}");
    let yn = |c: usize, i: usize| format!("y_{c}_{i}");
    let qn = |i: usize, j: usize| if i <= j { format!("Sigma_{i}_{j}") } else { format!("Sigma_{j}_{i}") };
    let mut eqs = Vec::new();
    for i in 0..d {
        for a in 0..k {
            let ym: Vec<String> = (0..k).map(|c| format!("{}*{}", yn(c, i), m(a, c))).collect();
            eqs.push(format!("-eta_x*({c0}*{} - ({}))", rn(i, a), ym.join(" + ")));
        }
    }
    for c in 0..k {
        for i in 0..d {
            let u: Vec<String> = (0..k).map(|l| format!("{}*{}", rn(i, l), m(l, c))).collect();
            eqs.push(format!("-eta_y*{kf}*({p:e}*{} - ({}))", yn(c, i), u.join(" + ")));
        }
    }
    for i in 0..d {
        for j in i..d {
            let s: Vec<String> = (0..k).map(|l| format!("{}*{}", rn(i, l), rn(j, l))).collect();
            let mut v = Vec::new();
            for l in 0..k {
                let uj: Vec<String> = (0..k).map(|t| format!("{}*{}", rn(j, t), m(t, l))).collect();
                let ui: Vec<String> = (0..k).map(|t| format!("{}*{}", rn(i, t), m(t, l))).collect();
                v.push(format!("{}*({})", yn(l, i), uj.join(" + ")));
                v.push(format!("{}*({})", yn(l, j), ui.join(" + ")));
            }
            let w: Vec<String> = (0..k).map(|l| format!("{}*{}", yn(l, i), yn(l, j))).collect();
            eqs.push(format!(
                "-eta_x*(2 - eta_x)*{} + eta_x^2*({c0}*({}) - ({}) + {p:e}*({}))",
                qn(i, j),
                s.join(" + "),
                v.join(" + "),
                w.join(" + ")
            ));
        }
    }
    Ok(ModelFileStrings {
        name: format!("teacher-student ({}, K = {k}, d = {d})", ode.teacher.kind.name()),
        params: PARAM_NAMES.iter().zip(&ode.params).map(|(n, v)| (n.to_string(), *v)).collect(),
        states: names.iter().cloned().zip(ode.initial.iter().copied()).collect(),
        equations: names.into_iter().zip(eqs).collect(),
    })
}
