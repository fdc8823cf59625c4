#!/usr/bin/env bash
# tensorboard-env.sh prepares TensorBoard's Python code from a source checkout so
# that TensorBoard's own loaders, its HTTP server and PyTorch's
# torch.utils.tensorboard run on a machine where TensorBoard is not packaged
# (Debian ships python3-torch but no tensorboard module).
#
# Usage:  eval "$(tools/tensorboard-env.sh SRC)"
#   SRC   a TensorBoard source tree or git directory (a clone of
#         github.com/tensorflow/tensorboard; TB_SRC in the environment also works).
#
# It copies the tensorboard/ package into a cache directory
# (${TBTRAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tbtrain}/tensorboard-py),
# compiles its .proto files with protoc --python_out, and prints the exports
# that put it on PYTHONPATH and select Debian's python3. Nothing of TensorBoard
# is written into this repository. Needs: protoc (protobuf-compiler), and for
# the scripts that use it Debian's python3-protobuf, python3-numpy,
# python3-werkzeug, python3-markdown, python3-six, python3-packaging, python3-torch,
# python3-pil.
set -euo pipefail
src=${1:-${TB_SRC:-}}
if [ -z "$src" ]; then
  echo "usage: $0 TENSORBOARD_SOURCE (a tree or a git directory)" >&2
  exit 2
fi
cache=${TBTRAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tbtrain}
out=$cache/tensorboard-py
stamp=$out/.source
if [ -d "$src/objects" ] && [ -f "$src/HEAD" ]; then
  id=$(git --git-dir="$src" rev-parse HEAD)
else
  id=$(cd "$src" && git rev-parse HEAD 2>/dev/null || echo "tree:$(cd "$src" && pwd)")
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$id" ]; then
  rm -rf "$out.tmp"
  mkdir -p "$out.tmp"
  if [ -d "$src/objects" ] && [ -f "$src/HEAD" ]; then
    git --git-dir="$src" archive HEAD tensorboard | tar -x -C "$out.tmp"
  else
    cp -r "$src/tensorboard" "$out.tmp/"
  fi
  (cd "$out.tmp" && find tensorboard -name '*.proto' -print0 | xargs -0 protoc -I. --python_out=.)
  # TensorBoard's version module is generated at build time in some releases.
  [ -f "$out.tmp/tensorboard/version.py" ] || echo 'VERSION = "0.0.0-src"' >"$out.tmp/tensorboard/version.py"
  echo "$id" >"$out.tmp/.source"
  rm -rf "$out"
  mv "$out.tmp" "$out"
fi
echo "export PYTHONPATH=\"$out\${PYTHONPATH:+:\$PYTHONPATH}\""
echo "export TBTRAIN_PYTHON=/usr/bin/python3"
