#!/usr/bin/env bash
# The GPU checks and figures of docs/benchmarks.md "Throughput", in one go on a GPU machine:
#
#   bash tools/benchmark/gpu_checks.sh OUT_DIR [DATA_DIR]
#
# 1. the device-augmentation tests, with the CUDA-only one (no host sync)  -> OUT_DIR/tests.log
# 2. tools/benchmark/augmentation.py on the GPU (batch 256, 512 px)        -> OUT_DIR/augmentation.log
#    and tools/benchmark/decode.py (OpenCV and torchvision on one CPU thread, nvJPEG on the
#    GPU, 256 of the benchmark's JPEG files)                             -> OUT_DIR/decode.log
# 3. tools/benchmark/throughput.py, all five rows: MoCo v2 ResNet-50, batch 256, one worker
#    per core, on DATA_DIR or on MAKE_DATA (default 20000) generated ImageNet-like JPEGs
#                                                     -> OUT_DIR/throughput.{log,json}
# 4. with ABLATION=1: the ceiling and mmssl rows again without torch.compile, then in fp32
#    without channels-last (what each switch buys)    -> OUT_DIR/throughput_{nocompile,fp32}.log
# The device, the versions and each step's command, times and exit status go to
# OUT_DIR/steps.log: eight files at most.
#
# Each step runs under its own time limit (LIMIT_TESTS, LIMIT_AUG, LIMIT_THROUGHPUT,
# LIMIT_ABLATION, in seconds) and a failed step does not stop the next, so that whatever
# was measured is in OUT_DIR; the exit status is that of the throughput step.
# Env: PYTHON (default python3), WORKERS (default: the number of cores), WARMUP (20),
# ITERS (60), MAKE_DATA (20000). The default limits add up to 9 minutes (the ablation: 5 more).
set -uo pipefail

OUT_DIR=${1:?usage: gpu_checks.sh OUT_DIR [DATA_DIR]}
DATA_DIR=${2:-}
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON=${PYTHON:-python3}
WORKERS=${WORKERS:-$(nproc)}
WARMUP=${WARMUP:-20}
ITERS=${ITERS:-60}
MAKE_DATA=${MAKE_DATA:-20000}
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
cd "$ROOT"
export PYTHONUNBUFFERED=1
say() { echo "[gpu_checks $(date +%T)] $*" | tee -a "$OUT_DIR/steps.log"; }

# step NAME LIMIT LOG COMMAND...: run with a time limit, log everything, record the status.
step() {
    local name=$1 limit=$2 log=$3
    shift 3
    say "$name: $*"
    timeout --kill-after=10 "$limit" "$@" > >(tee "$OUT_DIR/$log") 2>&1
    local status=$?
    say "$name: exit status $status$([[ $status == 124 ]] && echo " (stopped at its ${limit} s limit)")"
    return $status
}

if ! "$PYTHON" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())'; then
    say "no CUDA device visible to $PYTHON: these checks need one"
    exit 2
fi
"$PYTHON" - <<'EOF' 2>&1 | tee -a "$OUT_DIR/steps.log"
import os, torch, torchvision
print('device:', torch.cuda.get_device_name(), '| CUDA', torch.version.cuda, '| torch',
      torch.__version__, '| torchvision', torchvision.__version__, '| cores', os.cpu_count())
EOF

step tests "${LIMIT_TESTS:-90}" tests.log \
    "$PYTHON" -m pytest -q -p no:cacheprovider tests/test_models/test_data_preprocessors

step augmentation "${LIMIT_AUG:-60}" augmentation.log \
    "$PYTHON" tools/benchmark/augmentation.py --device cuda --batch 256 --size 512

SCRATCH=""
if [[ -z "$DATA_DIR" ]]; then
    SCRATCH=$(mktemp -d /tmp/mmssl-gpu-checks-XXXXXX)
    trap 'rm -rf "$SCRATCH"' EXIT
    say "writing $MAKE_DATA ImageNet-like JPEG files to $SCRATCH"
    "$PYTHON" -c 'import sys; sys.path.insert(0, "."); from tools.benchmark.throughput import make_data; print(f"{make_data(int(sys.argv[1]), sys.argv[2]):.0f} KB on average")' \
        "$MAKE_DATA" "$SCRATCH" | tee -a "$OUT_DIR/steps.log"
    DATA_DIR=$SCRATCH
fi

step decode "${LIMIT_AUG:-60}" decode.log \
    "$PYTHON" tools/benchmark/decode.py --data "$DATA_DIR" --batch 256

common=(--data "$DATA_DIR" --batch-size 256 --workers "$WORKERS" --warmup "$WARMUP"
        --iters "$ITERS")
step throughput "${LIMIT_THROUGHPUT:-330}" throughput.log \
    "$PYTHON" tools/benchmark/throughput.py "${common[@]}" --out "$OUT_DIR/throughput.json"
status=$?

if [[ "${ABLATION:-0}" == 1 ]]; then
    step no-compile "${LIMIT_ABLATION:-150}" throughput_nocompile.log \
        "$PYTHON" tools/benchmark/throughput.py "${common[@]}" --rows ceiling,mmssl \
        --no-compile
    step fp32 "${LIMIT_ABLATION:-150}" throughput_fp32.log \
        "$PYTHON" tools/benchmark/throughput.py "${common[@]}" --rows ceiling,mmssl \
        --no-compile --no-amp --no-channels-last
fi
say "done; results in $OUT_DIR"
exit $status
