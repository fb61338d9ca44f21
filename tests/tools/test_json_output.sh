#!/usr/bin/env bash
# granule-img info|probe|bench --output=json: valid JSON and UTF-8 (Python's
# parser), the schema of docs/granule-img.md (check_json_schema.py reads its
# tables), and the same facts as the text output or as known truths: the
# memory driver's length and limits with their sources, the tree describe()
# prints, escaping of a filename with quotes, control characters and a byte
# that is no UTF-8, probe's values and exit status, bench's counts and
# counters. --output=xml and a missing value are refused, naming them.
#
#   test_json_output.sh GRANULE_IMG DOC PART       PART: info, probe or bench
# Exit 0 pass, 1 fail, 77 skip (probe: no O_DIRECT in the temp dir; a failure
# with GRANULE_NO_SKIP=1).
set -uo pipefail
GI=${1:?usage: $0 GRANULE_IMG DOC PART}
DOC=${2:?}
PART=${3:?}
SCHEMA="python3 $(dirname "$0")/check_json_schema.py $DOC"
command -v python3 >/dev/null || { echo "FAIL: python3 is needed (tools/deps.sh)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# json TYPE WHAT ARGS...: runs granule-img ARGS, checks the schema; the
# document in $tmp/out.json, the exit status in $rc.
json() {
    local type=$1 what=$2
    shift 2
    rc=0
    "$GI" "$@" >"$tmp/out.json" 2>"$tmp/err" || rc=$?
    local problems
    if ! problems=$($SCHEMA "$type" "$tmp/out.json"); then
        fail "$what: not the documented schema:"
        sed 's/^/   | /' <<<"$problems"
        sed 's/^/   > /' "$tmp/out.json" | head -40
    fi
}

# py WHAT SCRIPT ARGS...: a Python check over $tmp/out.json (as `doc`); it
# prints the problems, one a line.
py() {
    local what=$1 script=$2
    shift 2
    local problems
    problems=$(python3 -c "
import json, re, sys
doc = json.load(open(sys.argv[1], encoding='utf-8'))
args = sys.argv[2:]
problems = []
def want(cond, why):
    if not cond: problems.append(why)
$script
print('\n'.join(problems))
" "$tmp/out.json" "$@" 2>&1)
    [ -z "$problems" ] || { fail "$what:"; sed 's/^/   | /' <<<"$problems"; }
}

refused() {  # COMMAND ARGS...: --output=xml and --output without a value
    local out rc=0
    out=$("$GI" "$@" --output=xml 2>&1) || rc=$?
    [ "$rc" = 2 ] && grep -q "unknown format 'xml'" <<<"$out" ||
        fail "$1 --output=xml: exit $rc, $out"
    rc=0
    out=$("$GI" "$@" --output 2>&1) || rc=$?
    [ "$rc" = 2 ] || fail "$1 --output without a value: exit $rc, $out"
}

# The text output parsed, compared with the JSON document (tree, flags, limits).
same_as_text() {  # WHAT SPEC
    "$GI" info "$2" >"$tmp/out.txt" 2>&1 || { fail "$1: the text output failed"; return; }
    py "$1: JSON against the text" '
text = open(args[0], encoding="utf-8", errors="surrogateescape").read()
lines = []
def node(n, depth):
    opts = ",".join(k + "=" + v.replace(",", ",,") for k, v in n["options"].items())
    lines.append("  " * depth + (n["name"] + ": " if n["name"] else "") + n["driver"] + (" (" + opts + ")" if opts else ""))
    lines.extend("  " * depth + "  " + l for l in n["info"])
    for c in n["children"]:
        node(c, depth + 1)
node(doc["tree"], 0)
if doc["backing"]:
    node(doc["backing"]["tree"], 0)
    lines.append("copy-on-read: %s (overlay-granularity %d)" % ("on" if doc["backing"]["copy_on_read"] else "off", doc["backing"]["overlay_granularity"]))
if doc["throttle"]:
    lines.append("throttle: " + ",".join("%s=%d" % kv for kv in doc["throttle"].items()))
yn = lambda b: "yes" if b else "no"
lines += ["format: " + doc["format"]["description"]]
lines += ["length: %d" % doc["length"], "read_only: " + yn(doc["read_only"]), "growable: " + yn(doc["growable"]), "limits:"]
lines += ["  %s: %d (%s)" % (k, v["value"], v["source"]) for k, v in doc["limits"].items()]
got = text.rstrip("\n").split("\n")
want(got == lines, "text and JSON differ:\n" + "\n".join("  text %r\n  json %r" % p for p in zip(got + [""] * 99, lines + [""] * 99) if p[0] != p[1]))
' "$tmp/out.txt"
}

case $PART in
info)
    # The memory driver: its length and the limits its options set.
    spec=driver=memory,size=1M,align=4096,mem-align=512
    json info "info (memory)" info --output=json "$spec"
    [ "$rc" = 0 ] || fail "info --output=json exit $rc: $(cat "$tmp/err")"
    py "info (memory): known values" '
want(doc["schema_version"] == 1, "schema_version %r" % doc["schema_version"])
want(doc["length"] == 1048576, "length %r" % doc["length"])
want(doc["read_only"] is False and doc["growable"] is False, "flags")
want(doc["tree"]["driver"] == "memory" and doc["tree"]["name"] == "", "tree %r" % doc["tree"])
want(doc["tree"]["options"] == {"align": "4096", "mem-align": "512", "size": "1048576"}, "options %r" % doc["tree"]["options"])
want(doc["backing"] is None and doc["throttle"] == {}, "backing/throttle")
want(doc["format"]["name"] == "raw" and doc["format"]["basis"] == "no_signature" and doc["format"]["evidence"] is None, "format %r" % doc["format"])
L = doc["limits"]
want(list(L) == ["request_alignment", "min_mem_alignment", "opt_mem_alignment", "max_transfer", "opt_transfer", "pwrite_zeroes_alignment", "pdiscard_alignment", "max_pdiscard", "max_iov"], "limit order %r" % list(L))
want(L["request_alignment"] == {"value": 4096, "source": "memory: option align"}, "request_alignment %r" % L["request_alignment"])
want(L["min_mem_alignment"] == {"value": 512, "source": "memory: option mem-align"}, "min_mem_alignment %r" % L["min_mem_alignment"])
want(L["max_transfer"] == {"value": 0, "source": "unlimited"}, "max_transfer %r" % L["max_transfer"])
want(L["opt_transfer"] == {"value": 0, "source": "no preference"}, "opt_transfer %r" % L["opt_transfer"])
'
    same_as_text "info (memory)" "$spec"
    # --output human is the text; --output json (separate word) the JSON.
    [ "$("$GI" info --output human "$spec")" = "$("$GI" info "$spec")" ] || fail "--output human is not the text"
    "$GI" info --output json "$spec" | cmp -s - "$tmp/out.json" || fail "--output json differs from --output=json"

    # A stack with children, a backing tree and throttle limits.
    head -c 100000 /dev/urandom >"$tmp/base.img"
    : >"$tmp/overlay.img"
    spec="driver=blkdebug,align=4k,image.driver=raw-posix,image.filename=$tmp/overlay.img,image.growable=on,backing.filename=$tmp/base.img,copy-on-read=on,overlay-granularity=128k,throttle.iops-write=50,throttle.bps-read=1M"
    json info "info (blkdebug, backing, throttle)" info --output=json "$spec"
    py "info (blkdebug, backing, throttle): known values" '
t = doc["tree"]
want(t["driver"] == "blkdebug" and [c["name"] for c in t["children"]] == ["image"], "tree %r" % t)
want(t["children"][0]["driver"] == "raw-posix" and t["children"][0]["options"].get("growable") == "on", "image %r" % t["children"][0])
b = doc["backing"]
want(b and b["copy_on_read"] is True and b["overlay_granularity"] == 131072 and b["tree"]["name"] == "backing", "backing %r" % b)
want(doc["throttle"] == {"bps-read": 1048576, "iops-write": 50, "burst-ms": 100}, "throttle %r" % doc["throttle"])
want(doc["length"] == 100000, "length %r" % doc["length"])
want(doc["limits"]["request_alignment"] == {"value": 131072, "source": "core: overlay-granularity"}, "request_alignment %r" % doc["limits"]["request_alignment"])
'
    same_as_text "info (blkdebug, backing, throttle)" "$spec"

    # Escaping: quotes, a backslash, control characters, a byte that is no UTF-8, and UTF-8 that is.
    weird=$tmp/$'q"b\\c\x01t\x1f\x7fz\xffe\xcc\x81.img'
    : >"$weird"
    json info "info (a weird filename)" info --output=json "driver=raw-posix,filename=$weird"
    [ "$rc" = 0 ] || fail "info of the weird filename: exit $rc: $(cat "$tmp/err")"
    py "info (a weird filename): escaped" '
name = doc["tree"]["options"]["filename"]
want(name == args[0] + "/q\"b\\c\x01t\x1f\x7fz\ufffde\u0301.img", "filename %r" % name)
raw = open(sys.argv[1], "rb").read()
want(b"\\u0001" in raw and b"\\u001f" in raw and b"\\u007f" in raw and b"\\ufffd" in raw, "control characters not as \\u00XX / \\ufffd")
want(b"\\\"b\\\\c" in raw, "quote and backslash not escaped")
want(b"e\xcc\x81" in raw, "valid UTF-8 not passed through")
' "$tmp"

    refused info driver=memory,size=1M
    ;;

probe)
    head -c 1M /dev/urandom >"$tmp/p.img"
    if ! "$GI" probe "$tmp/p.img" >"$tmp/out.txt" 2>&1 && grep -q "O_DIRECT" "$tmp/out.txt"; then
        why="no O_DIRECT in $tmp: $(head -1 "$tmp/out.txt")"
        [ "${GRANULE_NO_SKIP:-0}" = 1 ] && { echo "FAIL (GRANULE_NO_SKIP=1, would skip): $why"; exit 1; }
        echo "SKIP: $why"
        exit 77
    fi
    for args in "" "-r" "--write-test"; do
        what="probe $args"
        text_rc=0
        "$GI" probe $args "$tmp/p.img" >"$tmp/out.txt" 2>&1 || text_rc=$?
        json probe "$what" probe $args --output=json "$tmp/p.img"
        [ "$rc" = "$text_rc" ] || fail "$what: exit $rc with JSON, $text_rc with text"
        py "$what: JSON against the text" '
