#!/usr/bin/env bash
# Builds benches/peers/cvode_peer.c against the system's SUNDIALS (Debian:
# apt-get install libsundials-dev) into target/peers/cvode_peer and prints
# its path. pkg-config is used when SUNDIALS ships .pc files; Debian's
# package does not, so the libraries are then named directly.
# The Model T head ODE (benches/peers/teacher-head.toml, too long to write
# out by hand) is compiled in as problem `teacher-head`, its right-hand side
# generated in C by benches/peers/model_file.py (python3 >= 3.11).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p target/peers
if [[ ! -f /usr/include/cvode/cvode.h ]] && ! pkg-config --exists sundials-cvode 2>/dev/null; then
  echo "build_cvode.sh: SUNDIALS headers not found (apt-get install libsundials-dev)" >&2
  exit 1
fi
if pkg-config --exists sundials-cvode sundials-nvecserial 2>/dev/null; then
  flags=$(pkg-config --cflags --libs sundials-cvode sundials-nvecserial)
  libs="$flags -lsundials_sunlinsoldense -lsundials_sunmatrixdense -lsundials_sunnonlinsolfixedpoint"
else
  libs="-lsundials_cvode -lsundials_nvecserial -lsundials_sunlinsoldense -lsundials_sunmatrixdense -lsundials_sunnonlinsolfixedpoint"
fi
python3 benches/peers/model_file.py c benches/peers/teacher-head.toml teacher-head 2000 >target/peers/teacher_head_rhs.c
# -O2 like the Debian build of the library itself; the right-hand sides are
# a few flops, so the compiler flags of this file barely matter.
# shellcheck disable=SC2086
cc -O2 -std=c11 -D_POSIX_C_SOURCE=199309L -Wall -Wextra -DRC_GENERATED='"../../target/peers/teacher_head_rhs.c"' \
  -o target/peers/cvode_peer benches/peers/cvode_peer.c $libs -lm
echo target/peers/cvode_peer
