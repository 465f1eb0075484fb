#!/usr/bin/env bash
# Issue 14's GPU sitting: three teacher networks trained side by side on the one GPU, then the
# student they teach, on the packed train split alone (the held-out slice and val stay on the
# development machine, where the networks that come back are exported and measured).
#
# Prepared on the development machine, from the repository root (both folders are git-ignored):
#   python -m training pack --data ../shared/datasets/fer2013 --out .gpu/fer
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#       -d .whl keras==3.15.1 namex==0.1.0 optree==0.20.0
# Then, through the device tool: command `bash training/gpu_sitting.sh`, carry
# [".gpu/fer/train", ".whl"]. Every run resumes from its last checkpoint, so a sitting cut short
# by the call's limit goes on when the same command is run again while the machine is warm.
# What comes back in $OUT: each finished network's model.keras and runs.tar (logs, run.json,
# curves, the GPU's name and this sitting's timings).
set -uo pipefail

SECONDS_ALLOWED=${SECONDS_ALLOWED:-560}  # of the call's 600 s, leaving time to copy results out
TEACHER_EPOCHS=${TEACHER_EPOCHS:-120}
STUDENT_EPOCHS=${STUDENT_EPOCHS:-120}
TEACHER_WORKERS=${TEACHER_WORKERS:-4}  # augmenting processes each: three teachers share 16 cores
STUDENT_WORKERS=${STUDENT_WORKERS:-12}
DATA=${DATA:-.gpu/fer}
RUNS=${RUNS:-runs/gpu}
OUT=${OUT:-$RUNS/out}
PYTHON=${PYTHON:-python3}

# The teachers: G's 120-epoch recipe with the studio augmentations, each with one of item 1's
# levers: a deeper network, the deeper network with mixup, and G's shape with mixup.
declare -A TEACHERS=(
    [deep]="--blocks 2,2,2,2 --seed 101"
    [deep_mixup]="--blocks 2,2,2,2 --mixup-alpha 0.2 --seed 102"
    [g_mixup]="--blocks 1,1,1,1 --mixup-alpha 0.2 --seed 103"
)

export KERAS_BACKEND=${KERAS_BACKEND:-jax}
# Three trainers share the GPU, so none may take its memory up front.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
if ! "$PYTHON" -c "import keras" 2>/dev/null; then  # the GPU machine's image has no Keras
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
mkdir -p "$RUNS" "$OUT"
deadline=$((SECONDS + SECONDS_ALLOWED))
log() { echo "[$(date -u +%T) +${SECONDS}s] $*" | tee -a "$RUNS/sitting.log"; }

# A training command, run until it ends or the sitting's time is up (it resumes next sitting).
within_sitting() {
    local left=$((deadline - SECONDS))
    if [ "$left" -le 10 ]; then
        log "no time left for: $*"
        return 1
    fi
    timeout -k 10 "$left" "$PYTHON" -m training "$@"
}

collect() {
    for run in "$RUNS"/*/; do
        name=$(basename "$run")
        [ -f "$run/model.keras" ] && cp "$run/model.keras" "$OUT/$name.keras"
    done
    (nvidia-smi --query-gpu=name,memory.total --format=csv || echo "no GPU") >"$RUNS/gpu.txt" 2>&1
    tar -cf "$OUT/runs.tar" --exclude='*.keras' --exclude='teacher' --exclude='out' "$RUNS"
    log "results in $OUT: $(ls "$OUT" | tr '\n' ' ')"
}
trap collect EXIT

log "sitting starts: $SECONDS_ALLOWED s, backend $KERAS_BACKEND"
for name in "${!TEACHERS[@]}"; do
    [ -f "$RUNS/teacher_$name/model.keras" ] && continue  # finished in an earlier sitting
    # shellcheck disable=SC2086  # each recipe is several flags
    within_sitting train --data "$DATA" --out "$RUNS/teacher_$name" --epochs "$TEACHER_EPOCHS" \
        --augment studio --workers "$TEACHER_WORKERS" ${TEACHERS[$name]} \
        >"$RUNS/teacher_$name.out" 2>&1 &
done
wait
mkdir -p "$RUNS/teachers"
for name in "${!TEACHERS[@]}"; do
    if [ ! -f "$RUNS/teacher_$name/model.keras" ]; then
        log "teacher $name has not finished (tail of its output below); run the sitting again"
        tail -n 5 "$RUNS/teacher_$name.out"
        exit 1
    fi
    cp "$RUNS/teacher_$name/model.keras" "$RUNS/teachers/$name.keras"
done
log "teachers done"

# The student recipe's defaults (training/recipe.py STUDENT) but the slice: pack held it out.
within_sitting distill --data "$DATA" --out "$RUNS/student" --teacher "$RUNS/teachers" \
    --epochs "$STUDENT_EPOCHS" --holdout-fraction 0 --workers "$STUDENT_WORKERS" \
    >"$RUNS/student.out" 2>&1
status=$?
tail -n 3 "$RUNS/student.out"
log "student ended with status $status"
exit $status