text = open(args[0]).read().split("-- scratch file --")[0].split("\n")
rc, ro = int(args[1]), args[2] == "-r"
want(doc["exit_status"] == rc, "exit_status %r, exit %d" % (doc["exit_status"], rc))
want(doc["path"] == args[3] and doc["writable"] == (not ro), "path/writable %r %r" % (doc["path"], doc["writable"]))
want((doc["read_only_reason"] == "-r") if ro else doc["read_only_reason"] is None, "read_only_reason %r" % doc["read_only_reason"])
r = doc["report"]
want("type: %s, %d bytes" % (r["file_type"], r["size"]) in text and r["size"] == 1048576, "type/size %r %r" % (r["file_type"], r["size"]))
methods = [l.split(":")[0] for l in text if re.match(r"^(statx|ioctl|sysfs|dioinfo|trial-read|trial-write):", l)]
want([m["method"] for m in r["methods"]] == methods, "methods %r, text %r" % ([m["method"] for m in r["methods"]], methods))
c = r["chosen"]
line = "chosen (read-write open): request_alignment %d (%s), min_mem_alignment %d (%s)" % (c["request_alignment"]["value"], c["request_alignment"]["source"], c["min_mem_alignment"]["value"], c["min_mem_alignment"]["source"])
want(line in text, "no line %r" % line)
line = "chosen (read-only open): request_alignment %d (%s)" % (c["read_only_request_alignment"]["value"], c["read_only_request_alignment"]["source"])
want(line in text, "no line %r" % line)
t = r["truth"]
if ro:
    want(t["offset"] is None and t["read_offset"], "read-only truth %r" % t)
