#!/bin/sh
# Every case under test/data/bad-specs/ (jansson style: one directory a
# case, the input beside the expected error): `jcicd validate` exits 2 with
# exactly the expected message, and `jcicd apply` on the same input exits 2
# without touching the cloud (the state database is never even created).
. "$TOP_SRCDIR/test/lib/tap.sh"

for dir in "$TOP_SRCDIR"/test/data/bad-specs/*/; do
	name=$(basename "$dir")
	args=""
	[ -f "$dir/mappings.yaml" ] && args="--mappings mappings.yaml"
	[ -f "$dir/args" ] && args="$args $(cat "$dir/args")"
	expected=$(cat "$dir/error")
	JCICD_STATE_DIR="$T/state-$name"
	cd "$dir" || exit 1
	# shellcheck disable=SC2086
	exits 2 "$name: validate exits 2" "$JCICD" validate spec.yaml $args
	is "$ERR" "$expected" "$name: message names the place"
	case " $args " in *" --tag "*) tag="" ;; *) tag="--tag t1" ;; esac
	# shellcheck disable=SC2086
	exits 2 "$name: apply exits 2" "$JCICD" apply spec.yaml $args $tag --cloud local
	ok "$name: apply made no cloud call" test ! -e "$JCICD_STATE_DIR/jcicd.db"
	cd - >/dev/null || exit 1
done
done_testing
