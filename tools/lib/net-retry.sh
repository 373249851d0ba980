# Sourced by the shell tools that fetch from Debian's archive. The archive is the one network this machine has, and
# its name lookups fail for a minute at a time now and then ("Temporary failure resolving 'deb.debian.org'", seen in
# CI); one such failure must not cost a CI run. net_retry runs a command up to 6 times, 5 s after the first failure,
# doubling to 80 s (about 2.5 min in all), saying on stderr what failed and when it tries again.
#   usage: net_retry WHAT COMMAND...
net_retry() {
  local what=$1 delay=5 attempt
  shift
  for attempt in 1 2 3 4 5 6; do
    "$@" && return 0
    ((attempt < 6)) || break
    echo "eve-qual: $what failed (attempt $attempt of 6); trying again in ${delay} s" >&2
    sleep "$delay"
    delay=$((delay * 2))
  done
  echo "eve-qual: $what failed 6 times; is Debian's archive reachable (apt-get update)?" >&2
  return 1
}