else:
    want(t["offset"] and "truth: offset %d (trial-write), read offset %d, memory %d" % (t["offset"], t["read_offset"], t["memory"]) in text, "truth %r" % t)
want(r["verdict"]["has_truth"] is True and (r["verdict"]["result"] == "agree") == (rc == 0), "verdict %r, exit %d" % (r["verdict"], rc))
s = doc["scratch"]
if args[2] == "--write-test":
    want(s and s["ok"] and "scratch: " + s["message"] in text and s["report"]["size"] == 2097152, "scratch %r" % s)
else:
    want(s is None, "scratch %r without --write-test" % s)
' "$tmp/out.txt" "$text_rc" "$args" "$tmp/p.img"
    done
    refused probe "$tmp/p.img"
    ;;

bench)
    spec=driver=memory,size=1M,align=4k
    # Unaligned writes: every one read-modify-writes its head and tail block,
    # or is gathered into the run of the one before it (writes_carried).
    json bench "bench -w -m 1" bench -c 1000 -d 8 -s 4k -w -m 1 -P 0x5a --output=json --image-opts "$spec"
    [ "$rc" = 0 ] || fail "bench --output=json exit $rc: $(cat "$tmp/err")"
    py "bench -w -m 1: known values" '
p = doc["parameters"]
want(p == {"operation": "write", "access": "sequential", "count": 1000, "depth": 8, "size": 4096, "offset": 1, "misalign": 1, "step": 4096, "granularity": None, "seed": None, "pattern": 0x5a, "flush_at_end": True}, "parameters %r" % p)
want(doc["completed"] == 1000, "completed %r" % doc["completed"])
s = doc["stats"]
want(s["write_requests"] == 1000 and s["bytes_written"] == 4096000 and s["read_requests"] == 0, "write counters %r" % s)
want(s["rmw_cycles"] == 2 * (1000 - s["writes_carried"]) and s["flush_requests"] == 1 and s["failed_requests"] == 0, "rmw/flush counters %r" % s)
want(doc["seconds"] > 0 and abs(doc["ops_per_second"] * doc["seconds"] - 1000) < 1e-6 * 1000, "ops_per_second %r" % doc["ops_per_second"])
want(abs(doc["bytes_per_second"] - doc["ops_per_second"] * 4096) < 1e-6 * doc["bytes_per_second"], "bytes_per_second %r" % doc["bytes_per_second"])
l = doc["latency_us"]
want(0 <= l["p50"] <= l["p90"] <= l["p99"] <= l["max"], "latency order %r" % l)
'
    # Random aligned reads: nothing bounced, no RMW, one driver request each.
    json bench "bench -r" bench -c 500 -d 4 -s 4k -r -g 8k --seed 7 --output=json --image-opts "$spec"
    py "bench -r: known values" '
