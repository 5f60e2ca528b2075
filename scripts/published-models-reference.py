#!/usr/bin/env python3
"""Independent reference values for tests/engine/published_models.rs.

Solves the defining systems of the equilibria, folds (det J = 0) and Hopf
points of the external test models (examples/models/*.toml) with mpmath at
30 digits, from the published (printed, 6-7 digit) values as starting
guesses. Nothing here uses repcollapse: the Jacobians are written out by
hand (sympy only differentiates the same formulas as the model files).
Run: python3 scripts/published-models-reference.py
"""
import mpmath as mp
import sympy as sp

mp.mp.dps = 30


def solve(exprs, unknowns, guess, fixed):
    """Newton (mpmath.findroot) on exprs(unknowns) = 0 with `fixed` substituted."""
    es = [e.subs(fixed) for e in exprs]
    f = sp.lambdify(unknowns, es, "mpmath")
    sol = mp.findroot(lambda *a: f(*a), [mp.mpf(g) for g in guess], tol=mp.mpf(10) ** -28)
    return [sol[i] for i in range(len(unknowns))]


def report(title, names, values):
    print(f"{title}: " + ", ".join(f"{n} = {mp.nstr(v, 17)}" for n, v in zip(names, values)))


def hopf_condition(J):
    """Hopf (or neutral saddle) condition: the sum of two eigenvalues is zero.
    n = 2: tr J = 0. n = 3: with char. poly l^3 - c1 l^2 + c2 l - c3
    (c1 = tr J, c2 = sum of principal 2x2 minors, c3 = det J), c1 c2 - c3 = 0."""
    n = J.shape[0]
    if n == 2:
        return J.trace()
    c1 = J.trace()
    c2 = sum(J.extract([i, j], [i, j]).det() for i in range(3) for j in range(i + 1, 3))
    return c1 * c2 - J.det()


def model(eqs, states):
    F = sp.Matrix(eqs)
    J = F.jacobian(sp.Matrix(states))
    return F, J


# --- AUTO-07p demo ab (B = 14, beta = 2: examples/models/ab.toml) -----------
u1, u2, D, B, beta = sp.symbols("u1 u2 D B beta")
F, J = model([-u1 + D * (1 - u1) * sp.exp(u2), -u2 + B * D * (1 - u1) * sp.exp(u2) - beta * u2], [u1, u2])
for g in [(0.21, 0.99), (0.45, 2.1), (0.82, 3.8)]:
    report("ab equilibrium at D=0.1, B=14, beta=2", ["u1", "u2"], solve(list(F), [u1, u2], g, {D: 0.1, B: 14, beta: 2}))
for g in [(0.31, 1.45, 0.106), (0.69, 3.2, 0.089)]:
    report("ab fold in D (B=14, beta=2)", ["u1", "u2", "D"], solve(list(F) + [J.det()], [u1, u2, D], g, {B: 14, beta: 2}))
report("ab Hopf in D (B=14, beta=2)", ["u1", "u2", "D"], solve(list(F) + [J.trace()], [u1, u2, D], (0.8, 3.7, 0.13), {B: 14, beta: 2}))
# AUTO-07p tutorial log (python/auto/test_data/tutorial.log), beta = 3:
for b, g in [(14, (0.406, 1.42, 0.165)), (18, (0.30, 1.36, 0.111)), (18, (0.92, 4.14, 0.184))]:
    report(f"ab Hopf in D (B={b}, beta=3)", ["u1", "u2", "D"], solve(list(F) + [J.trace()], [u1, u2, D], g, {B: b, beta: 3}))
report("ab BT (B=14)", ["u1", "u2", "D", "beta"], solve(list(F) + [J.det(), J.trace()], [u1, u2, D, beta], (0.5, 2.4, 0.11, 2.07), {B: 14}))

# --- Bazykin (eps = 0.01, gamma = 1) ------------------------------------------
x, y, al, de, eps, ga = sp.symbols("x y alpha delta eps gamma")
F, J = model([x - x * y / (1 + al * x) - eps * x**2, -ga * y + x * y / (1 + al * x) - de * y**2], [x, y])
fx = {eps: mp.mpf("0.01"), ga: 1, de: 0}
for g in [(1.01, 1.0, 0.0102), (49.5, 25.0, 0.98)]:
    report("bazykin Hopf in alpha (delta=0)", ["x", "y", "alpha"], solve(list(F) + [J.trace()], [x, y, al], g, fx))

