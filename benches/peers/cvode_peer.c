/* CVODE (SUNDIALS) on the problems of the work-precision diagrams, timed
 * in-process so that only the solver is compared with repcollapse.
 *
 *   cvode_peer PROBLEM RTOL ATOL MAX_REPEATS [bdf|adams]
 *
 * PROBLEM is one of robertson, van-der-pol-scaled, hires, oregonator, lorenz,
 * or a problem generated from a model file (benches/peers/model_to_c.py,
 * compiled in by build_cvode.sh: the Model T head ODE, teacher-head). The
 * right-hand sides and Jacobians below are the model files'
 * (examples/models/<PROBLEM>.toml) written out in C, term for term; the
 * Jacobians are the exact derivatives of those expressions. A generated
 * problem has the right-hand side only, and CVODE forms its Jacobian by
 * its own difference quotients (CVODE's default when no Jacobian is set).
 *
 * Method `bdf` (default): variable-order BDF (CV_BDF, orders 1-5), Newton
 * iteration with the dense direct linear solver (SUNDenseMatrix +
 * SUNLinSol_Dense) and the analytic Jacobian. Method `adams` (for the
 * non-stiff problems): variable-order Adams-Moulton (CV_ADAMS, orders 1-12)
 * with fixed-point (functional) iteration, no Jacobian, CVODE's recommended
 * set-up for non-stiff problems. Scalar tolerances; every other setting is
 * CVODE's default except mxstep (raised so the long Robertson run is not
 * cut off).
 * Only the end point is requested (CV_NORMAL to t_end, with CVodeSetStopTime
 * so the solver does not step past it and interpolate back).
 *
 * One untimed solve first (its end state is printed and checked against the
 * reference by benches/peers/work_precision.py before any timing is used),
 * then timed solves (at least 3, then more while the total stays under 0.5 s,
 * at most MAX_REPEATS; the median is reported); each timed solve creates,
 * sets up, solves and frees the solver, and clock_gettime brackets only
 * that: CLOCK_MONOTONIC (wall, "seconds") and CLOCK_PROCESS_CPUTIME_ID
 * (CPU, "cpu_seconds"). On a machine shared with other jobs the CPU time is
 * the fair measure: a longer solve is preempted more often, which inflates
 * its wall-clock median more than a short one's.
 * Prints one JSON object on stdout.
 *
 * Written against SUNDIALS 6.x (SUNContext_Create(void *comm, ...)); the
 * SUNDIALS 7 signature takes SUN_COMM_NULL, selected below by version. */
#include <cvode/cvode.h>
#include <math.h>
#include <nvector/nvector_serial.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sundials/sundials_types.h>
#include <sundials/sundials_version.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunnonlinsol/sunnonlinsol_fixedpoint.h>
#include <time.h>

#if SUNDIALS_VERSION_MAJOR >= 7
#define RC_COMM_NULL SUN_COMM_NULL
#else
#define RC_COMM_NULL NULL
#endif

typedef sunrealtype real;
#define IJ(J, i, j) SM_ELEMENT_D(J, i, j)

/* ---- Robertson (examples/models/robertson.toml) ---- */
static int rob_f(real t, N_Vector yv, N_Vector fv, void *ud) {
  (void)t; (void)ud;
  const real *y = N_VGetArrayPointer(yv);
  real *f = N_VGetArrayPointer(fv);
  const real k1 = 0.04, k2 = 3.0e7, k3 = 1.0e4;
  f[0] = -k1 * y[0] + k3 * y[1] * y[2];
  f[1] = k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] * y[1];
  f[2] = k2 * y[1] * y[1];
  return 0;
}
static int rob_j(real t, N_Vector yv, N_Vector fy, SUNMatrix J, void *ud, N_Vector t1, N_Vector t2, N_Vector t3) {
  (void)t; (void)fy; (void)ud; (void)t1; (void)t2; (void)t3;
  const real *y = N_VGetArrayPointer(yv);
  const real k1 = 0.04, k2 = 3.0e7, k3 = 1.0e4;
  IJ(J, 0, 0) = -k1; IJ(J, 0, 1) = k3 * y[2]; IJ(J, 0, 2) = k3 * y[1];
  IJ(J, 1, 0) = k1; IJ(J, 1, 1) = -k3 * y[2] - 2.0 * k2 * y[1]; IJ(J, 1, 2) = -k3 * y[1];
  IJ(J, 2, 0) = 0.0; IJ(J, 2, 1) = 2.0 * k2 * y[1]; IJ(J, 2, 2) = 0.0;
  return 0;
}