p = doc["parameters"]
want(p["operation"] == "read" and p["access"] == "random" and p["granularity"] == 8192 and p["step"] is None and p["seed"] == 7 and p["flush_at_end"] is False, "parameters %r" % p)
s = doc["stats"]
want(doc["completed"] == 500 and s["read_requests"] == 500 and s["bytes_read"] == 2048000, "read counters %r" % s)
want(s["rmw_cycles"] == 0 and s["bytes_bounced"] == 0 and s["driver_requests"] == 500 and s["flush_requests"] == 0, "aligned read counters %r" % s)
'
    # The text run reports the same counters.
    "$GI" bench -c 300 -d 4 -s 4k -w -m 1 --image-opts "$spec" >"$tmp/out.txt" 2>&1
    json bench "bench (text)" bench -c 300 -d 4 -s 4k -w -m 1 --output=json --image-opts "$spec"
    py "bench: JSON counters against the text" '
text = open(args[0]).read()
for k in ("rmw_cycles", "bytes_bounced"):
    want("%s: %d\n" % (k, doc["stats"][k]) in text, "%s: %d not in the text" % (k, doc["stats"][k]))
' "$tmp/out.txt"
    refused bench --image-opts "$spec"
    ;;
*)
    echo "unknown PART '$PART' (info, probe, bench)"
    exit 2
    ;;
esac
[ "$failures" -eq 0 ] || exit 1
echo "$PART --output=json checks passed"
