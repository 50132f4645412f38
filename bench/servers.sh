# shellcheck shell=bash
# bench/servers.sh — what bench/run and bench/desktop share: the processes they start
# (killed by PID with their whole trees on exit), the bench account, the Rampart release
# build, and the three servers under test on 127.0.0.1. Sourced, not run.
#
# The sourcing script sets before bench_init:
#   SESSION_CMD   the session's program, e.g. "xterm -geometry 80x24+0+0" (Rampart's
#                 default_command, xrdp's window manager script, the shadow display's xterm)
#   SHADOW_SIZE   WxH of the Xvfb that freerdp-shadow shares
#   BIN           the rampart binary (bench_build sets it)
# start_<server> sets SRV (process-tree roots to measure), PORT, LUSER, SEC; stop_server
# ends SRV's trees.

UNIX_USER=rampart-bench RUSER=bench PASS='Correct-Horse-Battery-42!'
BENCH_PKGS=(xvfb xterm xdotool freerdp2-x11 freerdp2-shadow-x11 winpr-utils xrdp xorgxrdp
    xserver-xorg-core xserver-xorg-video-dummy python3 python3-venv procps iproute2)

die() { echo "bench: error: $*" >&2; exit 2; }
note() { echo "bench: $*" >&2; }
uint() { [[ "$2" =~ ^[0-9]+$ ]] && (($2 <= $3)) || die "$1 must be an integer 0..$3"; }
now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- processes, cleanup
ROOTS=() # process-tree roots we started: killed with all descendants on exit
descendants() { # PID... -> those PIDs and all their descendants
    ps -eo pid=,ppid= | awk -v roots="$*" '
        { kids[$2] = kids[$2] " " $1 }
        END { n = split(roots, q, " "); for (i = 1; i <= n; i++) { print q[i]; m = split(kids[q[i]], k, " "); for (j = 1; j <= m; j++) q[++n] = k[j] } }'
}
kill_tree() { # ROOT... : TERM the trees, wait <= 5 s, KILL what is left
    local pids p i
    pids="$(descendants "$@" | sort -u)"
    [[ -n "$pids" ]] || return 0
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    for i in $(seq 1 50); do
        for p in $pids; do kill -0 "$p" 2>/dev/null && break; p=""; done
        [[ -z "$p" ]] && return 0
        sleep 0.1
    done
    for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
}
end_tree() { # ROOT... : kill_tree, then forget the roots (pids are reused: pid_max may be 32768)
    kill_tree "$@"
    local keep=() r p hit
    for r in "${ROOTS[@]}"; do
        hit=0
        for p; do [[ "$r" == "$p" ]] && hit=1; done
        ((hit)) || keep+=("$r")
    done
    ROOTS=("${keep[@]}")
}
bench_cleanup() {
    local rc=$?
    set +e
    ((${#ROOTS[@]})) && kill_tree "${ROOTS[@]}"
    usermod -L "$UNIX_USER" 2>/dev/null
    if [[ -n "${BENCH_KEEP_TMP:-}" ]]; then note "kept $TMP"; elif [[ -n "${TMP:-}" && -d "$TMP" ]]; then rm -rf -- "$TMP"; fi
    exit "$rc"
}
bench_init() { # NAME : temp dir, traps, the bench account
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    TMP="$(mktemp -d "/tmp/rampart-$1.XXXXXX")"
    chmod 711 "$TMP" # the sessions (as $UNIX_USER) run scripts from here
    id "$UNIX_USER" >/dev/null 2>&1 || useradd --system --create-home --shell /bin/sh "$UNIX_USER"
    echo "$UNIX_USER:$PASS" | chpasswd # xrdp and freerdp-shadow authenticate unix accounts (PAM)
}

tree_rss_kb() { # ROOT... -> summed VmRSS (kB) of the trees
    local p s=0 v
    for p in $(descendants "$@" | sort -u); do
        v="$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)"
        s=$((s + ${v:-0}))
    done
    echo "$s"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # SECONDS FILE REGEX PID : wait until FILE matches REGEX while PID lives
    local end=$(($(now_ms) + $1 * 1000))
    while (($(now_ms) < end)); do
        grep -Eq -- "$3" "$2" 2>/dev/null && return 0
        kill -0 "$4" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
start_xvfb() { # SIZE LOG -> sets XPID XDISP
    local fd="$TMP/displayfd.$RANDOM"
    : >"$fd"
    Xvfb -displayfd 3 -nolisten tcp -noreset -screen 0 "${1}x24" 3>"$fd" >"$2" 2>&1 &
    XPID=$!
    ROOTS+=("$XPID")
    for _ in $(seq 1 100); do
        XDISP="$(tr -dc '0-9' <"$fd")"
        [[ -n "$XDISP" ]] && { XDISP=":$XDISP"; return 0; }
        sleep 0.05
    done
    die "Xvfb did not start (see $2)"
}

# ---------------------------------------------------------------- the rampart binary
# Built from `git archive HEAD` (what is committed, not a half-edited tree) in
# target/bench-src, into the repository's own target dir. `git archive` stamps every file
# with the commit's time, so any new commit (a bench script, a doc) would make cargo
# rebuild the whole workspace: the build is skipped while the committed tree minus
# bench/ and *.md (a stamp next to the binary) has not changed. Sets BIN and REV.
bench_build() {
    local src="$REPO/target/bench-src" stamp="$REPO/target/release/.bench-stamp" key
    BIN="$REPO/target/release/rampart"
    key="$(git -C "$REPO" ls-tree -r HEAD | grep -v -e $'\tbench/' -e '\.md$' | sha256sum | cut -c1-16)"
    REV="release build of commit $(git -C "$REPO" rev-parse --short HEAD)"
    if [[ -x "$BIN" && "$(cat "$stamp" 2>/dev/null)" == "$key" ]]; then
        note "target/release/rampart is already built from this tree (stamp $key)"
        return 0
    fi
    rm -rf -- "$src" "$stamp"
    mkdir -p "$src"
    git -C "$REPO" archive HEAD | tar -x -C "$src" || die "git archive failed"
    (cd "$src" && CARGO_TARGET_DIR="$REPO/target" CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" \
        cargo build --release -p rampart) || { rm -rf -- "$src"; die "cargo build failed"; }
    rm -rf -- "$src"
    echo "$key" >"$stamp"
}

# ---------------------------------------------------------------- servers
start_rampart() {
    RAMPART_DIR="$TMP/rampart"
    if [[ ! -d "$RAMPART_DIR" ]]; then
        mkdir -p "$RAMPART_DIR/state"
        printf '[session]\ndefault_command = "exec %s"\nuse_xsession = false\n\n# Benchmarks measure the password login against peers without a second factor.\n[auth]\nmfa = "optional"\n' \
            "$SESSION_CMD" >"$RAMPART_DIR/rampart.toml"
        echo "$PASS" | "$BIN" user add "$RUSER" --no-mfa --unix-user "$UNIX_USER" --password-stdin \
            --state-dir "$RAMPART_DIR/state" --config "$RAMPART_DIR/rampart.toml" >"$RAMPART_DIR/useradd.log" 2>&1 ||
            die "rampart user add failed: $(cat "$RAMPART_DIR/useradd.log")"
    fi
    PORT="$(free_port)"
    "$BIN" serve --listen "127.0.0.1:$PORT" --state-dir "$RAMPART_DIR/state" --config "$RAMPART_DIR/rampart.toml" \
        >>"$RAMPART_DIR/serve.log" 2>&1 &
    SRV=($!)
    ROOTS+=("${SRV[@]}")
    wait_for 60 "$RAMPART_DIR/serve.log" "rampart: listening on 127.0.0.1:$PORT" "${SRV[0]}" ||
        die "rampart serve did not start: $(tail -5 "$RAMPART_DIR/serve.log")"
    LUSER="$RUSER" SEC=nla
}

start_shadow() {
    local d="$TMP/shadow"
    mkdir -p "$d"
    start_xvfb "$SHADOW_SIZE" "$d/xvfb.log"
    local xv="$XPID"
    # shellcheck disable=SC2086 # SESSION_CMD is a command line
    DISPLAY="$XDISP" HOME="$d" $SESSION_CMD >/dev/null 2>&1 &
    local xt=$!
    ROOTS+=("$xt")
    command -v winpr-hash >/dev/null || die "winpr-hash missing (--install)"
    echo "$UNIX_USER:::$(winpr-hash -u "$UNIX_USER" -p "$PASS"):::" >"$d/sam"
    PORT="$(free_port)"
    DISPLAY="$XDISP" freerdp-shadow-cli "/bind-address:127.0.0.1" "/port:$PORT" /sec:nla +auth \
        "/sam-file:$d/sam" >>"$d/shadow.log" 2>&1 &
    local sp=$!
    ROOTS+=("$sp")
    SRV=("$sp" "$xv" "$xt")
    local i
    for i in $(seq 1 100); do
        ss -ltn "sport = :$PORT" | grep -q LISTEN && break
        kill -0 "$sp" 2>/dev/null || die "freerdp-shadow-cli exited: $(tail -5 "$d/shadow.log")"
        sleep 0.1
    done
    LUSER="$UNIX_USER" SEC=nla
}

start_xrdp() {
    local d="$TMP/xrdp" p
    mkdir -p "$d"
    chmod 755 "$d"
    # xrdp finds sesman through the ListenPort of /etc/xrdp/sesman.ini (3350): keep it.
    ss -ltn 'sport = :3350' | grep -q LISTEN && die "port 3350 (xrdp-sesman) is in use by another process"
    printf '#!/bin/sh\nexec %s\n' "$SESSION_CMD" >"$d/wm.sh"
    chmod 755 "$d/wm.sh"
    PORT="$(free_port)"
    XRDP_LOG="$d/xrdp.log"
    sed -e "0,/^port=/s|^port=.*|port=tcp://127.0.0.1:$PORT|" -e "s|^LogFile=.*|LogFile=$XRDP_LOG|" \
        -e 's|^EnableSyslog=.*|EnableSyslog=false|' /etc/xrdp/xrdp.ini >"$d/xrdp.ini"
    sed -e "s|^DefaultWindowManager=.*|DefaultWindowManager=$d/wm.sh|" \
        -e 's|^EnableUserWindowManager=.*|EnableUserWindowManager=false|' \
        -e "s|^LogFile=.*|LogFile=$d/sesman.log|" -e 's|^EnableSyslog=.*|EnableSyslog=false|' \
        /etc/xrdp/sesman.ini >"$d/sesman.ini"
    # Stale pid files from a killed earlier run make xrdp refuse to start.
    mkdir -p /run/xrdp/sockdir
    chmod 3777 /run/xrdp/sockdir
    for f in /run/xrdp/xrdp.pid /run/xrdp/xrdp-sesman.pid; do
        [[ -f "$f" ]] || continue
        p="$(tr -dc 0-9 <"$f")"
        [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null && die "$f: another xrdp is running (pid $p)"
        rm -f "$f"
    done
    : >"$XRDP_LOG"
    xrdp-sesman --nodaemon --config "$d/sesman.ini" >>"$d/sesman.out" 2>&1 &
    local sp=$!
    ROOTS+=("$sp")
    xrdp --nodaemon --config "$d/xrdp.ini" >>"$d/xrdp.out" 2>&1 &
    local xp=$!
    ROOTS+=("$xp")
    SRV=("$xp" "$sp")
    for p in $(seq 1 100); do
        ss -ltn "sport = :$PORT" | grep -q LISTEN && ss -ltn 'sport = :3350' | grep -q LISTEN && break
        kill -0 "$xp" 2>/dev/null && kill -0 "$sp" 2>/dev/null || die "xrdp exited: $(tail -3 "$d/xrdp.out" "$d/sesman.out")"
        sleep 0.1
    done
    LUSER="$UNIX_USER" SEC=tls
}

stop_server() {
    end_tree "${SRV[@]}"
    sleep 1
}
