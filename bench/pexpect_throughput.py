# pexpect's side of console-throughput: fdpexpect on a TCP socket, maxread=65536, no searchwindowsize (its fastest
# setting that still finds every match), the same marker and fail patterns, the raw log written to disk.
import json, re, resource, socket, sys, time
from pexpect import fdpexpect

port, log_path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
fails = [re.compile(rb'Kernel panic - not syncing'), re.compile(rb'Oops: '), re.compile(rb'(?m)^FATAL: '),
         re.compile(rb'Installation failed')]
t0 = time.perf_counter()
sock = socket.create_connection(('127.0.0.1', port))
with open(log_path, 'wb') as log:
    child = fdpexpect.fdspawn(sock.fileno(), maxread=65536, logfile=log, timeout=120)
    found = 0
    for i in range(count):
        idx = child.expect([re.compile(b'eve-qual-bench marker %04d reached' % i)] + fails)
        if idx != 0:
            break
        found += 1
seconds = time.perf_counter() - t0
sock.close()
print(json.dumps({'seconds': seconds, 'found': found,
                  'maxRssKb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
