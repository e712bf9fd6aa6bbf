#!/bin/sh
# `make deb`: build dist/indi-seestar_<version>_all.deb from this tree with Debian's tools
# (dpkg-buildpackage: debhelper + dh-python/pybuild) and check it with lintian.
# The tree is copied to build/deb/ with packaging/debian as its debian/, so the checkout gets
# no debian/ directory and no build leftovers. Exits non-zero on a lintian error.
set -eu
# Debian's tools and Python only: not a virtualenv that `make` put first on PATH.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
unset VIRTUAL_ENV PYTHONPATH PYTHONHOME
export PATH
top=$(cd "$(dirname "$0")/.." && pwd)
version=$(dpkg-parsechangelog -l "$top/packaging/debian/changelog" -SVersion)
project=$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
    "$top/pyproject.toml")
if [ "$version" != "$project" ]; then
    echo "packaging/debian/changelog says $version but pyproject.toml says $project:" \
         "add a changelog entry (dch -c packaging/debian/changelog -v $project)" >&2
    exit 1
fi
stage="$top/build/deb"
rm -rf "$stage"
mkdir -p "$stage/src" "$top/dist"
tar -C "$top" --exclude-vcs --exclude=./.venv --exclude=./build --exclude=./dist \
    --exclude='*.egg-info' --exclude=__pycache__ --exclude=.pytest_cache --exclude=.hypothesis \
    -cf - . | tar -C "$stage/src" -xf -
cp -R "$top/packaging/debian" "$stage/src/debian"
(cd "$stage/src" && dpkg-buildpackage -b -us -uc --no-check-builddeps >"$stage/build.log" 2>&1) || {
    tail -n 40 "$stage/build.log" >&2
    echo "dpkg-buildpackage failed; the whole log is $stage/build.log" >&2
    exit 1
}
deb="indi-seestar_${version}_all.deb"
mv "$stage/$deb" "$top/dist/$deb"
echo "built dist/$deb"
# root (CI, a Pi image build) is fine for checking a finished package
as_root=$([ "$(id -u)" = 0 ] && echo --allow-root || true)
lintian $as_root --fail-on error --display-info "$top/dist/$deb"