/* ---- Van der Pol, Hairer's scaled form (examples/models/van-der-pol-scaled.toml) ---- */
static int vdp_f(real t, N_Vector yv, N_Vector fv, void *ud) {
  (void)t; (void)ud;
  const real *y = N_VGetArrayPointer(yv);
  real *f = N_VGetArrayPointer(fv);
  const real eps = 1.0e-6;
  f[0] = y[1];
  f[1] = ((1.0 - y[0] * y[0]) * y[1] - y[0]) / eps;
  return 0;
}
static int vdp_j(real t, N_Vector yv, N_Vector fy, SUNMatrix J, void *ud, N_Vector t1, N_Vector t2, N_Vector t3) {
  (void)t; (void)fy; (void)ud; (void)t1; (void)t2; (void)t3;
  const real *y = N_VGetArrayPointer(yv);
  const real eps = 1.0e-6;
  IJ(J, 0, 0) = 0.0; IJ(J, 0, 1) = 1.0;
  IJ(J, 1, 0) = (-2.0 * y[0] * y[1] - 1.0) / eps; IJ(J, 1, 1) = (1.0 - y[0] * y[0]) / eps;
  return 0;
}

/* ---- HIRES (examples/models/hires.toml) ---- */
static int hires_f(real t, N_Vector yv, N_Vector fv, void *ud) {
  (void)t; (void)ud;
  const real *y = N_VGetArrayPointer(yv);
  real *f = N_VGetArrayPointer(fv);
  f[0] = -1.71 * y[0] + 0.43 * y[1] + 8.32 * y[2] + 0.0007;
  f[1] = 1.71 * y[0] - 8.75 * y[1];
  f[2] = -10.03 * y[2] + 0.43 * y[3] + 0.035 * y[4];
  f[3] = 8.32 * y[1] + 1.71 * y[2] - 1.12 * y[3];
  f[4] = -1.745 * y[4] + 0.43 * y[5] + 0.43 * y[6];
  f[5] = -280.0 * y[5] * y[7] + 0.69 * y[3] + 1.71 * y[4] - 0.43 * y[5] + 0.69 * y[6];
  f[6] = 280.0 * y[5] * y[7] - 1.81 * y[6];
  f[7] = -280.0 * y[5] * y[7] + 1.81 * y[6];
  return 0;
}
static int hires_j(real t, N_Vector yv, N_Vector fy, SUNMatrix J, void *ud, N_Vector t1, N_Vector t2, N_Vector t3) {
  (void)t; (void)fy; (void)ud; (void)t1; (void)t2; (void)t3;
  const real *y = N_VGetArrayPointer(yv);
  SUNMatZero(J);
  IJ(J, 0, 0) = -1.71; IJ(J, 0, 1) = 0.43; IJ(J, 0, 2) = 8.32;
  IJ(J, 1, 0) = 1.71; IJ(J, 1, 1) = -8.75;
  IJ(J, 2, 2) = -10.03; IJ(J, 2, 3) = 0.43; IJ(J, 2, 4) = 0.035;
  IJ(J, 3, 1) = 8.32; IJ(J, 3, 2) = 1.71; IJ(J, 3, 3) = -1.12;
  IJ(J, 4, 4) = -1.745; IJ(J, 4, 5) = 0.43; IJ(J, 4, 6) = 0.43;
  IJ(J, 5, 3) = 0.69; IJ(J, 5, 4) = 1.71; IJ(J, 5, 5) = -280.0 * y[7] - 0.43; IJ(J, 5, 6) = 0.69;
  IJ(J, 5, 7) = -280.0 * y[5];
  IJ(J, 6, 5) = 280.0 * y[7]; IJ(J, 6, 6) = -1.81; IJ(J, 6, 7) = 280.0 * y[5];
  IJ(J, 7, 5) = -280.0 * y[7]; IJ(J, 7, 6) = 1.81; IJ(J, 7, 7) = -280.0 * y[5];
  return 0;
}

