//! The bivariate normal upper probability `P(X > h, Y > k)`, closed form up
//! to a fixed Gauss-Legendre rule (Genz 2004): the two-dimensional orthant
//! used by the K = 3 mixture teacher and, conditionally, inside the
//! four-dimensional reduction of [`super::plackett`].

/// `Phi(x)`, the unit normal CDF, as `erfc(-x / sqrt 2) / 2` (statrs' erfc).
pub fn phi(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// `P(X > h, Y > k)` for unit normals `X`, `Y` of correlation `r`, `|r| < 1`:
/// the Drezner-Wesolowsky reduction to a one-dimensional integral over the
/// correlation,
///
/// ```text
///     P = Phi(-h) Phi(-k) + (1/2pi) int_0^asin r exp(-(h^2 + k^2 - 2hk sin t) / (2 cos^2 t)) dt,
/// ```
///
/// by Gauss-Legendre quadrature with 6, 12 or 20 nodes for `|r|` below 0.3,
/// 0.75 and 0.925, and for `|r| >= 0.925` Genz's expansion of the
/// near-singular integrand in `1 - r^2` (A. Genz, "Numerical computation of
/// rectangular bivariate and trivariate normal and t probabilities",
/// Statistics and Computing 14 (2004) 251-260, algorithm BVNU): absolute
/// error ~1e-15. At `h = k = 0` it is `1/4 + asin(r) / (2 pi)`.
pub fn bivariate_normal_upper(h: f64, k: f64, r: f64) -> f64 {
    use std::f64::consts::PI;
    const W6: [f64; 3] = [0.1713244923791705, 0.3607615730481384, 0.4679139345726904];
    const X6: [f64; 3] = [0.9324695142031522, 0.6612093864662647, 0.2386191860831970];
    const W12: [f64; 6] = [
        0.04717533638651177,
        0.1069393259953183,
        0.1600783285433464,
        0.2031674267230659,
        0.2334925365383547,
        0.2491470458134029,
    ];
    const X12: [f64; 6] = [
        0.9815606342467191,
        0.9041172563704750,
        0.7699026741943050,
        0.5873179542866171,
        0.3678314989981802,
        0.1252334085114692,
    ];
    const W20: [f64; 10] = [
        0.01761400713915212,
        0.04060142980038694,
        0.06267204833410906,
        0.08327674157670475,
        0.1019301198172404,
        0.1181945319615184,
        0.1316886384491766,
        0.1420961093183821,
        0.1491729864726037,
        0.1527533871307259,
    ];
    const X20: [f64; 10] = [
        0.9931285991850949,
        0.9639719272779138,
        0.9122344282513259,
        0.8391169718222188,
        0.7463319064601508,
        0.6360536807265150,
        0.5108670019508271,
        0.3737060887154196,
        0.2277858511416451,
        0.07652652113349733,
    ];
    let two_pi = 2.0 * PI;
    if h == f64::INFINITY || k == f64::INFINITY {
        return 0.0;
    }
    if h == f64::NEG_INFINITY {
        return if k == f64::NEG_INFINITY { 1.0 } else { phi(-k) };
    }
    if k == f64::NEG_INFINITY {
        return phi(-h);
    }
    if r == 0.0 {
        return phi(-h) * phi(-k);
    }
    let (w, x): (&[f64], &[f64]) = if r.abs() < 0.3 {
        (&W6, &X6)
    } else if r.abs() < 0.75 {
        (&W12, &X12)
    } else {
        (&W20, &X20)
    };
    let mut hk = h * k;
    let mut bvn = 0.0;
    if r.abs() < 0.925 {
        // Nodes at (1 -+ x_i) asin(r) / 2 cover [0, asin r].
        let hs = (h * h + k * k) / 2.0;
        let asr = r.asin() / 2.0;
        for (&wi, &xi) in w.iter().zip(x) {
            for node in [1.0 - xi, 1.0 + xi] {
                let sn = (asr * node).sin();
                bvn += wi * ((sn * hk - hs) / (1.0 - sn * sn)).exp();
            }
        }
        return (bvn * asr / two_pi + phi(-h) * phi(-k)).clamp(0.0, 1.0);
    }
    let mut k = k;
    if r < 0.0 {
        k = -k;
        hk = -hk;
    }
    if r.abs() < 1.0 {
        let a_s = 1.0 - r * r;
        let mut a = a_s.sqrt();
        let bs = (h - k) * (h - k);
        let c = (4.0 - hk) / 8.0;
        let d = (12.0 - hk) / 80.0;
        let asr = -(bs / a_s + hk) / 2.0;
        if asr > -100.0 {
            bvn = a * asr.exp() * (1.0 - c * (bs - a_s) * (1.0 - d * bs) / 3.0 + c * d * a_s * a_s);
        }
        if hk > -100.0 {
            let b = bs.sqrt();
            let sp = two_pi.sqrt() * phi(-b / a);
            bvn -= (-hk / 2.0).exp() * sp * b * (1.0 - c * bs * (1.0 - d * bs) / 3.0);
        }
        a /= 2.0;
        let mut sum = 0.0;
        for (&wi, &xi) in w.iter().zip(x) {
            for node in [1.0 - xi, 1.0 + xi] {
                let xs = (a * node) * (a * node);
                let asr = -(bs / xs + hk) / 2.0;
                if asr > -100.0 {
                    let sp = 1.0 + c * xs * (1.0 + 5.0 * d * xs);
                    let rs = (1.0 - xs).sqrt();
                    let ep = (-(hk / 2.0) * xs / ((1.0 + rs) * (1.0 + rs))).exp() / rs;
                    sum += wi * asr.exp() * (sp - ep);
                }
            }
        }
        bvn = (a * sum - bvn) / two_pi;
    }
    if r > 0.0 {
        bvn += phi(-h.max(k));
    } else if h >= k {
        bvn = -bvn;
    } else {
        let l = if h < 0.0 { phi(k) - phi(h) } else { phi(-h) - phi(-k) };
        bvn = l - bvn;
    }
    bvn.clamp(0.0, 1.0)
}

