# shellcheck shell=bash
# bench/env.sh - sourced by bench/compare and bench/models: the environment the two sides of
# a comparison run in (for these commands only, never in tests or CI).

# OpenBLAS and oneDNN pick slower kernels under this environment's
# OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE.
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
# glibc returns PyTorch's freed tensors to the OS and this VM charges ~13 us for every page
# touched again, which makes PyTorch's timings swing 2-10x here. Keeping its memory (as
# cgrad's allocator does) gives the stable, fast baseline we compare against. Prefix every
# PyTorch command with: env "${torch_env[@]}"
# shellcheck disable=SC2034 # used by the scripts that source this file
torch_env=(GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967295)
