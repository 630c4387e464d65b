#!/usr/bin/env bash
# Installs what `cargo build --features gpu` needs, from the package registries
# only, and writes the environment to source before building:
#
#   scripts/setup-gpu.sh && . "${ZKINFER_GPU_HOME:-$HOME/.cache/zkinfer/gpu}/env.sh"
#   cargo build --release -p zkinfer-cli --features gpu
#
# - nvcc 13.0 with its own cicc and crt (pinned: unpinned, pip takes a newer
#   nvvm whose PTX the 13.0 ptxas rejects), CUDA's C++ headers (CCCL) and
#   runtime from PyPI (nvidia-cuda-nvcc,
#   nvidia-cuda-cccl, nvidia-cuda-runtime) into a virtual environment;
# - libclang from Debian (icicle-cuda-runtime runs bindgen on cuda_runtime_api.h);
# - /usr/local/cuda: icicle-cuda-runtime 1.3.0's build script reads headers and
#   links cudart from there, fixed paths. Where no CUDA is installed, it becomes a
#   link farm onto the wheels, with cudart linked statically (libcudart.a), so the
#   binary carries the runtime and needs only the NVIDIA driver where it runs.
#   An existing /usr/local/cuda is left alone.
#
# Needs no GPU: the binary built here runs on one (H100/H200: sm_90, the default
# of ZKINFER_CUDA_ARCHS) and falls back to the CPU without one.
set -euo pipefail

home=${ZKINFER_GPU_HOME:-$HOME/.cache/zkinfer/gpu}
venv=$home/venv
mkdir -p "$home"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check \
  nvidia-cuda-nvcc==13.0.88 nvidia-cuda-cccl==13.0.85 nvidia-cuda-runtime==13.0.96 \
  nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88
cuda=$("$venv/bin/python" -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13"))')
[ -x "$cuda/bin/nvcc" ] || { echo "setup-gpu: nvcc missing under $cuda" >&2; exit 1; }

if ! ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1; then
  sudo_=""
  [ "$(id -u)" = 0 ] || sudo_=sudo
  $sudo_ apt-get install -y -qq libclang-dev >/dev/null 2>&1 || {
    $sudo_ apt-get update -qq >/dev/null && $sudo_ apt-get install -y -qq libclang-dev >/dev/null
  }
fi
libclang_dir=$(dirname "$(ls /usr/lib/llvm-*/lib/libclang.so | sort -V | tail -1)")

# cudart, statically: a libcudart.a next to the headers, no libcudart.so.
lib=$home/lib64
mkdir -p "$lib"
ln -sf "$cuda/lib/libcudart_static.a" "$lib/libcudart.a"

if [ ! -e /usr/local/cuda ]; then
  sudo_=""
  [ "$(id -u)" = 0 ] || sudo_=sudo
  $sudo_ mkdir -p /usr/local/cuda
  $sudo_ ln -sfn "$cuda/include" /usr/local/cuda/include
  $sudo_ ln -sfn "$cuda/bin" /usr/local/cuda/bin
  $sudo_ ln -sfn "$lib" /usr/local/cuda/lib64
elif [ ! -e /usr/local/cuda/include/cuda_runtime_api.h ]; then
  echo "setup-gpu: /usr/local/cuda exists without include/cuda_runtime_api.h; icicle-cuda-runtime needs it" >&2
  exit 1
fi

cat >"$home/env.sh" <<EOF
# Written by scripts/setup-gpu.sh: the environment of \`cargo build --features gpu\`.
export CUDA_HOME="$cuda"
export NVCC="$cuda/bin/nvcc"
export PATH="$cuda/bin:\$PATH"
export LIBCLANG_PATH="$libclang_dir"
export LIBRARY_PATH="$lib:$cuda/lib:\${LIBRARY_PATH:-}"
EOF
echo "setup-gpu: nvcc $("$cuda/bin/nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'); environment in $home/env.sh"
