//! TEMPORARY stand-in until the engine-core branch lands.
use crate::engine::VectorField;
use crate::error::{Error, Result};
use ode_solvers::{DVector, System};

#[derive(Clone, Copy, Debug)]
pub enum Method { Dopri5, Dop853 }
#[derive(Clone, Debug)]
pub enum Grid { Times(Vec<f64>) }
#[derive(Clone, Debug)]
pub struct IntegrateOptions { pub method: Method, pub rtol: f64, pub atol: f64, pub t_max: f64, pub grid: Grid, pub max_steps: u32 }
pub struct Trajectory { pub t: Vec<f64>, pub states: Vec<Vec<f64>> }
struct Adapter<'a> { f: &'a dyn VectorField, p: Vec<f64> }
impl System<f64, DVector<f64>> for Adapter<'_> {
    fn system(&self, _t: f64, y: &DVector<f64>, dy: &mut DVector<f64>) { self.f.rhs(y.as_slice(), &self.p, dy.as_mut_slice()); }
}
pub fn integrate(field: &dyn VectorField, x0: &[f64], p: &[f64], opts: &IntegrateOptions) -> Result<Trajectory> {
    let Grid::Times(times) = &opts.grid;
    let mut t = Vec::new(); let mut states = Vec::new();
    let mut x = x0.to_vec(); let mut t0 = 0.0;
    for &tt in times {
        if tt > t0 {
            let mut s = ode_solvers::Dop853::from_param(Adapter { f: field, p: p.to_vec() }, t0, tt, tt - t0, DVector::from_vec(x.clone()), opts.rtol, opts.atol, 0.9, 0.0, 0.333, 6.0, tt - t0, 0.0, 1_000_000, 1000, ode_solvers::dop_shared::OutputType::Sparse);
            s.integrate().map_err(|e| Error::numerical("integrate", format!("{e:?}")))?;
            x = s.y_out().last().unwrap().as_slice().to_vec(); t0 = tt;
        }
        t.push(tt); states.push(x.clone());
    }
    Ok(Trajectory { t, states })
}