/* ---- Oregonator (examples/models/oregonator.toml) ---- */
static int orego_f(real t, N_Vector yv, N_Vector fv, void *ud) {
  (void)t; (void)ud;
  const real *y = N_VGetArrayPointer(yv);
  real *f = N_VGetArrayPointer(fv);
  const real s = 77.27, w = 0.161, q = 8.375e-6;
  f[0] = s * (y[1] + y[0] * (1.0 - q * y[0] - y[1]));
  f[1] = (y[2] - (1.0 + y[0]) * y[1]) / s;
  f[2] = w * (y[0] - y[2]);
  return 0;
}
static int orego_j(real t, N_Vector yv, N_Vector fy, SUNMatrix J, void *ud, N_Vector t1, N_Vector t2, N_Vector t3) {
  (void)t; (void)fy; (void)ud; (void)t1; (void)t2; (void)t3;
  const real *y = N_VGetArrayPointer(yv);
  const real s = 77.27, w = 0.161, q = 8.375e-6;
  IJ(J, 0, 0) = s * (1.0 - 2.0 * q * y[0] - y[1]); IJ(J, 0, 1) = s * (1.0 - y[0]); IJ(J, 0, 2) = 0.0;
  IJ(J, 1, 0) = -y[1] / s; IJ(J, 1, 1) = -(1.0 + y[0]) / s; IJ(J, 1, 2) = 1.0 / s;
  IJ(J, 2, 0) = w; IJ(J, 2, 1) = 0.0; IJ(J, 2, 2) = -w;
  return 0;
}

/* ---- Lorenz (examples/models/lorenz.toml; beta is the file's double 8/3) ---- */
static int lorenz_f(real t, N_Vector yv, N_Vector fv, void *ud) {
  (void)t; (void)ud;
  const real *y = N_VGetArrayPointer(yv);
  real *f = N_VGetArrayPointer(fv);
  const real sigma = 10.0, rho = 28.0, beta = 2.6666666666666665;
  f[0] = sigma * (y[1] - y[0]);
  f[1] = y[0] * (rho - y[2]) - y[1];
  f[2] = y[0] * y[1] - beta * y[2];
  return 0;
}
static int lorenz_j(real t, N_Vector yv, N_Vector fy, SUNMatrix J, void *ud, N_Vector t1, N_Vector t2, N_Vector t3) {
  (void)t; (void)fy; (void)ud; (void)t1; (void)t2; (void)t3;
  const real *y = N_VGetArrayPointer(yv);
  const real sigma = 10.0, rho = 28.0, beta = 2.6666666666666665;
  IJ(J, 0, 0) = -sigma; IJ(J, 0, 1) = sigma; IJ(J, 0, 2) = 0.0;
  IJ(J, 1, 0) = rho - y[2]; IJ(J, 1, 1) = -1.0; IJ(J, 1, 2) = -y[0];
  IJ(J, 2, 0) = y[1]; IJ(J, 2, 1) = y[0]; IJ(J, 2, 2) = -beta;
  return 0;
}

typedef struct {
  const char *name;
  int n;
  real t_end;
  const real *y0;
  CVRhsFn f;
  CVLsJacFn jac; /* NULL: CVODE's difference-quotient Jacobian */
} Problem;

