#!/usr/bin/env bash
# Builds llama.cpp's own tools (llama-quantize, llama-perplexity, llama-imatrix, llama-bench) from
# the llama.cpp tree inside llama-cpp-python's source distribution — the same llama.cpp the
# Python oracle wraps — for by-turns comparisons. Cached: a second run only prints the folder.
#   bash scripts/build-llama-cpp.sh            # prints the bin folder on stdout
# Needs PyPI (the sdist and the `cmake` wheel) and a C/C++ compiler. About 10 minutes on 2 cores.
set -euo pipefail
version="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
root="${QUANTKIT_CACHE:-$HOME/.cache/quantkit-testdata}/llama.cpp-$version"
bin="$root/build/bin"
tools=(llama-quantize llama-perplexity llama-imatrix llama-bench)

have_all() { for t in "${tools[@]}"; do [[ -x "$bin/$t" ]] || return 1; done; }
if have_all; then echo "$bin"; exit 0; fi

mkdir -p "$root"
if [[ ! -d "$root/src" ]]; then
    # The sdist's address from PyPI's simple index (`pip download` would build its metadata first).
    python3 - "$version" "$root/sdist.tar.gz" <<'PY' >&2
import hashlib, re, sys, urllib.request
version, target = sys.argv[1], sys.argv[2]
with urllib.request.urlopen("https://pypi.org/simple/llama-cpp-python/") as r:
    index = r.read().decode()
url, digest = re.search(r'href="([^"#]*llama_cpp_python-%s\.tar\.gz)#sha256=([0-9a-f]+)"' % re.escape(version), index).groups()
urllib.request.urlretrieve(url, target)
with open(target, "rb") as f:
    if hashlib.sha256(f.read()).hexdigest() != digest:
        sys.exit(f"build-llama-cpp: sha256 of {url} does not match the index")
PY
    tar -xzf "$root/sdist.tar.gz" -C "$root"
    mv "$root/llama_cpp_python-$version/vendor/llama.cpp" "$root/src"
    rm -rf "$root/llama_cpp_python-$version" "$root/sdist.tar.gz"
fi
cmake_bin="$(command -v cmake || true)"
if [[ -z "$cmake_bin" ]]; then
    python3 -m pip install --quiet "cmake>=3.24" >&2
    cmake_bin="$(python3 -c 'import cmake, os; print(os.path.join(cmake.CMAKE_BIN_DIR, "cmake"))')"
fi
# Native build (GGML_NATIVE): llama.cpp at its best on this CPU, as a user building it would have it.
"$cmake_bin" -S "$root/src" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DBUILD_SHARED_LIBS=OFF >&2
"$cmake_bin" --build "$root/build" -j "$(nproc)" --target "${tools[@]}" >&2
have_all || { echo "build-llama-cpp: tools missing in $bin" >&2; exit 1; }
echo "$bin"