# --- Catalytic oscillator (MatCont manual) -------------------------------------
x, y, s, q1, q2, q3, q4, q5, q6, k = sp.symbols("x y s q1 q2 q3 q4 q5 q6 k")
z = 1 - x - y - s
F, J = model([2 * q1 * z**2 - 2 * q5 * x**2 - q3 * x * y, q2 * z - q6 * y - q3 * x * y, q4 * z - k * q4 * s], [x, y, s])
fx = {q1: mp.mpf("2.5"), q3: 10, q4: mp.mpf("0.0675"), q5: 1, q6: mp.mpf("0.1"), k: mp.mpf("0.4")}
for name, cond, g in [
    ("Hopf", hopf_condition(J), (0.016357, 0.523973, 0.328336, 1.051558)),
    ("fold", J.det(), (0.024717, 0.450257, 0.375018, 1.042049)),
    ("fold", J.det(), (0.054030, 0.302241, 0.459807, 1.052200)),
    ("Hopf", hopf_condition(J), (0.077929, 0.233063, 0.492149, 1.040991)),
]:
    report(f"catalytic {name} in q2", ["x", "y", "s", "q2"], solve(list(F) + [cond], [x, y, s, q2], g, fx))
# All real equilibria at the file's q2 = 2.204678: s = z/k eliminates s, and
# the resultant in y of the two remaining polynomials gives x exactly.
fx2 = dict(fx)
fx2[q2] = sp.Rational("2.204678")
fx2 = {kk: sp.nsimplify(v) for kk, v in fx2.items()}
zz = (1 - x - y) * sp.Rational(2, 7)  # z = (1 - x - y) k/(1 + k), k = 0.4
P1 = sp.expand((2 * q1 * zz**2 - 2 * q5 * x**2 - q3 * x * y).subs(fx2))
P2 = sp.expand((q2 * zz - q6 * y - q3 * x * y).subs(fx2))
res = sp.Poly(sp.resultant(P1, P2, y), x)
for xr in sp.Poly(res).nroots(n=30):
    if abs(sp.im(xr)) > 1e-20:
        continue
    xr = sp.re(xr)
    for yr in sp.Poly(P2.subs(x, xr), y).nroots(n=30):
        if abs(sp.im(yr)) < 1e-20 and abs(P1.subs({x: xr, y: sp.re(yr)})) < 1e-15:
            yr = sp.re(yr)
            sr = (1 - xr - yr) * sp.Rational(2, 7) / sp.Rational(2, 5)
            report("catalytic equilibrium at q2=2.204678", ["x", "y", "s"], [mp.mpf(str(xr)), mp.mpf(str(yr)), mp.mpf(str(sr))])

# --- Fast Morris-Lecar (MatCont manual) ----------------------------------------
v, w, yp, zp = sp.symbols("v w y z")
minf = (1 + sp.tanh((v + sp.Rational(1, 100)) / sp.Rational(15, 100))) / 2
winf = (1 + sp.tanh((v - zp) / sp.Rational(145, 1000))) / 2
tau = sp.cosh((v - sp.Rational(1, 10)) / sp.Rational(29, 100))
F, J = model([yp - (v + sp.Rational(1, 2)) / 2 - 2 * w * (v + sp.Rational(7, 10)) - minf * (v - 1),
              sp.Rational(115, 100) * (winf - w) * tau], [v, w])
fx = {zp: sp.Rational(1, 10)}
report("MLfast equilibrium at y=0.11047", ["v", "w"], solve(list(F), [v, w], (0.047222, 0.32564), {zp: sp.Rational(1, 10), yp: sp.Rational(11047, 100000)}))
for name, cond, g in [
    ("Hopf", J.trace(), (0.036756, 0.294770, 0.075658)),
    ("fold", J.det(), (-0.033738, 0.136501, -0.020727)),
    ("neutral saddle", J.trace(), (-0.119894, 0.045956, 0.033207)),
    ("fold", J.det(), (-0.244914, 0.008514, 0.083257)),
]:
    report(f"MLfast {name} in y", ["v", "w", "y"], solve(list(F) + [cond], [v, w, yp], g, fx))
