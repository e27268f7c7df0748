#!/bin/sh
# make-git-repo.sh DIR [PACKAGE]: turns examples/packages/PACKAGE (default
# hello-jcicd) into a git repository at DIR (branch main, one commit), the
# kind of repository `jcicd build` watches.  Does nothing when DIR is a git
# repository already.  To make a change the build server picks up:
#   echo "# $(date)" >>DIR/README && git -C DIR commit -qam "a change"
set -eu
dir=${1:?usage: make-git-repo.sh DIR [PACKAGE]}
pkg=${2:-hello-jcicd}
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$here/$pkg/debian" ] || { echo "make-git-repo.sh: no package $pkg in $here" >&2; exit 2; }
if [ -d "$dir/.git" ]; then
	echo "$dir is a git repository already"
	exit 0
fi
mkdir -p "$dir"
cp -R "$here/$pkg/." "$dir/"
chmod -R u+w "$dir"
cd "$dir"
git init -q -b main
git add -A
git -c user.name=jcicd -c user.email=jcicd@localhost commit -q -m "$pkg: import from jcicd's examples"
echo "$dir: git repository of $pkg at $(git rev-parse --short HEAD) (branch main)"