static const real ROB_Y0[] = {1.0, 0.0, 0.0}, VDP_Y0[] = {2.0, 0.0}, HIRES_Y0[] = {1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0057},
                  OREGO_Y0[] = {1.0, 2.0, 3.0}, LORENZ_Y0[] = {1.0, 1.0, 1.0};

/* Problems generated from model files (model_to_c.py): each defines
 * RC_GENERATED_PROBLEM as one Problem initialiser. */
#ifdef RC_GENERATED
#include RC_GENERATED
#endif

static const Problem PROBLEMS[] = {
    {"robertson", 3, 4.0e10, ROB_Y0, rob_f, rob_j},
    {"van-der-pol-scaled", 2, 2.0, VDP_Y0, vdp_f, vdp_j},
    {"hires", 8, 321.8122, HIRES_Y0, hires_f, hires_j},
    {"oregonator", 3, 360.0, OREGO_Y0, orego_f, orego_j},
    /* End time 10: see docs/work-precision.md, "Lorenz". */
    {"lorenz", 3, 10.0, LORENZ_Y0, lorenz_f, lorenz_j},
#ifdef RC_GENERATED_PROBLEM
    RC_GENERATED_PROBLEM,
#endif
};

#define MAX_N 64

typedef struct {
  int ok, flag;
  real end[MAX_N];
  long steps, rhs, jacs, lu, nl_fails, err_fails;
} Outcome;

#define CHECK(call)                                                                         \
  do {                                                                                      \
    int flag_ = (call);                                                                     \
    if (flag_ < 0) {                                                                        \
      fprintf(stderr, "cvode_peer: %s failed with flag %d\n", #call, flag_);                \
      out.ok = 0;                                                                           \
      out.flag = flag_;                                                                     \
      goto done;                                                                            \
    }                                                                                       \
  } while (0)

/* One complete solve: set up, integrate to t_end, read the statistics, free. */
static Outcome solve(const Problem *pb, int adams, real rtol, real atol, SUNContext ctx) {
  Outcome out;
  memset(&out, 0, sizeof out);
  out.ok = 1;
  void *mem = NULL;
  SUNMatrix A = NULL;
  SUNLinearSolver LS = NULL;
  SUNNonlinearSolver NLS = NULL;
  N_Vector y = N_VNew_Serial(pb->n, ctx);
  real *yd = N_VGetArrayPointer(y);
  for (int i = 0; i < pb->n; i++) yd[i] = pb->y0[i];
  mem = CVodeCreate(adams ? CV_ADAMS : CV_BDF, ctx);
  if (!mem) { out.ok = 0; goto done; }
  CHECK(CVodeInit(mem, pb->f, 0.0, y));
  CHECK(CVodeSStolerances(mem, rtol, atol));
  if (adams) {
    NLS = SUNNonlinSol_FixedPoint(y, 0, ctx);
    CHECK(CVodeSetNonlinearSolver(mem, NLS));
  } else {
    A = SUNDenseMatrix(pb->n, pb->n, ctx);
    LS = SUNLinSol_Dense(y, A, ctx);
    CHECK(CVodeSetLinearSolver(mem, LS, A));
    if (pb->jac) CHECK(CVodeSetJacFn(mem, pb->jac));
  }
  CHECK(CVodeSetMaxNumSteps(mem, 10000000));
  CHECK(CVodeSetStopTime(mem, pb->t_end));
  real t = 0.0;
  CHECK(CVode(mem, pb->t_end, y, &t, CV_NORMAL));
  for (int i = 0; i < pb->n; i++) out.end[i] = yd[i];
  CHECK(CVodeGetNumSteps(mem, &out.steps));
  CHECK(CVodeGetNumRhsEvals(mem, &out.rhs));
  if (!adams) {
    CHECK(CVodeGetNumJacEvals(mem, &out.jacs));
    CHECK(CVodeGetNumLinSolvSetups(mem, &out.lu));
  }
  CHECK(CVodeGetNumNonlinSolvConvFails(mem, &out.nl_fails));
  CHECK(CVodeGetNumErrTestFails(mem, &out.err_fails));
done:
  if (mem) CVodeFree(&mem);
  if (LS) SUNLinSolFree(LS);
  if (A) SUNMatDestroy(A);
  if (NLS) SUNNonlinSolFree(NLS);
  N_VDestroy(y);
  return out;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double now_s(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: cvode_peer PROBLEM RTOL ATOL MAX_REPEATS [bdf|adams]\n");
    return 2;
  }
  int adams = argc == 6 && strcmp(argv[5], "adams") == 0;
  if (argc == 6 && !adams && strcmp(argv[5], "bdf") != 0) {
    fprintf(stderr, "cvode_peer: unknown method %s\n", argv[5]);
    return 2;
  }
  const Problem *pb = NULL;
  for (size_t i = 0; i < sizeof PROBLEMS / sizeof PROBLEMS[0]; i++)
    if (strcmp(argv[1], PROBLEMS[i].name) == 0) pb = &PROBLEMS[i];
  if (!pb) {
    fprintf(stderr, "cvode_peer: unknown problem %s\n", argv[1]);
    return 2;
  }
  if (pb->n > MAX_N) {
    fprintf(stderr, "cvode_peer: %d states, at most %d\n", pb->n, MAX_N);
    return 2;
  }
  real rtol = strtod(argv[2], NULL), atol = strtod(argv[3], NULL);
  int max_repeats = atoi(argv[4]);
  if (max_repeats < 3) max_repeats = 3;
  SUNContext ctx;
  if (SUNContext_Create(RC_COMM_NULL, &ctx) != 0) return 1;

  Outcome first = solve(pb, adams, rtol, atol, ctx); /* untimed: the checked answer */
  printf("{\"problem\": \"%s\", \"method\": \"%s\", \"rtol\": %.3e, \"atol\": %.3e", pb->name, adams ? "cvode_adams" : "cvode_bdf", rtol, atol);
  if (!first.ok) {
    printf(", \"error\": \"CVODE failed with flag %d (%s)\"}\n", first.flag, CVodeGetReturnFlagName(first.flag));
    SUNContext_Free(&ctx);
    return 0;
  }
  double *secs = malloc(sizeof(double) * (size_t)max_repeats);
  double *cpu = malloc(sizeof(double) * (size_t)max_repeats);
  int repeats = 0;
  double total = 0.0;
  for (int r = 0; r < max_repeats && (r < 3 || total < 0.5); r++) {
    double c0 = now_s(CLOCK_PROCESS_CPUTIME_ID), t0 = now_s(CLOCK_MONOTONIC);
    Outcome o = solve(pb, adams, rtol, atol, ctx);
    secs[r] = now_s(CLOCK_MONOTONIC) - t0;
    cpu[r] = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    total += secs[r];
    repeats++;
    for (int i = 0; i < pb->n; i++)
      if (o.end[i] != first.end[i]) fprintf(stderr, "cvode_peer: repeat %d differs from the checked solve\n", r);
  }
  qsort(secs, (size_t)repeats, sizeof(double), cmp_double);
  qsort(cpu, (size_t)repeats, sizeof(double), cmp_double);
  printf(", \"seconds\": %.6e, \"cpu_seconds\": %.6e, \"repeats\": %d, \"steps\": %ld, \"rhs\": %ld, \"jacobians\": %ld, \"factorizations\": %ld, "
         "\"nonlinear_fails\": %ld, \"error_test_fails\": %ld, \"end\": [",
         secs[repeats / 2], cpu[repeats / 2], repeats, first.steps, first.rhs, first.jacs, first.lu, first.nl_fails, first.err_fails);
  for (int i = 0; i < pb->n; i++) printf("%s%.17g", i ? ", " : "", first.end[i]);
  printf("], \"sundials\": \"%s\"}\n", SUNDIALS_VERSION);
  free(secs);
  free(cpu);
  SUNContext_Free(&ctx);
  return 0;
}
